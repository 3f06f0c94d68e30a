"""Certification, first part (guide §18, DESIGN §7): « Envoyer en certification » after the
check list, routing to the Transitions Pro of the établissement's region or to the branche's
CPNE, assignment to the next open session of that jury (also when a session opens later),
« Annuler l'envoi » (Administrateur réseau and Certif Pro), sessions that must be paritaire."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Certificateur
from app.models import candidature as C
from app.models.candidature import Candidature
from app.models.jury import CLOSE, EMPLOYEURS, OUVERTE, PREPARATION, SALARIES, MembreJury, SessionJury
from app.security import perimeter
from app.security import roles as R
from app.security.access import ensure_can
from app.security.matrix import UPDATE

from . import audit, notifications
from .candidatures import transition
from .dates import parse_date
from .errors import ForbiddenError, RuleError

CHAMPS_ENVOI = (
    ("nom_naissance", _l("nom de naissance")), ("prenoms", _l("prénom(s)")),
    ("date_naissance", _l("date de naissance")), ("email", _l("adresse e-mail")),
    ("adresse", _l("adresse postale")), ("code_postal", _l("code postal")),
    ("ville", _l("ville")),
)


def champs_manquants(candidature: Candidature) -> list[str]:
    """The guide's check list before sending: identity, birth, e-mail, postal address."""
    candidat = candidature.candidat
    manque = [str(label) for field, label in CHAMPS_ENVOI if not getattr(candidat, field)]
    if not (candidat.commune_naissance or candidat.pays_naissance):
        manque.append(_("lieu de naissance"))
    return manque


def destinataire(candidature: Candidature) -> Certificateur:
    """The branche's CPNE for a socle contextualisé, else the Transitions Pro of the region."""
    if candidature.socle_contextualise and candidature.branche_id:
        cert = db.session.scalars(select(Certificateur).where(
            Certificateur.type == "cpne", Certificateur.branche_id == candidature.branche_id)
        ).first()
        if cert is None:
            raise RuleError(_("Aucune CPNE n'est enregistrée pour la branche de ce dossier."))
        return cert
    region = candidature.etablissement.region
    cert = db.session.scalars(select(Certificateur).where(
        Certificateur.type == "transitions_pro", Certificateur.region == region)).first()
    if cert is None:
        raise RuleError(_("Aucun jury Transitions Pro n'est enregistré pour la région de "
                          "l'établissement."))
    return cert


def envoyer_en_certification(candidature: Candidature, by: Any) -> Candidature:
    """Send a validated dossier to its jury (guide §18)."""
    ensure_can(by, "Candidature", UPDATE)
    perimeter.get_or_404(Candidature, candidature.id, by)
    if candidature.statut != C.A_ENVOYER:
        raise RuleError(_("Seule une évaluation validée peut être envoyée en certification."))
    if not candidature.etablissement.organisme.actif:
        raise RuleError(_("L'organisme est inactif : il ne peut plus envoyer de dossiers."))
    manque = champs_manquants(candidature)
    if manque:
        raise RuleError(_("Complétez avant l'envoi : %(champs)s.", champs=", ".join(manque)))
    jury = destinataire(candidature)
    transition(candidature, C.ATTENTE_JURY, by, _("Envoyé au jury %(jury)s", jury=jury.nom))
    candidature.certificateur_id = jury.id
    candidature.envoye_le = dt.datetime.now()
    _informer(candidature, _("Dossier envoyé en certification : %(nom)s",
                             nom=candidature.candidat.nom_complet),
              _("Le dossier est transmis au jury %(jury)s.", jury=jury.nom))
    affecter_session(candidature)
    audit.record(by, "envoyer_en_certification", candidature, jury.nom)
    db.session.commit()
    return candidature


def prochaine_session(certificateur_id: int, today: Optional[dt.date] = None
                      ) -> Optional[SessionJury]:
    today = today or dt.date.today()
    return db.session.scalars(
        select(SessionJury).where(SessionJury.certificateur_id == certificateur_id,
                                  SessionJury.statut == OUVERTE,
                                  SessionJury.date_limite >= today)
        .order_by(SessionJury.date_session, SessionJury.id).limit(1)).first()


def affecter_session(candidature: Candidature, today: Optional[dt.date] = None) -> bool:
    """Assign a dossier waiting for a jury to the next open session (the caller commits)."""
    if candidature.statut != C.ATTENTE_JURY or candidature.certificateur_id is None:
        return False
    session = prochaine_session(candidature.certificateur_id, today)
    if session is None:
        return False  # waits: « en attente d'affectation à un jury »
    transition(candidature, C.ATTENTE_CERTIFICATION, None,
               _("Affecté à la session du %(date)s", date=session.date_session.strftime(
                   "%d/%m/%Y")))
    candidature.session_jury_id = session.id
    _informer(candidature, _("Dossier affecté à un jury : %(nom)s",
                             nom=candidature.candidat.nom_complet),
              _("Session du %(date)s (%(jury)s).", date=session.date_session.strftime(
                  "%d/%m/%Y"), jury=session.certificateur.nom))
    return True


def peut_annuler_envoi(user: Any) -> bool:
    """Below Administrateur réseau nobody changes anything once sent (DESIGN §5)."""
    if user is None or R.is_technical_admin(user):
        return True
    role = R.role_of(user)
    return role is not None and role.level is not None and role.level >= R.ADMIN_RESEAU.level


def annuler_envoi(candidature: Candidature, by: Any) -> Candidature:
    """« Annuler l'envoi »: Administrateur réseau and Certif Pro only, before a decision."""
    ensure_can(by, "Candidature", UPDATE)
    perimeter.get_or_404(Candidature, candidature.id, by)
    if not peut_annuler_envoi(by):
        raise ForbiddenError(_("Seuls l'administrateur réseau et Certif Pro peuvent annuler un "
                               "envoi en certification."))
    if candidature.statut not in (C.ATTENTE_JURY, C.ATTENTE_CERTIFICATION):
        raise RuleError(_("L'envoi ne peut plus être annulé : le jury a statué ou demandé des "
                          "compléments."))
    transition(candidature, C.A_ENVOYER, by, _("Envoi annulé"))
    candidature.certificateur_id = None
    candidature.session_jury_id = None
    candidature.envoye_le = None
    audit.record(by, "annuler_envoi", candidature)
    db.session.commit()
    return candidature


def _informer(candidature: Candidature, titre: str, texte: str) -> None:
    notifications.notify(
        notifications.gestionnaires_etablissement(candidature.etablissement),
        notifications.CERTIFICATION, titre, texte, lien=f"/candidature/{candidature.id}")


def _peut_gerer_sessions(by: Any, certificateur: Certificateur) -> None:
    if by is None or R.is_technical_admin(by) or R.role_of(by) is R.CERTIF_PRO:
        return
    if R.role_of(by) is R.JURY and by.certificateur_id == certificateur.id:
        return
    raise ForbiddenError(_("Seuls Certif Pro et le certificateur gèrent ses sessions de jury."))


def creer_session(data: dict, by: Any) -> SessionJury:
    certificateur = db.session.get(Certificateur, int(data.get("certificateur_id") or 0))
    if certificateur is None or certificateur.type == "certif_pro":
        raise RuleError(_("Choisissez le jury (Transitions Pro ou CPNE)."),
                        field="certificateur_id")
    _peut_gerer_sessions(by, certificateur)
    jour = parse_date(data.get("date_session"), "date_session")
    limite = parse_date(data.get("date_limite"), "date_limite")
    if jour is None or limite is None:
        raise RuleError(_("Indiquez la date de la session et la date limite de dépôt."),
                        field="date_session")
    if limite > jour:
        raise RuleError(_("La date limite de dépôt doit précéder la date de la session."),
                        field="date_limite")
    mode = data.get("mode")
    if mode not in ("presentiel", "distanciel"):
        raise RuleError(_("Choisissez le mode : présentiel ou distanciel."), field="mode")
    if mode == "presentiel" and not (data.get("lieu") or "").strip():
        raise RuleError(_("Indiquez le lieu de la session en présentiel."), field="lieu")
    session = SessionJury(certificateur_id=certificateur.id, date_session=jour,
                          date_limite=limite, mode=mode, lieu=(data.get("lieu") or "").strip()
                          or None, statut=PREPARATION)
    for membre in data.get("membres") or []:
        if membre.get("college") not in (EMPLOYEURS, SALARIES) or not membre.get("nom"):
            raise RuleError(_("Chaque membre a un nom et un collège (employeurs ou salariés)."),
                            field="membres")
        session.membres.append(MembreJury(nom=membre["nom"].strip(), college=membre["college"]))
    db.session.add(session)
    db.session.flush()
    audit.record(by, "creer_session_jury", session)
    db.session.commit()
    return session


def ouvrir_session(session: SessionJury, by: Any) -> int:
    """Open a paritaire session; the dossiers waiting for this jury are assigned to it.
    Returns how many were assigned."""
    _peut_gerer_sessions(by, session.certificateur)
    if session.statut != PREPARATION:
        raise RuleError(_("Cette session n'est plus en préparation."))
    colleges = dict(db.session.execute(
        select(MembreJury.college, func.count()).where(MembreJury.session_id == session.id)
        .group_by(MembreJury.college)).all())
    employeurs, salaries = colleges.get(EMPLOYEURS, 0), colleges.get(SALARIES, 0)
    if employeurs == 0 or employeurs != salaries:
        raise RuleError(_("Le jury doit être paritaire : autant de membres du collège employeurs "
                          "(%(e)d) que du collège salariés (%(s)d), au moins un de chaque.",
                          e=employeurs, s=salaries))
    session.statut = OUVERTE
    db.session.flush()
    assigned = assigner_en_attente(session.certificateur_id)
    audit.record(by, "ouvrir_session_jury", session)
    db.session.commit()
    return assigned


def assigner_en_attente(certificateur_id: Optional[int] = None) -> int:
    """Assign every dossier « en attente d'affectation à un jury » that now has an open session
    (called when a session opens, and by the scheduler). The caller commits."""
    query = select(Candidature).where(Candidature.statut == C.ATTENTE_JURY)
    if certificateur_id is not None:
        query = query.where(Candidature.certificateur_id == certificateur_id)
    return sum(1 for c in db.session.scalars(query.order_by(Candidature.envoye_le)).all()
               if affecter_session(c))


def cloturer_session(session: SessionJury, by: Any) -> None:
    _peut_gerer_sessions(by, session.certificateur)
    session.statut = CLOSE
    audit.record(by, "cloturer_session_jury", session)
    db.session.commit()
