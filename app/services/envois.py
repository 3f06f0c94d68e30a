"""Shipments of paper certificates (guide §20, issue 16): Certif Pro posts the certificates
asked on paper in batches (lots), each letter with the address used and, when it has one, its
tracking number; a letter that comes back is recorded with its reason (the dossier's managers
are told to check the address); a returned letter is posted again with a motive. Every list
is paginated."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.extensions import db
from app.models import candidature as C
from app.models.candidature import Candidature
from app.models.jury import Certificat, EnvoiCertificat, LotEnvoi
from app.security import perimeter
from app.security.access import ensure_can
from app.security.matrix import CREATE, UPDATE

from . import audit, notifications
from .dates import parse_date
from .errors import ConflictError, RuleError
from .pages import Page, paginate

ENVOIS_PAGE = 50
LOTS_PAGE = 20
RETOURS_PAGE = 20
SUIVI_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]{0,59}$")
MOTIF_RENVOI_MIN = 5
# why a letter came back (the post's usual reasons)
RETOURS = {
    "npai": _l("N'habite pas à l'adresse indiquée"),
    "adresse": _l("Adresse incomplète ou erronée"),
    "refuse": _l("Pli refusé par le destinataire"),
    "non_reclame": _l("Pli non réclamé"),
    "autre": _l("Autre motif"),
}


def retour_label(code: Any) -> str:
    return str(RETOURS.get(code, code or ""))


# --- what to post ---------------------------------------------------------------------------

def a_expedier_query():
    """Certificates asked on paper and never posted."""
    return (select(Certificat).join(Candidature, Candidature.id == Certificat.candidature_id)
            .where(Candidature.certificat_papier.is_(True), Candidature.statut == C.CERTIFIEE,
                   ~Certificat.envois.any())
            .options(joinedload(Certificat.candidature).joinedload(Candidature.candidat))
            .order_by(Certificat.numero))


def a_expedier(ids: Optional[list] = None) -> list[Certificat]:
    """The certificates to post (for the addresses export); only the checked ones when `ids`
    is given."""
    query = a_expedier_query()
    ids = [int(i) for i in ids or [] if str(i).isdigit()]
    if ids:
        query = query.where(Certificat.id.in_(ids))
    return list(db.session.scalars(query).unique())


def page_a_expedier(page: Any = 0) -> Page:
    """One page of « Envois de certificats »: the certificates to post, by number."""
    return paginate(a_expedier_query(), page, ENVOIS_PAGE)


def lots(page: Any = 0) -> Page:
    """One page of the batches posted (newest first), with their number of certificates."""
    return paginate(
        select(LotEnvoi, func.count(EnvoiCertificat.id))
        .join(EnvoiCertificat, EnvoiCertificat.lot_id == LotEnvoi.id)
        .group_by(LotEnvoi.id).order_by(LotEnvoi.id.desc()), page, LOTS_PAGE,
        options=(selectinload(LotEnvoi.par),), scalars=False)


def certificats_du_lot(lot_id: int) -> list[Certificat]:
    return list(db.session.scalars(
        select(Certificat).join(EnvoiCertificat, EnvoiCertificat.certificat_id == Certificat.id)
        .where(EnvoiCertificat.lot_id == lot_id)
        .options(joinedload(Certificat.candidature).joinedload(Candidature.candidat))
        .order_by(Certificat.numero)).unique())


def _envois_query():
    """Every letter posted, with its certificate, dossier and candidate, and the re-shipping
    that replaced it (if any)."""
    return (select(EnvoiCertificat)
            .options(joinedload(EnvoiCertificat.certificat).joinedload(Certificat.candidature)
                     .joinedload(Candidature.candidat),
                     selectinload(EnvoiCertificat.renvoi)))


def envois_du_lot(lot_id: int, page: Any = 0) -> Page:
    """One page of a batch's letters, by certificate number."""
    return paginate(_envois_query().join(Certificat, Certificat.id == EnvoiCertificat.certificat_id)
                    .where(EnvoiCertificat.lot_id == lot_id).order_by(Certificat.numero),
                    page, ENVOIS_PAGE)


def _a_reexpedier():
    """Returned letters not posted again yet."""
    renvoi = aliased(EnvoiCertificat)
    return and_(EnvoiCertificat.retour_le.is_not(None),
                ~select(renvoi.id).where(renvoi.renvoi_de_id == EnvoiCertificat.id).exists())


def retours_a_traiter(page: Any = 0) -> Page:
    """The returned letters not posted again yet, oldest return first."""
    return paginate(_envois_query().where(_a_reexpedier())
                    .order_by(EnvoiCertificat.retour_le, EnvoiCertificat.id), page, RETOURS_PAGE)


def lister(filtres: Any, page: Any = 0, clamp: bool = False) -> Page:
    """The letters posted, newest first (the API's list): `etat` « retour » keeps the returned
    ones still to post again, « envoye » the others; `lot` one batch; `certificat` one
    certificate's postings."""
    query = _envois_query()
    etat = filtres.get("etat")
    if etat == "retour":
        query = query.where(_a_reexpedier())
    elif etat == "envoye":
        query = query.where(EnvoiCertificat.retour_le.is_(None))
    elif etat not in (None, ""):
        raise RuleError(_("« etat » vaut envoye ou retour."), field="etat")
    for key, column in (("lot", EnvoiCertificat.lot_id),
                        ("certificat", EnvoiCertificat.certificat_id)):
        value = perimeter.bounded_id(filtres.get(key))
        if filtres.get(key) not in (None, "") and not value:
            raise RuleError(_("Identifiant invalide."), field=key)
        if value:
            query = query.where(column == value)
    return paginate(query.order_by(EnvoiCertificat.id.desc()), page, ENVOIS_PAGE, clamp=clamp)


def etat(envoi: EnvoiCertificat) -> str:
    """« Envoyé », « Revenu le … (motif) » or « Réexpédié le … » (what the lists show)."""
    if envoi.renvoi is not None:
        return _("Revenu le %(retour)s, réexpédié le %(renvoi)s",
                 retour=envoi.retour_le.strftime("%d/%m/%Y"),
                 renvoi=envoi.renvoi.date_envoi.strftime("%d/%m/%Y"))
    if envoi.retour_le is not None:
        return _("Revenu le %(date)s : %(motif)s", date=envoi.retour_le.strftime("%d/%m/%Y"),
                 motif=retour_label(envoi.retour_motif))
    return _("Envoyé")


def adresse_postale(candidature: Candidature) -> str:
    c = candidature.candidat
    return "\n".join(p for p in (f"{c.civilite} {c.prenoms} {c.nom_naissance.upper()}",
                                  c.adresse or "", f"{c.code_postal or ''} {c.ville or ''}".strip())
                     if p)


def _suivi(value: Any, field: str) -> Optional[str]:
    """An optional tracking number: letters, digits, spaces, . - / (60 at most)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not SUIVI_RE.match(value.strip()):
        raise RuleError(_("Numéro de suivi invalide : 60 caractères au plus, lettres, chiffres, "
                          "espaces et . - /"), field=field)
    return value.strip()


def _jour(value: Any, field: str, label: str, depuis: Optional[dt.date] = None) -> dt.date:
    jour = parse_date(value, field)
    if jour is None:
        raise RuleError(_("Indiquez la %(quoi)s.", quoi=label), field=field)
    if jour > dt.date.today():
        raise RuleError(_("La %(quoi)s ne peut pas être dans le futur.", quoi=label),
                        field=field)
    if depuis is not None and jour < depuis:
        raise RuleError(_("La %(quoi)s ne peut pas précéder le %(date)s.", quoi=label,
                          date=depuis.strftime("%d/%m/%Y")), field=field)
    return jour


# --- commands --------------------------------------------------------------------------------

def enregistrer_envois(certificat_ids: list[int], date_envoi: Any, by: Any,
                       suivis: Optional[dict] = None) -> LotEnvoi:
    """Certif Pro records a batch of posted certificates: date, the address used and, for
    each letter that has one, its tracking number (`suivis`: {certificate id: number})."""
    ensure_can(by, "EnvoiCertificat", CREATE)
    jour = parse_date(date_envoi, "date_envoi")
    if jour is None:
        raise RuleError(_("Indiquez la date d'envoi."), field="date_envoi")
    if jour > dt.date.today():
        raise RuleError(_("La date d'envoi ne peut pas être dans le futur."), field="date_envoi")
    ids = sorted({int(i) for i in certificat_ids if str(i).isdigit()})
    if not ids:
        raise RuleError(_("Cochez au moins un certificat à envoyer."), field="certificats")
    numeros = {}
    for key, value in (suivis or {}).items():
        pk = perimeter.bounded_id(key)
        numero = _suivi(value, f"suivi_{key}")
        if pk and numero:
            numeros[pk] = numero
    certificats = db.session.scalars(select(Certificat).where(Certificat.id.in_(ids))
                                     .options(joinedload(Certificat.candidature))).unique().all()
    if len(certificats) != len(ids):
        raise RuleError(_("Un des certificats cochés n'existe pas."), field="certificats")
    sans_papier = [c.numero for c in certificats if not c.candidature.certificat_papier]
    if sans_papier:
        raise RuleError(_("Pas de certificat papier demandé pour : %(numeros)s.",
                          numeros=", ".join(sans_papier)), field="certificats")
    deja = set(db.session.scalars(select(EnvoiCertificat.certificat_id).where(
        EnvoiCertificat.certificat_id.in_(ids))))
    if deja:
        numeros_deja = ", ".join(c.numero for c in certificats if c.id in deja)
        raise ConflictError(_("Déjà envoyé (un lot le contient) : %(numeros)s.",
                              numeros=numeros_deja), field="certificats")
    lot = LotEnvoi(date_envoi=jour, par_id=getattr(by, "id", None))
    db.session.add(lot)
    db.session.flush()
    for certificat in certificats:
        db.session.add(EnvoiCertificat(certificat_id=certificat.id, lot_id=lot.id, date_envoi=jour,
                                       adresse=adresse_postale(certificat.candidature),
                                       numero_suivi=numeros.get(certificat.id)))
    audit.record(by, "enregistrer_envois", lot, str(len(certificats)))
    db.session.commit()
    return lot


def peut_signaler_retour(envoi: EnvoiCertificat) -> bool:
    """« Signaler un retour » is offered: the letter is still out (no return recorded)."""
    return envoi.retour_le is None


def signaler_retour(envoi: EnvoiCertificat, data: dict, by: Any) -> EnvoiCertificat:
    """« Signaler un retour »: the letter came back (date, reason; « Autre » says which).
    The dossier's managers are told to check the candidate's address."""
    ensure_can(by, "EnvoiCertificat", UPDATE)
    if not peut_signaler_retour(envoi):
        raise ConflictError(_("Ce retour est déjà enregistré (le %(date)s).",
                              date=envoi.retour_le.strftime("%d/%m/%Y")))
    motif = data.get("motif")
    if motif not in RETOURS:
        raise RuleError(_("Choisissez le motif du retour."), field="motif")
    detail = (data.get("detail") if isinstance(data.get("detail"), str) else "").strip()
    if motif == "autre" and not detail:
        raise RuleError(_("Précisez le motif du retour."), field="detail")
    if len(detail) > 2000:
        raise RuleError(_("Le détail du retour tient en 2000 caractères au plus."),
                        field="detail")
    jour = _jour(data.get("date_retour") or dt.date.today().isoformat(), "date_retour",
                 _("date du retour"), depuis=envoi.date_envoi)
    envoi.retour_le, envoi.retour_motif, envoi.retour_detail = jour, motif, detail or None
    candidature = envoi.certificat.candidature
    notifications.notify(
        notifications.gestionnaires_etablissement(candidature.etablissement),
        notifications.CERTIFICATION,
        _("Certificat revenu à Certif Pro : %(nom)s", nom=candidature.candidat.nom_complet),
        _("Le certificat n° %(numero)s envoyé le %(date)s est revenu (%(motif)s). Vérifiez "
          "l'adresse du candidat dans son dossier : Certif Pro le réexpédiera.",
          numero=envoi.certificat.numero, date=envoi.date_envoi.strftime("%d/%m/%Y"),
          motif=retour_label(motif)),
        lien=f"/candidature/{candidature.id}")
    audit.record(by, "signaler_retour_envoi", envoi.certificat,
                 retour_label(motif) + (f" — {detail}" if detail else ""))
    db.session.commit()
    return envoi


def reexpedier(envoi: EnvoiCertificat, data: dict, by: Any) -> EnvoiCertificat:
    """« Réexpédier »: a returned letter is posted again, with a motive, to the candidate's
    current address, in a new batch of its own."""
    ensure_can(by, "EnvoiCertificat", CREATE)
    if envoi.retour_le is None:
        raise RuleError(_("Seul un envoi revenu peut être réexpédié : signalez d'abord le "
                          "retour."))
    if envoi.renvoi is not None:
        raise ConflictError(_("Cet envoi a déjà été réexpédié le %(date)s.",
                              date=envoi.renvoi.date_envoi.strftime("%d/%m/%Y")))
    motif = (data.get("motif") if isinstance(data.get("motif"), str) else "").strip()
    if len(motif) < MOTIF_RENVOI_MIN:
        raise RuleError(_("Indiquez le motif de la réexpédition (%(n)d caractères au moins).",
                          n=MOTIF_RENVOI_MIN), field="motif")
    if len(motif) > 2000:
        raise RuleError(_("Le motif tient en 2000 caractères au plus."), field="motif")
    jour = _jour(data.get("date_envoi") or dt.date.today().isoformat(), "date_envoi",
                 _("date d'envoi"), depuis=envoi.retour_le)
    numero = _suivi(data.get("numero_suivi"), "numero_suivi")
    lot = LotEnvoi(date_envoi=jour, par_id=getattr(by, "id", None))
    db.session.add(lot)
    db.session.flush()
    nouveau = EnvoiCertificat(certificat_id=envoi.certificat_id, lot_id=lot.id,
                              date_envoi=jour, adresse=adresse_postale(envoi.certificat.candidature),
                              numero_suivi=numero, renvoi_de_id=envoi.id, motif_renvoi=motif)
    db.session.add(nouveau)
    db.session.flush()
    audit.record(by, "reexpedier_envoi", envoi.certificat, motif)
    db.session.commit()
    db.session.refresh(envoi)
    return nouveau


def export_adresses(certificats: list[Certificat], by: Any = None, quoi: str = "") -> bytes:
    """The address labels as .xlsx, written as every export is (services/exports.ecrire): a
    first sheet saying what it holds (`quoi`), for whom and when; then the addresses, the
    jury's date as a date, the header frozen and filtered."""
    import shutil
    import tempfile
    from pathlib import Path

    from .exports import Feuille, ecrire, feuille_de_garde

    dossier = tempfile.mkdtemp(prefix="clea-adresses-")
    try:
        path = str(Path(dossier) / "adresses.xlsx")
        ecrire(path, [Feuille(_("Adresses"), [
            _("N° de certificat"), _("Civilité"), _("Prénom(s)"), _("Nom"), _("Adresse"),
            _("Code postal"), _("Ville"), _("Date du jury")], [
            [certificat.numero, c.civilite, c.prenoms, c.nom_naissance.upper(),
             c.adresse or "", c.code_postal or "", c.ville or "", certificat.date_jury]
            for certificat in certificats for c in (certificat.candidature.candidat,)])],
            garde=feuille_de_garde(by, quoi or _("Adresses des certificats à expédier"),
                                   [(_("Certificats"), len(certificats))]))
        return Path(path).read_bytes()
    finally:
        shutil.rmtree(dossier, ignore_errors=True)
