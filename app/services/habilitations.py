"""Habilitations (guide §12, §13): request, decision, validity, renewal, expiry.

A request is addressed to Certif Pro (CléA socle) or to the CPNE of a branche (socle
contextualisé). Certif Pro decides national requests, a Jury user of the branche's CPNE decides
its branche's. An établissement is habilitated while a decision "validée" covers today."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from app.extensions import db
from app.models import Branche, Certificateur, Etablissement, Organisme, Utilisateur
from app.models.habilitation import (BRANCHE, EN_ATTENTE, EXPIREE, NATIONAL, REJETEE, VALIDEE,
                                     Habilitation)
from app.security import perimeter
from app.security import roles as R
from app.security.access import ensure_can
from app.security.matrix import CREATE, UPDATE
from app.security.request_cache import forget, per_request

from . import audit, lots, motifs, notifications
from .dates import parse_date
from .errors import ConflictError, ForbiddenError, RuleError
from .pages import Page, paginate
from .texte import contient_les_mots

RENEWAL_WINDOW = dt.timedelta(days=90)
REMINDERS = (90, 30)


def _today() -> dt.date:
    return dt.date.today()


# --- validity ------------------------------------------------------------------------------

def valid_clause(today: Optional[dt.date] = None):
    """SQL condition on Habilitation: a validated decision that covers today."""
    today = today or _today()
    return and_(Habilitation.statut == VALIDEE, Habilitation.date_debut <= today,
                Habilitation.date_fin >= today)


def est_habilite(etablissement_id: int, today: Optional[dt.date] = None) -> bool:
    """Computed once per request for each établissement (the dossier's page asks it for each
    of its gates: evaluations, documents, the closed-dossier banner)."""
    return per_request(("habilitation", "etablissement", etablissement_id, today),
                       lambda: db.session.execute(select(exists().where(
                           Habilitation.etablissement_id == etablissement_id,
                           valid_clause(today)))).scalar())


def etablissements_habilites(user: Any, today: Optional[dt.date] = None):
    """A selectable of the ids of the user's établissements that hold a valid habilitation."""
    return (select(Habilitation.etablissement_id)
            .where(valid_clause(today))
            .where(perimeter.etablissement_column_clause(Habilitation.etablissement_id,
                                                         perimeter.scope_of(user))))


def peut_evaluer(user: Any, today: Optional[dt.date] = None) -> bool:
    """Whether the Évaluations and Formations tabs (and their actions) are open to a user:
    at least one établissement of their perimeter holds a valid habilitation."""
    scope = perimeter.scope_of(user)
    if scope.kind == R.NATIONAL:
        return True
    if scope.kind not in (R.RESEAU, R.ORGANISME, R.ETABLISSEMENT):
        return False
    if scope.kind == R.ETABLISSEMENT:  # the same question as the dossier's gate
        return est_habilite(scope.id, today)
    # once per request: the menu's three Évaluations items, the tab guard and the page ask it
    return per_request(("habilitation", "utilisateur", user.id, today),
                       lambda: db.session.execute(
                           select(exists(etablissements_habilites(user, today)))).scalar())


def habilite_pour_branche(etablissement_id: int, branche_id: Optional[int],
                          today: Optional[dt.date] = None) -> bool:
    """Whether an établissement holds a valid habilitation of a branche (socle contextualisé)."""
    if not etablissement_id or not branche_id:
        return False
    return db.session.execute(select(exists().where(
        Habilitation.etablissement_id == etablissement_id, Habilitation.portee == BRANCHE,
        Habilitation.branche_id == branche_id, valid_clause(today)))).scalar()


def branches_habilitees(etablissement_ids: Iterable[int], today: Optional[dt.date] = None
                        ) -> dict[int, list[Branche]]:
    """For each établissement, the branches it holds a valid habilitation of (one query):
    where « Socle contextualisé » may be offered."""
    ids = [int(i) for i in etablissement_ids]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Habilitation.etablissement_id, Branche)
        .join(Branche, Branche.id == Habilitation.branche_id)
        .where(Habilitation.etablissement_id.in_(ids), Habilitation.portee == BRANCHE,
               valid_clause(today))
        .order_by(Branche.nom)).all()
    result: dict[int, list[Branche]] = {}
    for etablissement_id, branche in rows:
        if branche not in result.setdefault(etablissement_id, []):
            result[etablissement_id].append(branche)
    return result


def refus_socle(etablissement: Etablissement, branche_id: Optional[int],
                today: Optional[dt.date] = None) -> Optional[str]:
    """Why a dossier of this établissement cannot be a socle contextualisé of this branche
    (None when it can): the établissement itself must hold a valid habilitation of it."""
    if habilite_pour_branche(etablissement.id, branche_id, today):
        return None
    branche = db.session.get(Branche, branche_id) if branche_id else None
    return _("Le socle contextualisé « %(branche)s » n'est possible que si l'établissement "
             "dispose d'une habilitation valide de cette branche : %(etab)s n'en a pas. "
             "Décochez « Socle contextualisé » ou demandez l'habilitation de branche depuis "
             "« Visualiser l'établissement » → Habilitation(s) en cours.",
             branche=branche.nom if branche else "—", etab=etablissement.nom)


def dossier_habilite(candidature: Any, today: Optional[dt.date] = None) -> bool:
    """Whether a dossier's evaluations and formations may be created or changed: the gate is
    the dossier's OWN établissement (a valid habilitation), not some établissement of the
    user — after a rattachement or an expiry they differ."""
    return est_habilite(candidature.etablissement_id, today)


def refus_dossier(candidature: Any, today: Optional[dt.date] = None) -> Optional[str]:
    """Why nothing can be evaluated on this dossier (None when its établissement is
    habilitated): shown on the dossier's screens and returned by the services."""
    if dossier_habilite(candidature, today):
        return None
    return _("L'établissement %(etab)s, qui gère ce dossier, n'a pas d'habilitation CléA "
             "valide : aucune évaluation ni formation ne peut y être créée, enregistrée ou "
             "finalisée. Son administrateur peut demander l'habilitation depuis « Visualiser "
             "l'établissement » → Habilitation(s) en cours.",
             etab=candidature.etablissement.nom)


def pourquoi_sans_habilitation(user: Any) -> Optional[str]:
    """The home page's explanation when the tabs are closed (None when they are open)."""
    if peut_evaluer(user):
        return None
    scope = perimeter.scope_of(user)
    if scope.kind == R.ETABLISSEMENT:
        return _("Votre établissement n'a pas d'habilitation CléA valide : les onglets "
                 "Évaluations et Formations ne sont pas disponibles. Votre administrateur peut "
                 "la demander depuis « Visualiser l'établissement » → Habilitation(s) en cours.")
    if scope.kind in (R.RESEAU, R.ORGANISME):
        return _("Aucun établissement de votre périmètre n'a d'habilitation CléA valide : les "
                 "onglets Évaluations et Formations ne sont pas disponibles. Faites une demande "
                 "depuis « Visualiser l'établissement » → Habilitation(s) en cours.")
    return None


def renouvelable(hab: Habilitation, today: Optional[dt.date] = None) -> bool:
    """"Renouveler" appears when an habilitation has ended or ends within 90 days."""
    today = today or _today()
    if hab.statut not in (VALIDEE, EXPIREE) or hab.date_fin is None:
        return False
    if hab.date_fin - today > RENEWAL_WINDOW:
        return False
    return not db.session.execute(select(exists().where(
        Habilitation.etablissement_id == hab.etablissement_id,
        Habilitation.portee == hab.portee, Habilitation.branche_key == hab.branche_key,
        Habilitation.statut == EN_ATTENTE))).scalar()


# --- who decides -----------------------------------------------------------------------------

def decideurs(hab: Habilitation) -> list[Utilisateur]:
    """Certif Pro for the socle; the Jury users of the branche's CPNE for a branche."""
    if hab.portee == NATIONAL:
        return notifications.certif_pro()
    query = (select(Utilisateur).join(Certificateur, Utilisateur.certificateur_id ==
                                      Certificateur.id)
             .where(Certificateur.type == "cpne", Certificateur.branche_id == hab.branche_id,
                    Utilisateur.active.is_(True)))
    return list(db.session.scalars(query).unique())


def peut_decider(user: Any, hab: Habilitation) -> bool:
    if user is None or R.is_technical_admin(user):
        return True
    role = R.role_of(user)
    if hab.portee == NATIONAL:
        return role is R.CERTIF_PRO
    return (role is R.JURY and user.certificateur is not None
            and user.certificateur.type == "cpne"
            and user.certificateur.branche_id == hab.branche_id)


# --- commands --------------------------------------------------------------------------------

def demander(data: dict, by: Any, renouvellement_de: Optional[Habilitation] = None
             ) -> Habilitation:
    """« Faire une demande »: addressed to Certif Pro, or to a CPNE for a branche."""
    ensure_can(by, "Habilitation", CREATE)
    etablissement_id = data.get("etablissement_id")
    if not etablissement_id:
        raise RuleError(_("Choisissez l'établissement."), field="etablissement_id")
    etab = perimeter.get_or_404(Etablissement, etablissement_id, by)
    if not etab.actif or not etab.organisme.actif:
        raise RuleError(_("Un établissement ou un organisme inactif ne peut pas demander "
                          "d'habilitation."))
    portee = data.get("portee") or NATIONAL
    if portee not in (NATIONAL, BRANCHE):
        raise RuleError(_("Portée inconnue."), field="portee")
    branche_id = None
    if portee == BRANCHE:
        branche_id = int(data.get("branche_id") or 0) or None
        if branche_id is None or db.session.get(Branche, branche_id) is None:
            raise RuleError(_("Choisissez la branche du socle contextualisé."),
                            field="branche_id")
    hab = Habilitation(etablissement_id=etab.id, portee=portee, branche_id=branche_id,
                       branche_key=branche_id or 0, statut=EN_ATTENTE,
                       commentaire=(data.get("commentaire") or "").strip() or None,
                       demande_par_id=getattr(by, "id", None),
                       renouvellement_de_id=renouvellement_de.id if renouvellement_de else None)
    db.session.add(hab)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(_("Une demande est déjà en attente pour cet établissement et "
                              "cette portée."))
    notifications.notify(
        decideurs(hab), notifications.HABILITATION,
        _("Nouvelle demande d'habilitation : %(etab)s", etab=etab.nom),
        _("%(etab)s (%(org)s) demande une habilitation — %(portee)s.", etab=etab.nom,
          org=etab.organisme.raison_sociale, portee=hab.portee_label),
        lien=_lien(hab))
    audit.record(by, "demander_habilitation", hab)
    db.session.commit()
    return hab


def _lien(hab: Habilitation) -> str:
    """The request's page: the link of its notifications (marked done once it is decided)."""
    return f"/habilitationview/show/{hab.id}"


def renouveler(hab: Habilitation, by: Any) -> Habilitation:
    perimeter.get_or_404(Habilitation, hab.id, by)
    if not renouvelable(hab):
        raise RuleError(_("Le renouvellement est possible à partir de 90 jours avant la fin de "
                          "l'habilitation, sans autre demande en attente."))
    return demander({"etablissement_id": hab.etablissement_id, "portee": hab.portee,
                     "branche_id": hab.branche_id,
                     "commentaire": _("Renouvellement de l'habilitation se terminant le "
                                      "%(fin)s.", fin=hab.date_fin.strftime("%d/%m/%Y"))},
                    by, renouvellement_de=hab)


def decider(hab: Habilitation, data: dict, by: Any) -> Habilitation:
    """Validate (with start and end dates) or reject (with a motive) a pending request."""
    try:
        _decider(hab, data, by)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return hab


def _decider(hab: Habilitation, data: dict, by: Any) -> Habilitation:
    """The decision of one request, checked, written and told; the caller commits (or rolls
    back on an error)."""
    ensure_can(by, "Habilitation", UPDATE)
    perimeter.get_or_404(Habilitation, hab.id, by)
    if not peut_decider(by, hab):
        raise ForbiddenError(_("Cette demande est décidée par Certif Pro ou par la CPNE de la "
                               "branche concernée."))
    values = _valeurs(data)
    values.update(decide_par_id=getattr(by, "id", None), decide_le=dt.datetime.now())
    decision = values["statut"]
    # Only a request still pending is decided (two deciders at once: the second gets 409).
    changed = db.session.execute(
        update(Habilitation).where(Habilitation.id == hab.id, Habilitation.statut == EN_ATTENTE)
        .values(**values)).rowcount
    if not changed:
        raise ConflictError(_("Cette demande a déjà été décidée."))
    db.session.refresh(hab)
    forget("habilitation")  # the gates of this request are asked again
    notifications.marquer_traitees(notifications.HABILITATION, _lien(hab))
    _notify_decision(hab)
    audit.record(by, "decider_habilitation", hab, decision)
    return hab


def _valeurs(data: dict) -> dict[str, Any]:
    """The decision checked: « Valider » with its dates (a duration past the usual one
    confirmed), or « Rejeter » with its motive (typed, or a standard motive's)."""
    decision = data.get("decision")
    if decision == VALIDEE:
        debut = _date(data.get("date_debut"), "date_debut", _("date de début"))
        fin = _date(data.get("date_fin"), "date_fin", _("date de fin"))
        if fin < debut:
            raise RuleError(_("La date de fin doit être postérieure à la date de début."),
                            field="date_fin")
        avertissement = duree_inhabituelle(debut, fin)
        if avertissement and not _oui(data.get("confirmer_duree")):
            raise RuleError(avertissement + " " + _("Cochez « Je confirme cette durée » pour "
                                                    "valider quand même."),
                            field="confirmer_duree")
        return {"statut": VALIDEE, "date_debut": debut, "date_fin": fin, "motif_rejet": None}
    if decision == REJETEE:
        motif = motifs.texte(motifs.HABILITATION, data.get("motif_type"), data.get("motif"))
        if not motif:
            raise RuleError(_("Indiquez le motif du rejet."), field="motif")
        return {"statut": REJETEE, "motif_rejet": motif}
    raise RuleError(_("Choisissez « Valider » ou « Rejeter »."), field="decision")


def decider_en_lot(ids: Iterable[Any], data: dict, by: Any) -> list[lots.Resultat]:
    """The same decision for the requests ticked in Certif Pro's queue (services/lots: one
    transaction, a savepoint per request, a report line each). The decision itself (dates,
    motive) is checked first: refused, nothing is decided."""
    ensure_can(by, "Habilitation", UPDATE)
    uniques = lots.identifiants(ids)
    _valeurs(data)
    return lots.decider(
        uniques, lambda pk: db.session.get(Habilitation, pk),
        lambda hab: hab.etablissement.nom, lambda hab: _decider(hab, data, by),
        lambda hab: _("Validée du %(debut)s au %(fin)s.",
                      debut=hab.date_debut.strftime("%d/%m/%Y"),
                      fin=hab.date_fin.strftime("%d/%m/%Y")) if hab.statut == VALIDEE
        else _("Rejetée : %(motif)s", motif=hab.motif_rejet),
        by, "decider_habilitations_en_lot")


A_DECIDER_PAGE = 50


def a_decider_clauses(user: Any) -> list:
    """The requests `user` decides, still pending: Certif Pro the socle's, a CPNE's jury its
    branche's (their perimeter). The queue's page and the desk's count read the same."""
    clauses = [Habilitation.statut == EN_ATTENTE, perimeter.clause(Habilitation, user)]
    if R.role_of(user) is R.CERTIF_PRO:
        clauses.append(Habilitation.portee == NATIONAL)
    return clauses


def a_decider(user: Any, page: Any = 0) -> Page:
    """The queue of the requests `user` decides (a_decider_clauses), oldest first."""
    query = select(Habilitation).where(*a_decider_clauses(user))
    return paginate(query.order_by(Habilitation.demande_le, Habilitation.id), page,
                    A_DECIDER_PAGE, options=(
                        joinedload(Habilitation.etablissement).joinedload(
                            Etablissement.organisme),
                        joinedload(Habilitation.branche)))


@dataclass
class Historique:
    """What a decider reads beside the form: the établissement's past requests and what
    became of its dossiers."""

    habilitations: list
    dossiers: int
    certifies: int
    non_certifies: int
    abandonnes: int
    en_cours: int

    def taux(self, n: int) -> Optional[float]:
        return round(100 * n / self.dossiers, 1) if self.dossiers else None

    def pourcentage(self, n: int) -> str:
        """« 12,5 % » (French decimal comma, narrow no-break space)."""
        taux = self.taux(n)
        return "" if taux is None else f"{taux:.1f}".replace(".", ",") + "\u202f%"


def historique(hab: Habilitation) -> Historique:
    """The établissement's other requests (newest first) and its dossiers by outcome, in two
    statements (the dossiers counted on the index of their établissement and status)."""
    from app.models import candidature as C
    from app.models.candidature import Candidature

    autres = list(db.session.scalars(
        select(Habilitation).where(Habilitation.etablissement_id == hab.etablissement_id,
                                   Habilitation.id != hab.id)
        .options(joinedload(Habilitation.branche))
        .order_by(Habilitation.demande_le.desc(), Habilitation.id.desc()).limit(20)))
    par_statut = dict(db.session.execute(
        select(Candidature.statut, func.count()).where(
            Candidature.etablissement_id == hab.etablissement_id)
        .group_by(Candidature.statut)).all())
    total = sum(par_statut.values())
    certifies = par_statut.get(C.CERTIFIEE, 0)
    non_certifies = par_statut.get(C.NON_CERTIFIEE, 0)
    abandonnes = par_statut.get(C.ABANDONNEE, 0)
    return Historique(autres, total, certifies, non_certifies, abandonnes,
                      total - certifies - non_certifies - abandonnes)


def duree_usuelle_mois() -> int:
    """The usual duration of a habilitation (HABILITATION_DUREE_USUELLE_MOIS, 36 by default)."""
    return int(current_app.config.get("HABILITATION_DUREE_USUELLE_MOIS") or 36)


def duree_inhabituelle(debut: dt.date, fin: dt.date) -> Optional[str]:
    """A warning when a habilitation would last longer than the usual duration
    (HABILITATION_DUREE_USUELLE_MOIS, 36 months by default)."""
    mois = duree_usuelle_mois()
    limite = _plus_mois(debut, mois)
    if fin <= limite:
        return None
    duree = (fin.year - debut.year) * 12 + fin.month - debut.month
    return _("Cette habilitation durerait %(duree)s, plus que la durée habituelle de "
             "%(usuelle)s.", duree=_mois_lisibles(duree), usuelle=_mois_lisibles(mois))


def _plus_mois(jour: dt.date, mois: int) -> dt.date:
    annee, m = divmod(jour.month - 1 + mois, 12)
    annee += jour.year
    m += 1
    dernier = calendar.monthrange(annee, m)[1]
    return dt.date(annee, m, min(jour.day, dernier))


def _mois_lisibles(mois: int) -> str:
    if mois % 12 == 0:
        return ngettext("%(num)d an", "%(num)d ans", mois // 12)
    return ngettext("%(num)d mois", "%(num)d mois", mois)


def _oui(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "on", "oui", "yes")


def _notify_decision(hab: Habilitation) -> None:
    etab = hab.etablissement
    if hab.statut == VALIDEE:
        titre = _("Habilitation validée : %(etab)s", etab=etab.nom)
        texte = _("L'habilitation de %(etab)s (%(portee)s) est valable du %(debut)s au "
                  "%(fin)s.", etab=etab.nom, portee=hab.portee_label,
                  debut=hab.date_debut.strftime("%d/%m/%Y"),
                  fin=hab.date_fin.strftime("%d/%m/%Y"))
    else:
        titre = _("Habilitation rejetée : %(etab)s", etab=etab.nom)
        texte = _("La demande d'habilitation de %(etab)s (%(portee)s) est rejetée. Motif : "
                  "%(motif)s", etab=etab.nom, portee=hab.portee_label, motif=hab.motif_rejet)
    notifications.notify(_interesses(hab), notifications.HABILITATION, titre, texte,
                         lien=_lien(hab))


def _interesses(hab: Habilitation) -> list[Utilisateur]:
    """The requester and the organisme's administrators."""
    users = notifications.administrateurs_organisme(hab.etablissement.organisme)
    if hab.demande_par is not None:
        users.insert(0, hab.demande_par)
    return users


def _date(value: Any, field: str, label: str) -> dt.date:
    message = _("Indiquez la %(champ)s (AAAA-MM-JJ).", champ=label)
    day = parse_date(value, field, message)
    if day is None:
        raise RuleError(message, field=field)
    return day


# --- reading -------------------------------------------------------------------------------------

def par_organisme(organisme: Organisme, by: Any) -> list[Habilitation]:
    """« Habilitations » of the organisme page: every period of each établissement."""
    perimeter.get_or_404(Organisme, organisme.id, by)
    return list(db.session.scalars(
        select(Habilitation).join(Etablissement)
        .where(Etablissement.organisme_id == organisme.id)
        .order_by(Etablissement.nom, Habilitation.date_debut.desc().nulls_last(),
                  Habilitation.id.desc())))


ANNUAIRE_PAGE = 50


def annuaire(region: Optional[str] = None, ville: Optional[str] = None,
             nom: Optional[str] = None, page: Any = 0,
             today: Optional[dt.date] = None) -> Page:
    """Public directory: one page of the active établissements holding a valid habilitation
    (no personal data), by région, ville and name. `nom` finds the organisme's raison sociale
    or the établissement's name, every word in any order, accents and case ignored, like the
    national search; `ville` the same on the town."""
    query = (select(Etablissement).join(Organisme)
             .where(Etablissement.actif.is_(True), Organisme.actif.is_(True),
                    Etablissement.id.in_(select(Habilitation.etablissement_id)
                                         .where(valid_clause(today))))
             .order_by(Etablissement.region, Etablissement.ville, Etablissement.nom,
                       Etablissement.id))
    if region:
        query = query.where(Etablissement.region == region)
    query = query.where(*contient_les_mots(
        func.coalesce(Etablissement.ville, ""), ville), *contient_les_mots(
        Organisme.raison_sociale + " " + Etablissement.nom, nom))
    return paginate(query, page, ANNUAIRE_PAGE, options=(contains_eager(Etablissement.organisme),))


# --- jobs ------------------------------------------------------------------------------------------

def echeances(today: Optional[dt.date] = None) -> dict[str, int]:
    """Daily job: remind 90 and 30 days before the end, then mark ended ones as expired.
    Idempotent (flags on the row) and run under the job lock."""
    today = today or _today()
    counts = {"rappel_90": 0, "rappel_30": 0, "expirees": 0}
    for days, flag in ((90, "rappel_90_envoye"), (30, "rappel_30_envoye")):
        due = db.session.scalars(select(Habilitation).where(
            Habilitation.statut == VALIDEE, getattr(Habilitation, flag).is_(False),
            Habilitation.date_fin <= today + dt.timedelta(days=days),
            Habilitation.date_fin >= today)).all()
        for hab in due:
            claimed = db.session.execute(
                update(Habilitation).where(Habilitation.id == hab.id,
                                           getattr(Habilitation, flag).is_(False))
                .values({flag: True})).rowcount
            if not claimed:
                continue
            if days == 90 and (hab.date_fin - today).days <= 30:
                # Found late (e.g. first run): only the 30-day reminder is sent.
                continue
            notifications.notify(
                _interesses(hab), notifications.HABILITATION,
                _("Habilitation à renouveler : %(etab)s", etab=hab.etablissement.nom),
                _("L'habilitation de %(etab)s (%(portee)s) se termine le %(fin)s. Demandez son "
                  "renouvellement avec le bouton « Renouveler ».",
                  etab=hab.etablissement.nom, portee=hab.portee_label,
                  fin=hab.date_fin.strftime("%d/%m/%Y")),
                lien=f"/etablissementview/show/{hab.etablissement_id}")
            counts[f"rappel_{days}"] += 1
        db.session.commit()
    ended = db.session.scalars(select(Habilitation).where(
        Habilitation.statut == VALIDEE, Habilitation.date_fin < today)).all()
    for hab in ended:
        changed = db.session.execute(
            update(Habilitation).where(Habilitation.id == hab.id, Habilitation.statut == VALIDEE)
            .values(statut=EXPIREE)).rowcount
        if changed:
            notifications.notify(
                _interesses(hab), notifications.HABILITATION,
                _("Habilitation expirée : %(etab)s", etab=hab.etablissement.nom),
                _("L'habilitation de %(etab)s (%(portee)s) a pris fin le %(fin)s.",
                  etab=hab.etablissement.nom, portee=hab.portee_label,
                  fin=hab.date_fin.strftime("%d/%m/%Y")),
                lien=f"/etablissementview/show/{hab.etablissement_id}")
            counts["expirees"] += 1
    db.session.commit()
    return counts


def branches() -> Iterable[Branche]:
    return db.session.scalars(select(Branche).order_by(Branche.nom))
