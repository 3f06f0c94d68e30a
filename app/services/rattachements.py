"""Demandes de rattachement (guide §16): an établissement asks Certif Pro for the management of
a dossier found by the national search outside its perimeter; accepting moves the dossier (its
documents and history follow it) to the requester's établissement."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any, Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Etablissement
from app.models.candidature import Candidature
from app.models.rattachement import ACCEPTEE, EN_ATTENTE, REFUSEE, Rattachement
from app.security import perimeter
from app.security.access import can, ensure_can
from app.security.matrix import CREATE, UPDATE

from . import audit, lots, motifs, notifications, perimetre
from .candidatures import NON_TRANSFERABLE, _historique, statut_label
from .errors import ConflictError, RuleError
from .pages import Page, paginate

MOTIFS = {
    "demenagement": _l("Déménagement du candidat"),
    "fermeture": _l("Fermeture d'établissement"),
    "choix_beneficiaire": _l("Choix motivé du bénéficiaire"),
    "autre": _l("Autre"),
}
STATUTS = {EN_ATTENTE: _l("En attente"), ACCEPTEE: _l("Acceptée"), REFUSEE: _l("Refusée")}
PAGE_SIZE = 25


def lister(user: Any, page: Any = 0, size: int = PAGE_SIZE) -> Page:
    """« Mes demandes de rattachement »: the requests of the user's perimeter, pending ones
    first then newest first, with the dossier and both établissements each row shows."""
    query = (select(Rattachement).where(perimeter.clause(Rattachement, user))
             .order_by(case((Rattachement.statut == EN_ATTENTE, 0), else_=1),
                       Rattachement.demande_le.desc(), Rattachement.id.desc()))
    return paginate(query, page, size, options=(
        joinedload(Rattachement.candidature).joinedload(Candidature.candidat),
        joinedload(Rattachement.etablissement_origine),
        joinedload(Rattachement.etablissement_cible)))


def rattachable(candidature: Candidature) -> bool:
    """The key icon is offered: a dossier sent to the jury or certified cannot move
    (DESIGN §5)."""
    return candidature.statut not in NON_TRANSFERABLE


def en_attente(candidature_ids: list[int]) -> set[int]:
    """Those of these dossiers that already have a pending request (one query)."""
    if not candidature_ids:
        return set()
    return set(db.session.scalars(select(Rattachement.candidature_id).where(
        Rattachement.candidature_id.in_(candidature_ids), Rattachement.statut == EN_ATTENTE)))


def _non_rattachable(candidature: Candidature) -> str:
    return _("Un dossier au statut « %(statut)s » ne peut pas être rattaché à un autre "
             "établissement.", statut=statut_label(candidature.statut))


def refus_demande(candidature: Candidature) -> Optional[str]:
    """Why the key icon's request would be refused before anything is typed (None: it can
    be asked)."""
    if not rattachable(candidature):
        return _non_rattachable(candidature)
    if en_attente([candidature.id]):
        return _("Une demande de rattachement est déjà en attente pour ce dossier.")
    return None


def _transferable(candidature: Candidature) -> None:
    if not rattachable(candidature):
        raise RuleError(_non_rattachable(candidature))


JETON_HEURES = 24  # how long a search hit's rattachement handle names its dossier


def _fernet():
    from cryptography.fernet import Fernet

    key = hashlib.sha256(b"clea-rattachement:" + current_app.config["SECRET_KEY"].encode()
                         ).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def jeton(candidature_id: int, by: Any) -> str:
    """The handle an API search hit outside the perimeter carries instead of the dossier's
    id: encrypted and authenticated (nothing of the dossier can be read from it), for this
    user only, valid JETON_HEURES. POST /api/v1/rattachement/ accepts it as « jeton »."""
    payload = f"{int(candidature_id)}:{getattr(by, 'id', 0) or 0}".encode()
    return _fernet().encrypt(payload).decode()


def dossier_du_jeton(valeur: Any, by: Any) -> int:
    """The dossier a handle names, if it was given to `by` less than JETON_HEURES ago."""
    from cryptography.fernet import InvalidToken

    refus = RuleError(_("Jeton de rattachement invalide ou expiré : refaites la recherche."),
                      field="jeton")
    if not isinstance(valeur, str) or not 0 < len(valeur) <= 500:
        raise refus
    try:
        candidature_id, user_id = _fernet().decrypt(
            valeur.encode(), ttl=JETON_HEURES * 3600).decode().split(":")
    except (InvalidToken, ValueError, UnicodeError):
        raise refus from None
    if int(user_id) != (getattr(by, "id", 0) or 0) or perimeter.bounded_id(candidature_id) \
            is None:
        raise refus
    return int(candidature_id)


def dossier_demande(candidature_id: Any, valeur_jeton: Any, by: Any) -> Candidature:
    """The dossier a request names: one of the perimeter by its id (a move between its own
    établissements), or one managed elsewhere by the handle of the search hit that showed it
    (`jeton`, for this user, JETON_HEURES). An id alone never reaches a dossier outside the
    perimeter: 404, as for any other row, so that ids cannot be probed."""
    if valeur_jeton not in (None, ""):
        pk = dossier_du_jeton(valeur_jeton, by)
        if candidature_id not in (None, "") and perimeter.bounded_id(candidature_id) != pk:
            raise RuleError(_("Le jeton ne désigne pas ce dossier : refaites la recherche."),
                            field="jeton")
        candidature = db.session.get(Candidature, pk)
        if candidature is None:
            raise RuleError(_("Jeton de rattachement invalide ou expiré : refaites la "
                              "recherche."), field="jeton")
        return candidature
    if candidature_id in (None, ""):
        raise RuleError(_("Indiquez le dossier : « candidature_id » pour un dossier de votre "
                          "périmètre, « jeton » (le « jeton_rattachement » du résultat de "
                          "recherche) pour un dossier géré ailleurs."), field="candidature_id")
    return perimeter.get_or_404(Candidature, candidature_id, by)


def demander(candidature_id: Any, data: dict, by: Any) -> Rattachement:
    """The key icon of a search hit: ask for a dossier managed elsewhere (named by its id, or
    by the « jeton » of an API search hit). The screen and the API name it through
    dossier_demande first (outside the perimeter, only by the handle)."""
    ensure_can(by, "Rattachement", CREATE)
    if data.get("jeton") not in (None, ""):
        candidature_id = dossier_du_jeton(data.get("jeton"), by)
    pk = perimeter.bounded_id(candidature_id)
    candidature = db.session.get(Candidature, pk) if pk else None
    if candidature is None:
        raise RuleError(_("Dossier introuvable."), field="candidature_id")
    cible = perimeter.get_or_404(Etablissement, data.get("etablissement_cible_id"), by) \
        if data.get("etablissement_cible_id") else None
    if cible is None:
        raise RuleError(_("Choisissez l'établissement qui reprendra le dossier."),
                        field="etablissement_cible_id")
    if candidature.etablissement_id == cible.id:
        raise RuleError(_("Ce dossier est déjà géré par cet établissement."))
    _transferable(candidature)
    motif = data.get("motif")
    if motif not in MOTIFS:
        raise RuleError(_("Choisissez le motif de la demande."), field="motif")
    texte = (data.get("motif_texte") or "").strip()
    if not texte:
        raise RuleError(_("Expliquez la demande en quelques mots."), field="motif_texte")
    demande = Rattachement(candidature_id=candidature.id,
                           etablissement_origine_id=candidature.etablissement_id,
                           etablissement_cible_id=cible.id, motif=motif, motif_texte=texte,
                           statut=EN_ATTENTE, demande_par_id=getattr(by, "id", None))
    db.session.add(demande)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(_("Une demande de rattachement est déjà en attente pour ce "
                              "dossier."))
    notifications.notify(
        notifications.certif_pro(), notifications.RATTACHEMENT,
        _("Demande de rattachement : %(nom)s", nom=candidature.candidat.nom_complet),
        _("%(cible)s demande le rattachement du dossier de %(nom)s (géré par %(origine)s).",
          cible=cible.nom, nom=candidature.candidat.nom_complet,
          origine=candidature.etablissement.nom),
        lien=_lien(demande))
    audit.record(by, "demander_rattachement", demande)
    db.session.commit()
    return demande


def _lien(demande: Rattachement) -> str:
    """The request's page: the link of its notifications (marked done once it is decided)."""
    return f"/rattachements/{demande.id}"


def _motif_refus(motif_refus: Any, motif_type: Any) -> str:
    """A refusal's motive: typed, or a standard motive's; refused when there is none."""
    motif = motifs.texte(motifs.RATTACHEMENT, motif_type, motif_refus)
    if not motif:
        raise RuleError(_("Indiquez le motif du refus."), field="motif_refus")
    return motif


def peut_decider(demande: Rattachement, by: Any) -> bool:
    """Certif Pro's « Accepter » / « Refuser » are offered: the request still waits."""
    return demande.statut == EN_ATTENTE and can(by, "Rattachement", UPDATE)


def decider(demande: Rattachement, accepter: bool, motif_refus: str, by: Any,
            motif_type: Any = None) -> Rattachement:
    """Certif Pro accepts (the dossier moves) or refuses with a motive."""
    try:
        _decider(demande, accepter, motif_refus, by, motif_type)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return demande


def _decider(demande: Rattachement, accepter: bool, motif_refus: str, by: Any,
             motif_type: Any = None) -> Rattachement:
    """One decision, checked, written and told; the caller commits (or rolls back)."""
    ensure_can(by, "Rattachement", UPDATE)
    perimeter.get_or_404(Rattachement, demande.id, by)
    if demande.statut != EN_ATTENTE:
        raise ConflictError(_("Cette demande a déjà été traitée."))
    candidature = demande.candidature
    values = {"decide_par_id": getattr(by, "id", None), "decide_le": dt.datetime.now()}
    if accepter:
        _transferable(candidature)  # checked again: the dossier may have moved on meanwhile
        values["statut"] = ACCEPTEE
    else:
        motif_refus = _motif_refus(motif_refus, motif_type)
        values.update(statut=REFUSEE, motif_refus=motif_refus)
    changed = db.session.execute(
        update(Rattachement).where(Rattachement.id == demande.id,
                                   Rattachement.statut == EN_ATTENTE).values(**values)).rowcount
    if not changed:
        raise ConflictError(_("Cette demande a déjà été traitée."))
    if accepter:
        moved = db.session.execute(
            update(Candidature)
            .where(Candidature.id == candidature.id,
                   Candidature.statut.not_in(NON_TRANSFERABLE),
                   Candidature.etablissement_id == demande.etablissement_origine_id)
            .values(etablissement_id=demande.etablissement_cible_id,
                    updated_on=dt.datetime.now())).rowcount
        if not moved:
            raise ConflictError(_("Le dossier a changé entre-temps : il ne peut plus être "
                                  "rattaché."))
        perimetre.recalculer(Candidature.id == candidature.id)  # its organisme, its réseau
        db.session.refresh(candidature)
        _historique(candidature, candidature.statut, candidature.statut, by,
                    _("Rattachement : dossier transféré de %(origine)s à %(cible)s",
                      origine=demande.etablissement_origine.nom,
                      cible=demande.etablissement_cible.nom))
    db.session.refresh(demande)
    notifications.marquer_traitees(notifications.RATTACHEMENT, _lien(demande))
    titre = (_("Rattachement accepté : %(nom)s", nom=candidature.candidat.nom_complet)
             if accepter else
             _("Rattachement refusé : %(nom)s", nom=candidature.candidat.nom_complet))
    texte = (_("Le dossier est désormais géré par %(cible)s.", cible=demande.etablissement_cible.nom)
             if accepter else _("Motif du refus : %(motif)s", motif=demande.motif_refus))
    notifications.notify([demande.demande_par] if demande.demande_par else [],
                         notifications.RATTACHEMENT, titre, texte,
                         lien=(f"/candidature/{candidature.id}" if accepter
                               else _lien(demande)))
    audit.record(by, "decider_rattachement", demande, "acceptee" if accepter else "refusee")
    return demande


def decider_en_lot(ids: Any, accepter: bool, motif_refus: str, by: Any,
                   motif_type: Any = None) -> list[lots.Resultat]:
    """The same decision for the requests ticked (services/lots: one transaction, a
    savepoint per request, a report line each). A refusal's motive is checked first:
    without it nothing is decided."""
    ensure_can(by, "Rattachement", UPDATE)
    uniques = lots.identifiants(ids)
    if not accepter:
        _motif_refus(motif_refus, motif_type)
    return lots.decider(
        uniques, lambda pk: db.session.get(Rattachement, pk),
        lambda d: d.candidature.candidat.nom_complet,
        lambda d: _decider(d, accepter, motif_refus, by, motif_type),
        lambda d: _("Acceptée : le dossier est transféré à %(cible)s.",
                    cible=d.etablissement_cible.nom) if accepter
        else _("Refusée : %(motif)s", motif=d.motif_refus),
        by, "decider_rattachements_en_lot")
