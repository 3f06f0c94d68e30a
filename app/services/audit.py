"""The audit journal (DESIGN.md §11): one append-only, hash-chained table for every write
(before → after of each changed field), every workflow action, login, export and download of
personal data — who, when, from which address and browser.

How rows are written:
- `record(by, action, obj, detail)` (services, logins, downloads) queues a readable row in the
  session; nothing is written until the caller commits, and a rollback forgets it.
- a `before_flush` listener queues the field changes of the business models (AUDITED) — a
  create, an update (changed fields only, timestamps and search keys left out, secrets masked
  « *** »), a delete, and many-to-many collections such as a user's roles (old → new names).
- at commit, a workflow action's row takes the field changes of its object (one readable row,
  not two); the rows are chained under a lock (PostgreSQL advisory lock held to the commit,
  SQLite's write lock), each carrying the previous row's hash.

The hash covers a digest of the personal text (detail, changes, names, address), not the
text: `desidentifier` may replace that text later and `verifier` still checks the chain.
On PostgreSQL a trigger (migration 0012) refuses UPDATE/DELETE on audit_log except inside
`desidentifier`, which sets the transaction variable `clea.audit_desidentification`."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, event, inspect, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.models import AuditLog
from app.models.audit import GENESIS, canonical, content_digest, row_hash

from .dates import parse_date
from .errors import RuleError
from .pages import Page, paginate

PENDING = "clea_audit_pending"
SCRUB = "clea_audit_scrub"
ANONYME = "[anonymisé]"
MASQUE = "***"
ANONYMISATION = "anonymisation"
LOCK_KEY = 0x0C1EA0A0D17  # pg_advisory_xact_lock key of the journal's chain
PAGE_SIZE = 50

# The business models whose writes are journaled (class names). Not the journal itself, the
# e-mail outbox, notifications and their preferences, job locks, account tokens, counters,
# the référentiel (loaded by `flask clea init`), FAB's permission tables, nor the status
# history (the journal has the same change on the dossier).
AUDITED = {
    "Reseau", "Organisme", "Etablissement", "Branche", "Certificateur", "Utilisateur",
    "Habilitation", "Candidat", "Candidature", "Evaluation", "ResultatEvaluation", "Formation",
    "Document", "Rattachement", "SessionJury", "MembreJury", "DecisionJury", "Certificat",
    "LotEnvoi", "EnvoiCertificat", "Actualite", "MotifType",
}
# Fields whose change is not worth a row: timestamps, counters, derived search keys.
IGNORED = {
    "id", "created_on", "updated_on", "changed_on", "created_by_fk", "changed_by_fk",
    "last_login", "login_count", "fail_login_count", "cle_identite", "recherche",
    "recherche_usage", "recherche_prenom", "version", "session_generation",
}
_SECRET = re.compile(r"password|secret|token|totp|otp|recovery|code_secours", re.I)
# A person's fields replaced by « [anonymisé] » in the journal when they are de-identified.
PERSONAL_FIELDS = {
    "civilite", "nom_naissance", "nom_usage", "prenoms", "date_naissance", "commune_naissance",
    "departement_naissance", "pays_naissance", "email", "telephone", "adresse", "code_postal",
    "ville",
}
# Rows attached to a dossier through their candidature_id column.
_DOSSIER_CHILDREN = {"Evaluation", "Formation", "Document", "DecisionJury", "Certificat",
                     "Rattachement"}

ACTION_LABELS = {
    "creer": _l("Création"), "modifier": _l("Modification"), "supprimer": _l("Suppression"),
    "connexion": _l("Connexion"), "connexion_refusee": _l("Connexion refusée"),
    "verrouiller": _l("Verrouillage du compte"), ANONYMISATION: _l("Anonymisation"),
    "telecharger_document": _l("Téléchargement d'un document"),
    "exporter": _l("Export de données"),
    "abandonner": _l("Abandon du dossier"),
    "activer": _l("Réactivation du compte"),
    "activer_2fa": _l("Activation de la double authentification"),
    "ajouter_formation": _l("Ajout d'une formation"),
    "ajouter_membre_jury": _l("Ajout d'un membre du jury"),
    "annuler_session_jury": _l("Annulation de la session de jury"),
    "annuler_envoi": _l("Annulation de l'envoi en certification"),
    "changer_mot_de_passe": _l("Changement du mot de passe"),
    "cloturer_session_jury": _l("Clôture de la session de jury"),
    "code_2fa_refuse": _l("Code de vérification refusé"),
    "code_secours_utilise": _l("Code de secours utilisé"),
    "completer_candidature": _l("Réponse à une demande de compléments"),
    "connexion_ralentie": _l("Connexion retardée (trop d'échecs)"),
    "contacter_support": _l("Demande au support"),
    "creer_evaluation": _l("Création de l'évaluation"),
    "creer_session_jury": _l("Programmation d'une session de jury"),
    "decider_habilitation": _l("Décision sur une habilitation"),
    "decider_habilitations_en_lot": _l("Décision groupée sur des habilitations"),
    "decider_rattachement": _l("Décision sur un rattachement"),
    "decider_rattachements_en_lot": _l("Décision groupée sur des rattachements"),
    "decision_jury": _l("Décision du jury"),
    "deplacer_dossier_jury": _l("Dossier déplacé vers une autre session"),
    "deconnexion": _l("Déconnexion"),
    "definir_mot_de_passe": _l("Définition du mot de passe"),
    "demande_reinitialisation": _l("Demande de réinitialisation du mot de passe"),
    "demander_habilitation": _l("Demande d'habilitation"),
    "demander_rattachement": _l("Demande de rattachement"),
    "deposer_certificat_signe": _l("Dépôt du certificat signé"),
    "deposer_document": _l("Dépôt d'un document"),
    "desactiver_2fa": _l("Désactivation de la double authentification"),
    "enregistrer_envois": _l("Enregistrement d'envois de certificats"),
    "reexpedier_envoi": _l("Réexpédition d'un certificat revenu"),
    "signaler_retour_envoi": _l("Retour d'un certificat envoyé"),
    "telecharger_dossier_de_seance": _l("Téléchargement du dossier de séance"),
    "enregistrer_evaluation": _l("Enregistrement de l'évaluation"),
    "envoyer_en_certification": _l("Envoi en certification"),
    "envoyer_reinitialisation": _l("Envoi d'un lien de réinitialisation"),
    "exporter_adresses": _l("Export des adresses d'envoi"),
    "exporter_donnees_personnelles": _l("Export des données personnelles"),
    "fin_session": _l("Fin de session"),
    "fin_sessions": _l("Fin de toutes les sessions"),
    "finaliser_evaluation": _l("Finalisation de l'évaluation"),
    "modifier_profil": _l("Modification du profil"),
    "modifier_session_jury": _l("Modification de la session de jury"),
    "ouvrir_session_jury": _l("Ouverture de la session de jury"),
    "regenerer_codes_secours": _l("Régénération des codes de secours"),
    "reinitialiser_2fa": _l("Réinitialisation de la double authentification"),
    "reintegrer": _l("Réintégration du dossier"),
    "reprendre_parcours": _l("Reprise du parcours"),
    "retention": _l("Application des durées de conservation"),
    "retirer_membre_jury": _l("Retrait d'un membre du jury"),
    "rouvrir_evaluation": _l("Réouverture de l'évaluation"),
    "supprimer_document": _l("Suppression d'un document"),
    "telecharger_certificat": _l("Téléchargement du certificat"),
    "telecharger_credential": _l("Téléchargement du certificat numérique (Open Badges)"),
    "telecharger_matrice": _l("Téléchargement de la matrice"),
    "telecharger_proces_verbal": _l("Téléchargement du procès-verbal"),
    "vote_jury": _l("Vote d'un membre du jury"),
}
# The filter's choices (a datalist: any other value may be typed).
KNOWN_ACTIONS = (
    "connexion", "connexion_refusee", "verrouiller", "creer", "modifier", "supprimer",
    "activer", "suspendre", "changer_mot_de_passe", "definir_mot_de_passe",
    "envoyer_reinitialisation", "demande_reinitialisation", "modifier_profil", "abandonner",
    "reintegrer", "creer_evaluation", "enregistrer_evaluation", "finaliser_evaluation",
    "rouvrir_evaluation", "deposer_document", "supprimer_document", "telecharger_document",
    "telecharger_matrice", "telecharger_certificat", "telecharger_credential",
    "telecharger_proces_verbal",
    "exporter_parcours", "exporter_facturation", "exporter_registre", "exporter_adresses",
    "exporter_journal", "envoyer_en_certification", "annuler_envoi", "vote_jury", "decision_jury",
    "demander_habilitation", "decider_habilitation", "demander_rattachement",
    "decider_rattachement", "decider_habilitations_en_lot", "decider_rattachements_en_lot", "signaler_retour_envoi",
    "reexpedier_envoi", "telecharger_dossier_de_seance", ANONYMISATION,
)
KNOWN_TYPES = tuple(sorted(AUDITED - {"ResultatEvaluation"}))
TYPE_LABELS = {
    "Candidature": _l("Dossier"), "Candidat": _l("Candidat"), "Utilisateur": _l("Utilisateur"),
    "Evaluation": _l("Évaluation"), "Document": _l("Document"),
}


# --- writing ------------------------------------------------------------------------------

def record(by: Any, action: str, obj: Any = None, detail: Optional[str] = None,
           changes: Optional[dict] = None) -> None:
    """Queue one readable row (written when the caller commits). `changes` is
    {field: [before, after]}; the object's own field changes are added at commit."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # the row lives and dies with this transaction
    entry = _entry(by, action, obj, explicit=True)
    entry["detail"] = detail
    if changes:
        entry["changes"].update(changes)
    _pending(session).append(entry)


def consigner(by: Any, action: str, obj: Any = None, detail: Optional[str] = None) -> None:
    """Record a read of personal data (download, export) and commit it at once: the file is
    sent after, whatever happens to the request."""
    record(by, action, obj, detail)
    db.session.commit()


def filtres_texte(args: Any) -> str:
    """The filters of an export, as the row's detail (« debut=2026-01-01, niveau=3 »)."""
    items = args.items() if hasattr(args, "items") else args
    return ", ".join(f"{k}={v}" for k, v in items if v not in (None, "") and k != "jeton")


def _request_info() -> tuple[Optional[str], Optional[str]]:
    from flask import has_request_context, request

    if not has_request_context():
        return None, None
    # ProxyFix (configured for the trusted proxies) makes remote_addr the client's address;
    # access_route[0] alone could be forged by any client sending X-Forwarded-For.
    ip = request.remote_addr or (request.access_route[0] if request.access_route else None)
    agent = request.headers.get("User-Agent")
    return (ip or None), ((agent or "")[:255] or None)


def _user_name(by: Any) -> Optional[str]:
    if by is None or getattr(by, "id", None) is None:
        return None
    name = f"{getattr(by, 'first_name', '') or ''} {getattr(by, 'last_name', '') or ''}".strip()
    login = getattr(by, "username", None)
    return (f"{name} ({login})" if login else name)[:255] or None


def _current_actor() -> Any:
    try:
        from app.security.perimeter import actor

        user = actor()
    except Exception:  # outside a request (CLI, jobs): the system
        return None
    return user if getattr(user, "id", None) is not None else None


def _entry(by: Any, action: str, obj: Any, explicit: bool) -> dict:
    ip, agent = _request_info()
    return {"action": action, "obj": obj, "explicit": explicit, "user_id": getattr(by, "id", None),
            "user_name": _user_name(by), "ip": ip, "user_agent": agent, "detail": None,
            "changes": {}, "created_on": dt.datetime.now()}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return str(value)


def _value(name: str, value: Any) -> Any:
    """A secret's values never reach the journal, not even whether it was empty."""
    return MASQUE if _SECRET.search(name) else _jsonable(value)


def _changes(state, kind: str) -> dict:
    """{field: [before, after]} of an object being created, updated or deleted; only loaded
    values are read (no query)."""
    out: dict = {}
    mapper = state.mapper
    for attr in mapper.column_attrs:
        key = attr.key
        if key in IGNORED:
            continue
        if kind == "creer":
            value = state.dict.get(key)
            if value is not None:
                out[key] = [None, _value(key, value)]
        elif kind == "supprimer":
            value = state.dict.get(key)
            if value is not None:
                out[key] = [_value(key, value), None]
        else:
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if _jsonable(before) != _jsonable(after):
                out[key] = [_value(key, before), _value(key, after)]
    for rel in mapper.relationships:
        if rel.secondary is None or not rel.uselist:
            continue
        key = rel.key
        if kind == "creer":
            items = state.dict.get(key) or []
            if items:
                out[key] = [[], sorted(str(i) for i in items)]
        elif kind == "modifier":
            history = state.attrs[key].history
            if history.added or history.deleted:
                before = sorted(str(i) for i in list(history.unchanged) + list(history.deleted))
                after = sorted(str(i) for i in list(history.unchanged) + list(history.added))
                if before != after:
                    out[key] = [before, after]
    return out


def _parent_of_resultat(session: Session, state):
    """A grid line's change belongs to its evaluation's row."""
    parent = state.dict.get("evaluation")
    if parent is None and state.dict.get("evaluation_id") is not None:
        from app.models import Evaluation

        parent = session.identity_map.get(identity_key(Evaluation, state.dict["evaluation_id"]))
    return parent


def _prefix_resultat(session: Session, state, changes: dict) -> dict:
    from app.models import SousDomaine

    sd_id = state.dict.get("sous_domaine_id")
    sd = session.identity_map.get(identity_key(SousDomaine, sd_id)) if sd_id else None
    label = getattr(sd, "code", None) or sd_id
    return {f"{label} · {k}": v for k, v in changes.items()
            if k not in ("evaluation_id", "sous_domaine_id")}


def _before_flush(session: Session, _context, _instances) -> None:
    pending = None
    by = None
    for kind, objects in (("creer", session.new), ("modifier", session.dirty),
                          ("supprimer", session.deleted)):
        for obj in list(objects):
            name = type(obj).__name__
            if name not in AUDITED:
                continue
            state = inspect(obj)
            if kind == "modifier" and not session.is_modified(obj, include_collections=True):
                continue
            changes = _changes(state, kind)
            if kind == "modifier" and not changes:
                continue  # only timestamps moved: not worth a row
            target, action = obj, kind
            if name == "ResultatEvaluation":
                parent = _parent_of_resultat(session, state)
                if parent is None:
                    continue
                target, action = parent, "modifier"
                changes = _prefix_resultat(session, state, changes)
                if not changes:
                    continue
            if pending is None:
                pending = _pending(session)
                by = _current_actor()
            _merge_auto(pending, by, action, target, changes)


def _do_orm_execute(orm_execute_state) -> None:
    """A compare-and-set UPDATE of one row (`update(Model).where(Model.id == x, ...)`, the
    status machine's way) does not go through the flush: its new values join the journal
    here, the old ones read from the object loaded in the session (no query)."""
    if not orm_execute_state.is_update:
        return
    try:
        statement = orm_execute_state.statement
        entity = statement.entity_description.get("entity")
        if entity is None or entity.__name__ not in AUDITED:
            return
        row_id = None
        for criterion in statement._where_criteria:
            left, right = getattr(criterion, "left", None), getattr(criterion, "right", None)
            if getattr(left, "key", None) == "id" and hasattr(right, "value"):
                row_id = right.value
        session = orm_execute_state.session
        obj = session.identity_map.get(identity_key(entity, row_id)) if row_id else None
        if obj is None:
            return
        before = inspect(obj).dict
        changes = {}
        for column, value in statement._values.items():
            key = getattr(column, "key", column)
            if key in IGNORED or not hasattr(value, "value"):
                continue
            old, new = before.get(key), value.value
            if _jsonable(old) != _jsonable(new):
                changes[key] = [_value(key, old), _value(key, new)]
    except Exception:  # the journal never breaks a write; the explicit row still says it
        return
    if changes:
        _merge_auto(_pending(session), _current_actor(), "modifier", obj,
                    changes)


class _Pending(list):
    """The journal's entries waiting for the commit, and each object's automatic entry (by
    the object's id) for _merge_auto: looking it up by a scan of the list made a flush of
    n new rows cost n² (12 000 rows of an import: 26 s)."""

    def __init__(self, entries=()):
        super().__init__(entries)
        self.auto: dict[int, dict] = {}
        for entry in self:
            if not entry["explicit"]:
                self.auto.setdefault(id(entry["obj"]), entry)

    def append(self, entry) -> None:
        super().append(entry)
        if not entry["explicit"]:
            self.auto.setdefault(id(entry["obj"]), entry)


def _pending(session: Session) -> _Pending:
    pending = session.info.get(PENDING)
    if not isinstance(pending, _Pending):
        pending = session.info[PENDING] = _Pending(pending or ())
    return pending


def _merge_auto(pending: _Pending, by: Any, action: str, obj: Any, changes: dict) -> None:
    entry = pending.auto.get(id(obj))
    if entry is not None and entry["obj"] is obj:
        for key, (before, after) in changes.items():
            if key in entry["changes"]:
                entry["changes"][key][1] = after
            else:
                entry["changes"][key] = [before, after]
        if action == "supprimer":
            entry["action"] = "supprimer"
        return
    entry = _entry(by, action, obj, explicit=False)
    entry["changes"] = {k: list(v) for k, v in changes.items()}
    pending.append(entry)


def _combine(pending: list) -> list:
    """A workflow action's row takes its object's field changes: one row, not two."""
    explicit_of = {}
    for entry in pending:
        if entry["explicit"] and entry["obj"] is not None:
            explicit_of.setdefault(id(entry["obj"]), entry)
    rows = []
    for entry in pending:
        owner = explicit_of.get(id(entry["obj"])) if entry["obj"] is not None else None
        if not entry["explicit"] and owner is not None:
            for key, value in entry["changes"].items():
                owner["changes"].setdefault(key, value)
            continue
        rows.append(entry)
    return rows


def _identity(obj: Any) -> Optional[int]:
    try:
        state = inspect(obj)
    except Exception:
        return getattr(obj, "id", None)
    if getattr(state, "identity", None):
        return state.identity[0]
    return getattr(state, "dict", {}).get("id") if hasattr(state, "dict") else None


def _links(session: Session, rows: list) -> None:
    """Fill each row's object id, dossier and person (one query for the dossiers' persons not
    already in the session)."""
    from app.models import Candidature

    missing = set()
    for entry in rows:
        obj = entry["obj"]
        entry["object_type"] = type(obj).__name__ if obj is not None else ""
        entry["object_id"] = _identity(obj) if obj is not None else None
        entry["candidature_id"] = entry["candidat_id"] = None
        name = entry["object_type"]
        values = inspect(obj).dict if name in AUDITED else {}
        if name == "Candidat":
            entry["candidat_id"] = entry["object_id"]
        elif name == "Candidature":
            entry["candidature_id"] = entry["object_id"]
            entry["candidat_id"] = values.get("candidat_id")
        elif name in _DOSSIER_CHILDREN:
            entry["candidature_id"] = values.get("candidature_id") or _loaded(obj, "candidature_id")
        if entry["candidature_id"] and entry["candidat_id"] is None:
            known = session.identity_map.get(identity_key(Candidature, entry["candidature_id"]))
            if known is not None and inspect(known).dict.get("candidat_id") is not None:
                entry["candidat_id"] = inspect(known).dict["candidat_id"]
            else:
                missing.add(entry["candidature_id"])
    if missing:
        found = dict(session.execute(select(Candidature.id, Candidature.candidat_id).where(
            Candidature.id.in_(missing))).all())
        for entry in rows:
            if entry["candidat_id"] is None and entry["candidature_id"] in found:
                entry["candidat_id"] = found[entry["candidature_id"]]


def _loaded(obj: Any, key: str) -> Any:
    """An attribute expired by an earlier commit (a workflow row recorded on an object the
    caller committed before): loaded again, or None if it cannot be."""
    try:
        return getattr(obj, key, None)
    except Exception:  # noqa: BLE001  (a deleted or detached row: the journal keeps going)
        return None


def _lock_chain(session: Session) -> Optional[str]:
    """Serialise the writers of the chain until the commit, then read its last hash."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    else:  # SQLite: take the database's write lock now (a write matching no row)
        session.execute(text("UPDATE audit_log SET id = id WHERE 1 = 0"))
    return session.execute(select(AuditLog.hash).order_by(AuditLog.id.desc()).limit(1)
                           ).scalar()


def _before_commit(session: Session) -> None:
    session.flush()  # the last field changes join the queue, new objects get their ids
    pending = session.info.pop(PENDING, [])
    if not pending:
        return
    rows = _combine(pending)
    _links(session, rows)
    scrub = session.info.get(SCRUB) or {}
    previous = _lock_chain(session) or GENESIS
    for entry in rows:
        _scrub_pending(entry, scrub)
        changes = canonical(entry["changes"]) if entry["changes"] else None
        digest = content_digest(entry["detail"], changes, entry["user_name"], entry["ip"],
                                entry["user_agent"])
        action = (entry["action"] or "")[:60]
        object_type = entry["object_type"][:60]
        created = entry["created_on"]
        current = row_hash(previous, created, entry["user_id"], action, object_type,
                           entry["object_id"], entry["candidature_id"], entry["candidat_id"],
                           digest)
        session.add(AuditLog(
            created_on=created, user_id=entry["user_id"], action=action,
            object_type=object_type, object_id=entry["object_id"], detail=entry["detail"],
            user_name=entry["user_name"], ip=entry["ip"], user_agent=entry["user_agent"],
            changes=changes, candidature_id=entry["candidature_id"],
            candidat_id=entry["candidat_id"], contenu_sha256=digest, prev_hash=previous,
            hash=current, desidentifie=False))
        previous = current


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(SCRUB, None)


def install() -> None:
    """Listen on every ORM session (called once at import)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
        event.listen(Session, "do_orm_execute", _do_orm_execute)


install()


# --- de-identification -------------------------------------------------------------------

def _tokens(candidat: Any) -> tuple[list[str], list[str]]:
    """(every personal value of the person, the forms of their full name), longest first."""
    def get(key):
        return getattr(candidat, key, None)

    nom, usage, prenoms = get("nom_naissance"), get("nom_usage"), get("prenoms")
    naissance = get("date_naissance")
    full = set()
    for n in (nom, usage):
        if n and prenoms:
            full |= {f"{prenoms} {n}", f"{n} {prenoms}", f"{n.upper()} {prenoms}"}
    if nom and prenoms:
        full.add(f"{nom.upper()}{f' ({usage})' if usage else ''} {prenoms}")
    values = set(full)
    for key in PERSONAL_FIELDS - {"civilite", "date_naissance", "departement_naissance",
                                  "code_postal", "pays_naissance"}:
        value = get(key)
        if isinstance(value, str) and len(value.strip()) >= 2:
            values.add(value.strip())
    for name in (nom, usage, prenoms):  # each name alone (« Élodie lit bien »)
        values |= {word for word in re.split(r"[\s\-']+", name or "") if len(word) >= 3}
    if isinstance(naissance, dt.date):
        values |= {naissance.isoformat(), naissance.strftime("%d/%m/%Y")}
    for key in ("email", "telephone"):
        if get(key):
            full.add(get(key))
    order = lambda items: sorted(items, key=len, reverse=True)  # noqa: E731
    return order(values), order(full)


_VARIANTS = {"a": "aàâäáã", "c": "cç", "e": "eéèêë", "i": "iîïíì", "o": "oôöóòõ",
             "u": "uùûüú", "y": "yÿý", "n": "nñ"}


def _token_pattern(token: str) -> str:
    """A person's value as a pattern that also finds it without its accents and with other
    separators (« Élodie Dupré » in « cv-dupre-elodie.pdf »: names typed into file names)."""
    from .texte import normalize

    parts = []
    for char in token:
        base = normalize(char)
        if not char.strip() or char in "-'_.’":
            parts.append(r"[\s\-'_.’]?")
        elif len(base) == 1 and base in _VARIANTS:
            parts.append(f"[{_VARIANTS[base]}]")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def _replace(value: Any, tokens: list[str]) -> Any:
    if isinstance(value, str) and tokens:
        pattern = re.compile("|".join(_token_pattern(t) for t in tokens), re.I)
        return pattern.sub(ANONYME, value)
    if isinstance(value, list):
        return [_replace(v, tokens) for v in value]
    return value


def _scrub_changes(changes: dict, tokens: list[str], personal: bool) -> dict:
    out = {}
    for key, pair in changes.items():
        if personal and key in PERSONAL_FIELDS:
            out[key] = [None if v is None else ANONYME for v in pair]
        else:
            out[key] = _replace(pair, tokens)
    return out


def _scrub_pending(entry: dict, scrub: dict) -> None:
    """Rows not yet written about a person being de-identified never hold their name."""
    for candidat_id, (tokens, full, dossiers) in scrub.items():
        linked = (entry["candidat_id"] == candidat_id
                  or (entry["candidature_id"] is not None and entry["candidature_id"] in dossiers))
        use = tokens if linked else full
        entry["detail"] = _replace(entry["detail"], use)
        if entry["changes"]:
            entry["changes"] = _scrub_changes(
                entry["changes"], use, linked and entry["object_type"] == "Candidat")


def desidentifier(candidat: Any, par: Any, motif: str) -> int:
    """Replace the personal values of `candidat` by « [anonymisé] » in every journal row about
    them and their dossiers (and in any other row naming them), keep each row's stored digest
    and hash, flag the rows `desidentifie`, and record one row « anonymisation » (motive, and
    the ids of the rows changed, which `verifier` requires for a de-identified row). Rows of
    the current transaction are written already de-identified. Returns how many stored rows
    changed. The caller commits (with its own changes: the RGPD anonymisation, a deletion)."""
    from app.models import Candidature

    session = db.session()
    tokens, full = _tokens(candidat)
    candidat_id = _identity(candidat)
    dossiers = set(session.scalars(select(Candidature.id).where(
        Candidature.candidat_id == candidat_id))) if candidat_id else set()
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(SCRUB, {})[candidat_id] = (tokens, full, dossiers)
    linked = [AuditLog.candidat_id == candidat_id,
              and_(AuditLog.object_type == "Candidat", AuditLog.object_id == candidat_id)]
    if dossiers:
        linked.append(AuditLog.candidature_id.in_(dossiers))
    named = [column.ilike(f"%{_like(t)}%", escape="\\") for t in full
             for column in (AuditLog.detail, AuditLog.changes)]
    rows = session.execute(
        select(AuditLog.id, AuditLog.detail, AuditLog.changes, AuditLog.object_type,
               AuditLog.object_id, AuditLog.candidat_id, AuditLog.candidature_id)
        .where(or_(*linked, *named), AuditLog.action != ANONYMISATION)
        .order_by(AuditLog.id)).all()
    updates = []
    for row in rows:
        is_linked = (row.candidat_id == candidat_id or row.candidature_id in dossiers
                     or (row.object_type == "Candidat" and row.object_id == candidat_id))
        use = tokens if is_linked else full
        detail = _replace(row.detail, use)
        changes = row.changes
        if changes:
            try:
                parsed = json.loads(changes)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                changes = canonical(_scrub_changes(parsed, use,
                                                   is_linked and row.object_type == "Candidat"))
            else:
                changes = _replace(changes, use)
        if detail != row.detail or changes != row.changes:
            updates.append({"row_id": row.id, "detail": detail, "changes": changes})
    if updates:
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            session.execute(text("SELECT set_config('clea.audit_desidentification', 'on', true)"))
        session.execute(
            update(AuditLog.__table__).where(AuditLog.__table__.c.id == bindparam("row_id"))
            .values(detail=bindparam("detail"), changes=bindparam("changes"),
                    desidentifie=True), updates)
        if postgres:
            session.execute(text("SELECT set_config('clea.audit_desidentification', 'off', true)"))
    record(par, ANONYMISATION, candidat, _replace(motif, tokens),
           changes={"lignes": [None, [u["row_id"] for u in updates]]})
    return len(updates)


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- verification -------------------------------------------------------------------------

@dataclass
class Verification:
    lignes: int
    rompue: Optional[int] = None  # position (1 = first row) of the first broken row
    rompue_id: Optional[int] = None
    raison: str = ""
    desidentifiees: int = 0

    @property
    def ok(self) -> bool:
        return self.rompue is None

    def message(self) -> str:
        if self.ok:
            return _("Journal d'audit intègre : %(n)d lignes vérifiées (dont %(d)d "
                     "anonymisées).", n=self.lignes, d=self.desidentifiees)
        return _("Journal d'audit rompu à la ligne %(pos)d (id %(id)d) : %(raison)s",
                 pos=self.rompue, id=self.rompue_id, raison=self.raison)


def verifier() -> Verification:
    """Walk the chain in id order: each row's prev_hash is the previous row's hash, its hash
    is recomputed from its fields and its content digest, its digest from its text — except
    for a de-identified row, which a later « anonymisation » row must list."""
    columns = (AuditLog.id, AuditLog.created_on, AuditLog.user_id, AuditLog.action,
               AuditLog.object_type, AuditLog.object_id, AuditLog.detail, AuditLog.user_name,
               AuditLog.ip, AuditLog.user_agent, AuditLog.changes, AuditLog.candidature_id,
               AuditLog.candidat_id, AuditLog.contenu_sha256, AuditLog.prev_hash,
               AuditLog.hash, AuditLog.desidentifie)
    result = Verification(0)
    previous = GENESIS
    claimed: dict[int, int] = {}  # de-identified row id → its position
    confirmed: set[int] = set()
    broken: Optional[tuple[int, int, str]] = None
    stream = db.session.execute(select(*columns).order_by(AuditLog.id)
                                .execution_options(yield_per=2000))
    for position, row in enumerate(stream, start=1):
        result.lignes = position
        reason = None
        if (row.prev_hash or GENESIS) != previous:
            reason = _("elle ne suit pas la ligne précédente (ligne supprimée, insérée ou "
                       "déplacée).")
        elif row.hash != row_hash(row.prev_hash or GENESIS, row.created_on, row.user_id,
                                  row.action, row.object_type, row.object_id,
                                  row.candidature_id, row.candidat_id, row.contenu_sha256):
            reason = _("ses champs ne correspondent plus à son empreinte (ligne modifiée).")
        elif row.desidentifie:
            result.desidentifiees += 1
            claimed[row.id] = position
        elif row.contenu_sha256 != content_digest(row.detail, row.changes, row.user_name,
                                                  row.ip, row.user_agent):
            reason = _("son texte ne correspond plus à son empreinte (ligne modifiée).")
        elif row.action == ANONYMISATION:
            try:
                listed = json.loads(row.changes or "{}").get("lignes", [None, []])[1]
                confirmed |= {int(i) for i in listed}
            except (ValueError, TypeError, AttributeError, IndexError):
                pass
        if reason and broken is None:
            broken = (position, row.id, reason)
        previous = row.hash or ""
    for row_id, position in claimed.items():
        if row_id not in confirmed and (broken is None or position < broken[0]):
            broken = (position, row_id, _("marquée anonymisée sans anonymisation "
                                          "enregistrée (ligne modifiée)."))
    if broken:
        result.rompue, result.rompue_id, result.raison = broken
    return result


# --- reading: the « Journal d'audit » screen, its API and export, a dossier's history ----

@dataclass
class Filtres:
    qui: Optional[str] = None
    action: Optional[str] = None
    type: Optional[str] = None
    objet_id: Optional[int] = None
    du: Optional[dt.date] = None
    au: Optional[dt.date] = None

    NAMES = ("qui", "action", "type", "objet_id", "du", "au")

    @classmethod
    def depuis(cls, args: Any) -> "Filtres":
        """From a query string; a refused value says why in French (RuleError → 400)."""
        def texte(name, size):
            value = (args.get(name) or "").strip()
            if len(value) > size:
                raise RuleError(_("Valeur trop longue pour le filtre « %(champ)s ».",
                                  champ=name), field=name)
            return value or None

        from app.security.perimeter import bounded_id as _bounded_id

        objet = (args.get("objet_id") or "").strip()
        if objet and _bounded_id(objet) is None:  # an id a row may have
            raise RuleError(_("Valeur invalide pour le filtre « %(champ)s ».", champ="objet_id"),
                            field="objet_id")
        message = _("Date invalide pour la période (format attendu AAAA-MM-JJ).")
        du = parse_date((args.get("du") or "").strip() or None, "du", message)
        au = parse_date((args.get("au") or "").strip() or None, "au", message)
        if du and au and au < du:
            raise RuleError(_("La fin de la période doit suivre son début."), field="au")
        return cls(qui=texte("qui", 100), action=texte("action", 60), type=texte("type", 60),
                   objet_id=int(objet) if objet else None, du=du, au=au)

    def args(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v)
                for k in self.NAMES if (v := getattr(self, k)) not in (None, "")}


def requete(f: Filtres):
    query = select(AuditLog)
    if f.qui:
        query = query.where(AuditLog.user_name.ilike(f"%{_like(f.qui)}%", escape="\\"))
    if f.action:
        query = query.where(AuditLog.action == f.action)
    if f.type:
        query = query.where(AuditLog.object_type == f.type)
    if f.objet_id is not None:
        query = query.where(AuditLog.object_id == f.objet_id)
    if f.du:
        query = query.where(AuditLog.created_on >= dt.datetime.combine(f.du, dt.time.min))
    if f.au:
        query = query.where(AuditLog.created_on < dt.datetime.combine(
            f.au + dt.timedelta(days=1), dt.time.min))
    return query.order_by(AuditLog.id.desc())


def ensure_reader(by: Any) -> None:
    from app.security.access import ensure_can
    from app.security.matrix import READ

    ensure_can(by, "Audit", READ)


def page(by: Any, f: Filtres, number: Any = 0, clamp: bool = True,
         size: int = PAGE_SIZE) -> Page:
    ensure_reader(by)
    return paginate(requete(f), number, size, clamp=clamp)


def actions() -> list[str]:
    """The actions present in the journal (the filter's choices; an index-only scan)."""
    return list(db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def du_dossier(candidature: Any, limit: int = 200) -> list[AuditLog]:
    """The journal of one dossier: its rows, its evaluations', documents', decisions', and
    the person's own rows (identity changes), newest first."""
    return list(db.session.scalars(
        select(AuditLog).where(or_(
            AuditLog.candidature_id == candidature.id,
            and_(AuditLog.object_type == "Candidat",
                 AuditLog.object_id == candidature.candidat_id)))
        .order_by(AuditLog.id.desc()).limit(limit)))


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label else (action or "").replace("_", " ").capitalize()


def type_label(object_type: str) -> str:
    label = TYPE_LABELS.get(object_type)
    return str(label) if label else object_type


def _lisible(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return _("Oui")
    if value is False:
        return _("Non")
    if isinstance(value, list):
        return ", ".join(_lisible(v) for v in value)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+", value):
        return dt.datetime.fromisoformat(value).strftime("%d/%m/%Y %H:%M")
    return str(value)


# The journal's field names as users read them (the column name otherwise).
FIELD_LABELS = {
    "first_name": _l("Prénom"),
    "last_name": _l("Nom"),
    "email": _l("E-mail"),
    "username": _l("Identifiant"),
    "password": _l("Mot de passe"),
    "active": _l("Actif"),
    "roles": _l("Rôle"),
    "telephone": _l("Téléphone"),
    "reseau_id": _l("Réseau"),
    "organisme_id": _l("Organisme"),
    "etablissement_id": _l("Établissement"),
    "certificateur_id": _l("Certificateur"),
    "candidat_id": _l("Candidat"),
    "candidature_id": _l("Dossier"),
    "civilite": _l("Civilité"),
    "nom_naissance": _l("Nom de naissance"),
    "nom_usage": _l("Nom d'usage"),
    "prenoms": _l("Prénoms"),
    "date_naissance": _l("Date de naissance"),
    "commune_naissance": _l("Commune de naissance"),
    "departement_naissance": _l("Département de naissance"),
    "pays_naissance": _l("Pays de naissance"),
    "adresse": _l("Adresse"),
    "code_postal": _l("Code postal"),
    "ville": _l("Ville"),
    "statut": _l("Statut"),
    "motif": _l("Motif"),
    "nom": _l("Nom"),
    "raison_sociale": _l("Raison sociale"),
    "siret": _l("SIRET"),
    "siren": _l("SIREN"),
    "nom_original": _l("Nom du fichier"),
    "nature": _l("Nature"),
    "date_session": _l("Date de la session"),
    "decision": _l("Décision"),
    "numero": _l("Numéro"),
    "actif": _l("Actif"),
    "type": _l("Type"),
    "session_jury_id": _l("Session de jury"),
    "branche_id": _l("Branche"),
    "niveau_formation": _l("Niveau de formation"),
    "objectif_pro": _l("Objectifs de projet professionnel"),
    "objectif_extra_pro": _l("Objectifs de projet extra-professionnel"),
    "socle_contextualise": _l("Socle contextualisé"),
    "statut_inscription": _l("Statut à l'inscription"),
    "type_public": _l("Type de public"),
    "certificat_papier": _l("Certificat papier"),
    "date_evaluation": _l("Date de l'évaluation"),
    "evaluateur": _l("Évaluateur"),
    "taille": _l("Taille"),
    "type_mime": _l("Type de fichier"),
    "referentiel_id": _l("Référentiel"),
    "evaluation_id": _l("Évaluation"),
    "nom_stockage": _l("Fichier enregistré"),
    "sha256": _l("Empreinte SHA-256"),
    "origine_demarche": _l("Origine de la démarche"),
}


def champ_label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key.replace("_", " ")))


def changements(row: AuditLog) -> list[tuple[str, str, str]]:
    """(field, before, after) of a row, readable (« — » for nothing, dates in French)."""
    items = []
    for key, pair in sorted(row.changements.items()):
        if row.action == ANONYMISATION and key == "lignes":
            count = len(pair[1] or []) if isinstance(pair, list) and len(pair) == 2 else 0
            items.append((_("lignes anonymisées"), "—", str(count)))
            continue
        before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        items.append((champ_label(key), _lisible(before), _lisible(after)))
    return items


def changements_texte(row: AuditLog) -> str:
    return " ; ".join(f"{k} : {b} → {a}" for k, b, a in changements(row))


def as_dict(row: AuditLog) -> dict:
    return {"id": row.id, "date": row.created_on.isoformat(timespec="seconds"),
            "user_id": row.user_id, "qui": row.user_name, "ip": row.ip,
            "user_agent": row.user_agent, "action": row.action,
            "action_libelle": action_label(row.action), "type": row.object_type,
            "objet_id": row.object_id, "dossier_id": row.candidature_id,
            "detail": row.detail, "changements": row.changements,
            "anonymisee": bool(row.desidentifie)}


CSV_HEADERS = (_l("Date"), _l("Qui"), _l("Adresse IP"), _l("Navigateur"), _l("Action"),
               _l("Type"), _l("N°"), _l("Dossier"), _l("Détail"), _l("Avant → après"))


def exporter_csv(by: Any, f: Filtres) -> Iterator[str]:
    """The filtered rows as CSV (« ; », UTF-8 with BOM for Excel), streamed in batches. The
    export is itself journaled (committed before the first line)."""
    ensure_reader(by)
    consigner(by, "exporter_journal", None, filtres_texte(f.args()) or None)

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")

        def flush():
            value = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
            return value

        buffer.write("\ufeff")
        writer.writerow([str(h) for h in CSV_HEADERS])
        yield flush()
        stream = db.session.execute(requete(f).execution_options(yield_per=1000)).scalars()
        for count, row in enumerate(stream, start=1):
            writer.writerow([row.created_on.strftime("%d/%m/%Y %H:%M:%S"),
                             row.user_name or _("Système"), row.ip or "",
                             row.user_agent or "", action_label(row.action),
                             type_label(row.object_type), row.object_id or "",
                             row.candidature_id or "", row.detail or "",
                             changements_texte(row)])
            if count % 500 == 0:
                yield flush()
        yield flush()
    return lines()
