"""Certification, first part (guide §18, DESIGN §7): « Envoyer en certification » after the
check list, routing to the Transitions Pro of the établissement's region or to the branche's
CPNE, assignment to the next open session of that jury (also when a session opens later),
« Annuler l'envoi » (Administrateur réseau and Certif Pro), sessions that must be paritaire and
are never programmed in the past, decisions and closing from the session's date on,
complements, certificate numbers and PDFs (public URL from configuration), shipments."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import uuid
from typing import Any, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import joinedload
from sqlalchemy import and_, func, or_, select, update

from app.extensions import db
from app.models import Certificateur, Etablissement
from app.models import candidature as C
from app.models.candidature import Candidat, Candidature
from app.models.jury import (ANNULEE, CERTIFIEE, CLOSE, COMPLEMENT, EMPLOYEURS, NON_CERTIFIEE, OUVERTE,
                             PREPARATION, SALARIES, Certificat, CompteurCertificat, DecisionJury,
                             MembreJury, SessionJury, VoteJury)
from app.security import perimeter
from app.security import roles as R
from app.security.access import can, ensure_can
from app.security.matrix import UPDATE

from . import (audit, documents, formats, habilitations, inspection, motifs, notifications, pdf,
               signature, stockage)
from .candidatures import exiger_ecriture, transition
from .candidatures import noter_historique as candidatures_historique
from .dates import parse_date
from .urls import public_url
from .errors import ConflictError, ForbiddenError, RuleError
from .pages import Page, paginate

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
    exiger_ecriture(candidature, by, _("L'organisme est inactif : il ne peut plus envoyer de "
                                       "dossiers."))
    if candidature.statut != C.A_ENVOYER:
        raise RuleError(_("Seule une évaluation validée peut être envoyée en certification."))
    manque = champs_manquants(candidature)
    if manque:
        raise RuleError(_("Complétez avant l'envoi : %(champs)s.", champs=", ".join(manque)))
    if candidature.socle_contextualise:
        refus = habilitations.refus_socle(candidature.etablissement, candidature.branche_id)
        if refus:
            raise RuleError(refus)
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
    """Assign a dossier waiting for a jury to the next open session (the caller commits).
    A « Candidature complétée » keeps its status and goes before the next session."""
    complete = candidature.statut == C.COMPLETEE and candidature.session_jury_id is None
    if candidature.certificateur_id is None or not (
            complete or candidature.statut == C.ATTENTE_JURY):
        return False
    session = prochaine_session(candidature.certificateur_id, today)
    if session is None:
        return False  # waits: « en attente d'affectation à un jury »
    jour = session.date_session.strftime("%d/%m/%Y")
    if complete:
        titre = _("Dossier complété présenté au jury : %(nom)s",
                  nom=candidature.candidat.nom_complet)
    else:
        transition(candidature, C.ATTENTE_CERTIFICATION, None,
                   _("Affecté à la session du %(date)s", date=jour))
        titre = _("Dossier affecté à un jury : %(nom)s", nom=candidature.candidat.nom_complet)
    candidature.session_jury_id = session.id
    _informer(candidature, titre, _("Session du %(date)s (%(jury)s).", date=jour,
                                    jury=session.certificateur.nom))
    return True


def peut_annuler_envoi(user: Any) -> bool:
    """Below Administrateur réseau nobody changes anything once sent (DESIGN §5)."""
    if user is None or R.is_technical_admin(user):
        return True
    role = R.role_of(user)
    return role is not None and role.level is not None and role.level >= R.ADMIN_RESEAU.level


MOTIF_ANNULATION_MIN = 10  # characters: the history must tell why the send was cancelled


def annulable(candidature: Candidature) -> bool:
    """A send can be cancelled until the jury has decided or asked for complements."""
    return candidature.statut in (C.ATTENTE_JURY, C.ATTENTE_CERTIFICATION)


def peut_annuler(candidature: Candidature, by: Any) -> bool:
    """« Annuler l'envoi » is offered: the role may, and the jury has not decided yet."""
    return (can(by, "Candidature", UPDATE) and peut_annuler_envoi(by)
            and annulable(candidature))


def annuler_envoi(candidature: Candidature, motif: str, by: Any) -> Candidature:
    """« Annuler l'envoi »: Administrateur réseau and Certif Pro only, before a decision, with
    a motive that the dossier's history shows."""
    ensure_can(by, "Candidature", UPDATE)
    perimeter.get_or_404(Candidature, candidature.id, by)
    if not peut_annuler_envoi(by):
        raise ForbiddenError(_("Seuls l'administrateur réseau et Certif Pro peuvent annuler un "
                               "envoi en certification."))
    if not annulable(candidature):
        raise RuleError(_("L'envoi ne peut plus être annulé : le jury a statué ou demandé des "
                          "compléments."))
    motif = motif.strip() if isinstance(motif, str) else ""
    if len(motif) < MOTIF_ANNULATION_MIN:
        raise RuleError(_("Indiquez le motif de l'annulation (%(n)d caractères au moins) : il "
                          "figure dans l'historique du dossier.", n=MOTIF_ANNULATION_MIN),
                        field="motif")
    transition(candidature, C.A_ENVOYER, by, _("Envoi annulé : %(motif)s", motif=motif))
    candidature.certificateur_id = None
    candidature.session_jury_id = None
    candidature.envoye_le = None
    _informer(candidature, _("Envoi en certification annulé : %(nom)s",
                             nom=candidature.candidat.nom_complet),
              _("Motif : %(motif)s", motif=motif))
    audit.record(by, "annuler_envoi", candidature, motif)
    db.session.commit()
    return candidature


def suivi(candidature: Candidature) -> str:
    """Where a sent dossier stands, as its page says it after « Jury : … · envoyé le … »."""
    statut = candidature.statut
    session = candidature.session_jury
    jour = session.date_session.strftime("%d/%m/%Y") if session else ""
    if statut == C.ATTENTE_JURY:
        return _("en attente d'affectation à un jury")
    if statut == C.ATTENTE_CERTIFICATION and session:
        return _("session du %(date)s : en attente de la décision du jury", date=jour)
    if statut == C.ATTENTE_COMPLEMENT:
        demande = derniere_decision(candidature)
        if demande is not None:
            return _("le jury du %(date)s a demandé des compléments : en attente de la réponse "
                     "de l'organisme", date=demande.session.date_session.strftime("%d/%m/%Y"))
        return _("compléments demandés par le jury : en attente de la réponse de l'organisme")
    if statut == C.COMPLETEE:
        if session:
            return _("compléments apportés : présenté au jury du %(date)s", date=jour)
        return _("compléments apportés : en attente de la prochaine session du jury")
    if statut in (C.CERTIFIEE, C.NON_CERTIFIEE) and session:
        return _("décision du jury du %(date)s", date=jour)
    return ""


def _informer(candidature: Candidature, titre: str, texte: str) -> None:
    notifications.notify(
        notifications.gestionnaires_etablissement(candidature.etablissement),
        notifications.CERTIFICATION, titre, texte, lien=f"/candidature/{candidature.id}")


def _jurys():
    """Every jury (Transitions Pro, CPNE) by name: Certif Pro certifies no dossier itself."""
    return select(Certificateur).where(Certificateur.type != "certif_pro").order_by(
        Certificateur.nom)


def noms_des_jurys() -> list:
    """(id, nom) of every jury: the « Jury » filters' choices (lists, Stats)."""
    return db.session.execute(_jurys().with_only_columns(Certificateur.id,
                                                         Certificateur.nom)).all()


def certificateurs_geres(by: Any) -> list[Certificateur]:
    """The juries whose sessions this user manages (the session form's choices)."""
    return [c for c in db.session.scalars(_jurys()) if peut_gerer_sessions(by, c.id)]


def peut_gerer_sessions(by: Any, certificateur_id: int) -> bool:
    """Certif Pro, or the certificateur's own jury."""
    if by is None or R.is_technical_admin(by) or R.role_of(by) is R.CERTIF_PRO:
        return True
    return R.role_of(by) is R.JURY and by.certificateur_id == certificateur_id


def _peut_gerer_sessions(by: Any, certificateur: Certificateur) -> None:
    if not peut_gerer_sessions(by, certificateur.id):
        raise ForbiddenError(_("Seuls Certif Pro et le certificateur gèrent ses sessions de "
                               "jury."))


def session_commencee(session: SessionJury, today: Optional[dt.date] = None) -> bool:
    """A jury decides, and its session is closed, only from the session's date on."""
    return session.date_session <= (today or dt.date.today())


def _calendrier_session(data: dict, today: dt.date, actuelle: Optional[dt.date] = None
                        ) -> tuple[dt.date, dt.date, str, Optional[str]]:
    """The date, deadline, mode and place of a session, checked: never in the past (a date
    kept as it was, `actuelle`, may be: the session has begun), the deadline before the
    session, a place for a session in person."""
    jour = parse_date(data.get("date_session"), "date_session")
    limite = parse_date(data.get("date_limite"), "date_limite")
    if jour is None or limite is None:
        raise RuleError(_("Indiquez la date de la session et la date limite de dépôt."),
                        field="date_session")
    if jour < today and jour != actuelle:
        raise RuleError(_("La date de la session ne peut pas être passée : choisissez "
                          "aujourd'hui ou une date à venir."), field="date_session")
    if limite > jour:
        raise RuleError(_("La date limite de dépôt doit précéder la date de la session."),
                        field="date_limite")
    mode = data.get("mode")
    if mode not in ("presentiel", "distanciel"):
        raise RuleError(_("Choisissez le mode : présentiel ou distanciel."), field="mode")
    lieu = (data.get("lieu") or "").strip()[:200] or None
    if mode == "presentiel" and not lieu:
        raise RuleError(_("Indiquez le lieu de la session en présentiel."), field="lieu")
    return jour, limite, mode, lieu


def creer_session(data: dict, by: Any, today: Optional[dt.date] = None) -> SessionJury:
    """« Programmer une session »: never in the past (a certificate reads the session's date).
    `today` is the day the session is programmed (the demo's history uses an earlier one)."""
    today = today or dt.date.today()
    certificateur = db.session.get(Certificateur, int(data.get("certificateur_id") or 0))
    if certificateur is None or certificateur.type == "certif_pro":
        raise RuleError(_("Choisissez le jury (Transitions Pro ou CPNE)."),
                        field="certificateur_id")
    _peut_gerer_sessions(by, certificateur)
    jour, limite, mode, lieu = _calendrier_session(data, today)
    session = SessionJury(certificateur=certificateur, date_session=jour,
                          date_limite=limite, mode=mode, lieu=lieu, statut=PREPARATION)
    for membre in data.get("membres") or []:
        if not isinstance(membre, dict):
            raise RuleError(_("Chaque membre a un nom et un collège (employeurs ou salariés)."),
                            field="membres")
        _nouveau_membre(session, membre.get("nom"), membre.get("college"),
                        membre.get("user_id"), membre.get("president"))
    db.session.add(session)
    db.session.flush()
    audit.record(by, "creer_session_jury", session)
    db.session.commit()
    return session


def _nouveau_membre(session: SessionJury, nom: Any, college: Any, user_id: Any = None,
                    president: Any = False) -> MembreJury:
    """A member added to the session (checked): an account of the jury, or a name."""
    if college not in (EMPLOYEURS, SALARIES):
        raise RuleError(_("Chaque membre a un nom et un collège (employeurs ou salariés)."),
                        field="membres")
    compte = None
    if user_id not in (None, ""):
        compte = next((u for u in comptes_jury(session) if u.id == perimeter.bounded_id(user_id)), None)
        if compte is None:
            raise RuleError(_("Choisissez un compte Jury actif de %(jury)s.",
                              jury=session.certificateur.nom), field="user_id")
        if any(m.user_id == compte.id for m in session.membres):
            raise RuleError(_("%(nom)s est déjà membre de cette session.", nom=str(compte)),
                            field="user_id")
        nom = str(compte)
    nom = (nom if isinstance(nom, str) else "").strip()
    if not nom:
        raise RuleError(_("Chaque membre a un nom et un collège (employeurs ou salariés)."),
                        field="membres")
    if president and compte is None:
        raise RuleError(_("Le président du jury est un membre qui a un compte."),
                        field="president")
    if president:
        for autre in session.membres:
            autre.president = False
    membre = MembreJury(nom=nom[:150], college=college, user_id=compte.id if compte else None,
                        president=bool(president))
    session.membres.append(membre)
    return membre


def ajouter_membre(session: SessionJury, nom: str, college: str, by: Any,
                   user_id: Any = None, president: bool = False) -> MembreJury:
    """Members are added until the session is closed or cancelled: a Jury account of the
    session's certificateur (it votes; the president records the decisions), or, as on
    older sessions, a name only."""
    _exiger_modifiable(session, by)
    membre = _nouveau_membre(session, nom, college, user_id, president)
    audit.record(by, "ajouter_membre_jury", session,
                 membre.nom + (f" ({_('président')})" if membre.president else ""))
    db.session.commit()
    return membre


def comptes_jury(session: SessionJury) -> list:
    """The active Jury accounts of the session's certificateur (the members' choices)."""
    from app.models import Utilisateur
    from app.security.roles import JURY

    certificateur_id = session.certificateur_id or session.certificateur.id  # a new session
    return [u for u in db.session.scalars(select(Utilisateur).where(
        Utilisateur.certificateur_id == certificateur_id,
        Utilisateur.active.is_(True)).order_by(Utilisateur.last_name, Utilisateur.first_name))
        if R.role_of(u) is JURY]


# --- a session's lifecycle: corrected, cancelled, its members, its dossiers moved --------------

MOTIF_ANNULATION_MIN = 10


def modifiable(session: SessionJury) -> bool:
    """Date, place, deadline and members change until the session is closed or cancelled."""
    return session.statut in (PREPARATION, OUVERTE)


def peut_modifier(session: SessionJury, by: Any) -> bool:
    return modifiable(session) and peut_gerer_sessions(by, session.certificateur_id)


def _decisions_prises(session: SessionJury) -> int:
    return db.session.scalar(select(func.count()).select_from(DecisionJury).where(
        DecisionJury.session_jury_id == session.id)) or 0


def peut_annuler_session(session: SessionJury, by: Any) -> bool:
    """« Annuler la session » is offered: not closed nor cancelled, no decision taken in it."""
    return peut_modifier(session, by) and not _decisions_prises(session)


def _exiger_modifiable(session: SessionJury, by: Any) -> None:
    _peut_gerer_sessions(by, session.certificateur)
    if not modifiable(session):
        raise RuleError(_("La session du %(date)s est %(statut)s : elle ne se modifie plus.",
                          date=session.date_session.strftime("%d/%m/%Y"),
                          statut=statut_session(session.statut).lower()))


def _affectes(session: SessionJury):
    """The dossiers assigned to the session and awaiting its decision (en_attente_de_decision
    as a clause)."""
    return and_(Candidature.session_jury_id == session.id, Candidature.statut.in_(EN_EXAMEN))


def _dossiers_affectes(session: SessionJury) -> list[Candidature]:
    return list(db.session.scalars(select(Candidature).where(_affectes(session))
        .options(joinedload(Candidature.candidat), joinedload(Candidature.etablissement))
        .order_by(Candidature.envoye_le, Candidature.id)))


def modifier_session(session: SessionJury, data: dict, by: Any,
                     today: Optional[dt.date] = None) -> SessionJury:
    """« Modifier la session »: date, deadline, mode and place, until it is closed. Once a
    decision is taken in it, its date stays (the certificates carry it). A new date is told
    to the managers of the dossiers assigned to it."""
    _exiger_modifiable(session, by)
    today = today or dt.date.today()
    data = {"date_session": session.date_session.isoformat(),  # what is not given stays
            "date_limite": session.date_limite.isoformat(), "mode": session.mode,
            "lieu": session.lieu or "", **{k: v for k, v in data.items() if v is not None}}
    jour, limite, mode, lieu = _calendrier_session(data, today, actuelle=session.date_session)
    avant = session.date_session
    if jour != avant and _decisions_prises(session):
        raise RuleError(_("Des décisions sont déjà enregistrées dans la session du %(date)s : sa "
                          "date ne change plus.", date=avant.strftime("%d/%m/%Y")),
                        field="date_session")
    session.date_session, session.date_limite, session.mode, session.lieu = (
        jour, limite, mode, lieu)
    db.session.flush()
    audit.record(by, "modifier_session_jury", session)
    if jour != avant:
        for candidature in _dossiers_affectes(session):
            _informer(candidature, _("Session de jury déplacée : %(nom)s",
                                     nom=candidature.candidat.nom_complet),
                      _("La session du %(avant)s (%(jury)s) aura lieu le %(date)s.",
                        avant=avant.strftime("%d/%m/%Y"), jury=session.certificateur.nom,
                        date=jour.strftime("%d/%m/%Y")))
    db.session.commit()
    return session


def annuler_session(session: SessionJury, motif: str, by: Any) -> int:
    """« Annuler la session », with a motive: only before any decision in it. Its dossiers go
    back to waiting for a jury and to the jury's next open session at once (or wait for
    one), their managers told why. Returns how many dossiers it had."""
    _exiger_modifiable(session, by)
    motif = (motif or "").strip()
    if len(motif) < MOTIF_ANNULATION_MIN:
        raise RuleError(_("Indiquez le motif de l'annulation (%(n)d caractères au moins).",
                          n=MOTIF_ANNULATION_MIN), field="motif")
    if _decisions_prises(session):
        raise RuleError(_("Des décisions sont déjà enregistrées dans cette session : elle ne "
                          "peut plus être annulée. Clôturez-la, ou déplacez les dossiers qui "
                          "restent vers une autre session."))
    jour = session.date_session.strftime("%d/%m/%Y")
    session.statut = ANNULEE
    session.annulee_le = dt.datetime.now()
    session.motif_annulation = motif[:1000]
    db.session.flush()
    dossiers = _dossiers_affectes(session)
    for candidature in dossiers:
        _reporter(candidature, by, _("Session du %(date)s annulée : %(motif)s", date=jour,
                                     motif=motif),
                  _("Session de jury annulée : %(nom)s", nom=candidature.candidat.nom_complet),
                  _("La session du %(date)s (%(jury)s) est annulée : %(motif)s. Le dossier "
                    "est présenté à la prochaine session du jury.", date=jour,
                    jury=session.certificateur.nom, motif=motif))
    audit.record(by, "annuler_session_jury", session, motif)
    db.session.commit()
    return len(dossiers)


def _reporter(candidature: Candidature, by: Any, historique: str, titre: str,
              texte: str) -> None:
    """A dossier leaves its session without a decision: back to waiting for a jury, its
    managers told, and on to the jury's next open session at once (or it waits for one)."""
    candidature.session_jury_id = None
    if candidature.statut == C.ATTENTE_CERTIFICATION:
        transition(candidature, C.ATTENTE_JURY, by, historique)
    _informer(candidature, titre, texte)
    db.session.flush()
    affecter_session(candidature)


def retirer_membre(session: SessionJury, membre_id: Any, by: Any) -> None:
    """Remove a member until the session is closed or cancelled. An open session keeps a
    member of each college (it was paritaire when it opened)."""
    _exiger_modifiable(session, by)
    membre = db.session.scalars(select(MembreJury).where(
        MembreJury.id == perimeter.bounded_id(membre_id), MembreJury.session_id == session.id)).first()
    if membre is None:
        raise RuleError(_("Ce membre ne fait pas partie de la session."), field="membre_id")
    if session.statut == OUVERTE:
        restants = [m.college for m in session.membres if m.id != membre.id]
        if EMPLOYEURS not in restants or SALARIES not in restants:
            raise RuleError(_("La session est ouverte : chaque collège doit garder au moins un "
                              "membre. Ajoutez d'abord un autre membre du %(college)s.",
                              college=COLLEGES[membre.college]))
    nom = membre.nom
    session.membres.remove(membre)
    audit.record(by, "retirer_membre_jury", session, nom)
    db.session.commit()


def nombre_affectes(session: SessionJury) -> int:
    return db.session.scalar(select(func.count()).select_from(Candidature).where(
        _affectes(session))) or 0


def autres_sessions_ouvertes(session: SessionJury, today: Optional[dt.date] = None
                             ) -> list[SessionJury]:
    """The other open sessions of the same jury, not past: where its dossiers may go."""
    today = today or dt.date.today()
    return list(db.session.scalars(select(SessionJury).where(
        SessionJury.certificateur_id == session.certificateur_id, SessionJury.statut == OUVERTE,
        SessionJury.id != session.id, SessionJury.date_session >= today)
        .order_by(SessionJury.date_session, SessionJury.id)))


def deplacer_dossier(candidature: Candidature, session_id: Any, by: Any,
                     today: Optional[dt.date] = None) -> Candidature:
    """Move a dossier awaiting its decision to another open session of the same jury (not
    past). Its status, decisions and history stay; the move is in its history."""
    perimeter.get_or_404(Candidature, candidature.id, by)
    session = candidature.session_jury
    if session is None or candidature.statut not in EN_EXAMEN:
        raise RuleError(_("Seul un dossier affecté à une session et en attente de sa décision "
                          "peut être déplacé."))
    _exiger_modifiable(session, by)
    cible = next((s for s in autres_sessions_ouvertes(session, today)
                  if s.id == perimeter.bounded_id(session_id)), None)
    if cible is None:
        raise RuleError(_("Choisissez une autre session ouverte et à venir du même jury."),
                        field="session_id")
    avant, apres = (session.date_session.strftime("%d/%m/%Y"),
                    cible.date_session.strftime("%d/%m/%Y"))
    texte = _("Déplacé de la session du %(avant)s à celle du %(apres)s", avant=avant,
              apres=apres)
    candidatures_historique(candidature, candidature.statut, by, texte)
    candidature.session_jury_id = cible.id
    _informer(candidature, _("Dossier déplacé vers une autre session : %(nom)s",
                             nom=candidature.candidat.nom_complet),
              _("Le dossier passe de la session du %(avant)s à celle du %(apres)s (%(jury)s).",
                avant=avant, apres=apres, jury=cible.certificateur.nom))
    audit.record(by, "deplacer_dossier_jury", candidature, texte)
    db.session.commit()
    return candidature


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
    query = select(Candidature).where(or_(
        Candidature.statut == C.ATTENTE_JURY,
        and_(Candidature.statut == C.COMPLETEE, Candidature.session_jury_id.is_(None))))
    if certificateur_id is not None:
        query = query.where(Candidature.certificateur_id == certificateur_id)
    return sum(1 for c in db.session.scalars(query.order_by(Candidature.envoye_le)).all()
               if affecter_session(c))


ORDRE_SEANCE = (Candidature.envoye_le, Candidature.id)  # the session page's order


def _de_la_session(session: SessionJury):
    """The dossiers a session examines: assigned to it and awaiting a decision, or decided
    in it (by its decisions)."""
    decided = select(DecisionJury.candidature_id).where(DecisionJury.session_jury_id == session.id)
    return or_(Candidature.session_jury_id == session.id, Candidature.id.in_(decided))


def dossiers_de_session(session: SessionJury) -> list[Candidature]:
    """The dossiers a session examines (_de_la_session), with their candidat and
    établissement."""
    return list(db.session.scalars(
        select(Candidature).where(_de_la_session(session))
        .options(joinedload(Candidature.candidat), joinedload(Candidature.etablissement))
        .order_by(*ORDRE_SEANCE)).unique())


@dataclasses.dataclass
class Seance:
    """The « séance »: where a dossier stands among its session's dossiers (the session
    page's order), to go from one to the next."""

    session: SessionJury
    position: int  # from 1
    total: int
    precedent: Optional[int]
    suivant: Optional[int]
    a_examiner: Optional[int]  # the next dossier (after this one) still awaiting a decision
    restants: int  # dossiers still awaiting a decision in the session


def seance(candidature: Candidature, session: Optional[SessionJury] = None
           ) -> Optional[Seance]:
    """The dossier's place in `session` (by default its session, else the session of its
    last decision), in one statement of ids and statuses."""
    if session is None:
        session = candidature.session_jury
        if session is None:
            derniere = derniere_decision(candidature)
            session = derniere.session if derniere is not None else None
    if session is None:
        return None
    rows = db.session.execute(
        select(Candidature.id, Candidature.statut, Candidature.session_jury_id)
        .where(_de_la_session(session)).order_by(*ORDRE_SEANCE)).all()
    ids = [row.id for row in rows]
    if candidature.id not in ids:
        return None
    i = ids.index(candidature.id)
    attente = [row.id for row in rows if en_attente_de_decision(row, session)]
    a_decider = set(attente)
    apres = [pk for pk in ids[i + 1:] + ids[:i] if pk in a_decider]
    return Seance(session, i + 1, len(ids), ids[i - 1] if i > 0 else None,
                  ids[i + 1] if i + 1 < len(ids) else None, apres[0] if apres else None,
                  len(attente))


EN_EXAMEN = C.EN_EXAMEN  # in the jury's examination (C.EN_EXAMEN_SQL: the same, its index)


def en_attente_de_decision(candidature: Candidature, session: SessionJury) -> bool:
    return candidature.session_jury_id == session.id and candidature.statut in EN_EXAMEN


def peut_cloturer(session: SessionJury, by: Any) -> bool:
    """« Clôturer la session » is offered: an open session of this user, from its date on."""
    return (session.statut == OUVERTE and session_commencee(session)
            and peut_gerer_sessions(by, session.certificateur_id))


def cloturer_session(session: SessionJury, by: Any, today: Optional[dt.date] = None) -> None:
    """Close a session once every dossier has its decision, from the session's date on; the
    procès-verbal is generated and kept with the session."""
    _peut_gerer_sessions(by, session.certificateur)
    if session.statut != OUVERTE:
        raise RuleError(_("Seule une session ouverte peut être clôturée."))
    if not session_commencee(session, today):
        raise RuleError(_("La session du %(date)s ne peut être clôturée qu'à partir de cette "
                          "date.", date=session.date_session.strftime("%d/%m/%Y")))
    session.statut = CLOSE
    session.close_le = dt.datetime.now()
    db.session.flush()
    jour = session.date_session.strftime("%d/%m/%Y")
    restants = _dossiers_affectes(session)
    for candidature in restants:  # no decision (no majority, no parity): the next session
        _reporter(candidature, by, _("Sans décision à la session du %(date)s : reporté à la "
                                     "session suivante", date=jour),
                  _("Dossier reporté à une autre session : %(nom)s",
                    nom=candidature.candidat.nom_complet),
                  _("La session du %(date)s (%(jury)s) s'est close sans décision sur ce "
                    "dossier. Il est présenté à la prochaine session du jury.", date=jour,
                    jury=session.certificateur.nom))
    audit.record(by, "cloturer_session_jury", session,
                 ngettext("%(num)d dossier reporté", "%(num)d dossiers reportés",
                          len(restants)) if restants else None)
    _stocker_pdf("pv", signer_proces_verbal(session),
                 lambda name: setattr(session, "proces_verbal", name))


def signer_proces_verbal(session: SessionJury) -> bytes:
    """The procès-verbal's PDF, its SHA-256 kept with the session (shown on its page)."""
    content = _proces_verbal_pdf(session)
    session.proces_verbal_sha256 = hashlib.sha256(content).hexdigest()
    return content


def _stocker_pdf(prefix: str, content: bytes, attach, remplace: Optional[str] = None) -> str:
    """Write a PDF under a generated name, attach it to its row and commit: the file is moved
    into place by the commit (services/stockage.py), the file it replaces is erased after
    it; on failure nothing is kept (no row, no file) and the replaced file stays."""
    stored = f"{prefix}-{uuid.uuid4().hex}.pdf"
    attach(stored)
    try:
        stockage.preparer(db.session, stored, content)
        if remplace:
            stockage.effacer_apres_commit(db.session, [remplace])
        db.session.commit()
    except BaseException:
        stockage.annuler(db.session)
        raise
    return stored


def _proces_verbal_pdf(session: SessionJury) -> bytes:
    """Members present by college (in a joint session, the members who voted; else the
    members named), the totals per decision, one line per dossier (its last decision in the
    session), the closing's date and time and a signature block."""
    decisions = db.session.scalars(
        select(DecisionJury).where(DecisionJury.session_jury_id == session.id)
        .options(joinedload(DecisionJury.candidature)).order_by(DecisionJury.id)).all()
    derniere = {d.candidature_id: d for d in decisions}  # each dossier once: its last decision
    numeros = dict(db.session.execute(select(Certificat.candidature_id, Certificat.numero).where(
        Certificat.session_jury_id == session.id)).all())
    lignes = [pdf.LigneProcesVerbal(
        candidat=d.candidature.candidat.nom_complet, etablissement=d.candidature.etablissement.nom,
        decision=str(DECISIONS[d.decision]),
        detail=numeros.get(d.candidature_id, "") if d.decision == CERTIFIEE else (d.motif or ""))
        for d in sorted(derniere.values(), key=lambda d: d.id)]
    totaux = [(str(label), sum(1 for d in derniere.values() if d.decision == code))
              for code, label in DECISIONS.items()]
    presents = session.membres
    if conjointe(session):
        votants = set(db.session.scalars(select(VoteJury.membre_id).where(
            VoteJury.session_jury_id == session.id)))
        presents = [m for m in session.membres if m.id in votants]
    colleges = [(str(label).capitalize(), [m.nom + (" " + _("(président)") if m.president else "")
                                          for m in presents if m.college == code])
                for code, label in COLLEGES.items()]
    return pdf.proces_verbal(
        certificateur=session.certificateur.nom, date_session=session.date_session,
        mode=str(MODES[session.mode]), lieu=session.lieu or "", colleges=colleges,
        lignes=lignes, totaux=totaux, close_le=session.close_le,
        url_verification=public_url("/verifier/"))


def proces_verbal(session: SessionJury) -> Optional[bytes]:
    if not session.proces_verbal:
        return None
    return stockage.chemin(session.proces_verbal, db.session).read_bytes()


def dossier_de_seance(session: SessionJury) -> bytes:
    """The session pack (PDF): every dossier of the session, in the session page's order,
    with what the jury reads on screen (identity, parcours, evaluations and their results by
    domaine, formations, documents, previous decisions). The caller checks the perimeter."""
    from .candidatures import TYPES_PUBLIC

    def jour(value):
        return value.strftime("%d/%m/%Y") if value else ""

    fiches = []
    for c in dossiers_de_session(session):
        candidat = c.candidat
        if candidat.anonymise:
            identite = [(_("Identité"), _("Candidat anonymisé"))]
        else:
            identite = [(_("Nom de naissance"), candidat.nom_naissance),
                        (_("Nom d'usage"), candidat.nom_usage or ""),
                        (_("Prénom(s)"), candidat.prenoms),
                        (_("Né(e) le"), jour(candidat.date_naissance)),
                        (_("Lieu de naissance"), candidat.commune_naissance or "")]
        parcours = [(_("Établissement"), f"{c.etablissement.nom} "
                     f"({c.etablissement.organisme.raison_sociale})"),
                    (_("Type de public"), str(TYPES_PUBLIC.get(c.type_public, "") or "")),
                    (_("Socle contextualisé"), _("OUI") if c.socle_contextualise else _("NON")),
                    (_("Envoyé le"), jour(c.envoye_le)),
                    (_("Objectifs de projet professionnel"), c.objectif_pro or ""),
                    (_("Objectifs de projet extra-professionnel"), c.objectif_extra_pro or "")]
        complet = dossier_complet(c)
        evaluations = [[_("préalable") if ev.type == "prealable" else _("finale"),
                        jour(ev.date_evaluation), ev.evaluateur or "",
                        _("En cours de création") if ev.statut == "en_cours"
                        else (_("Validé") if ev.resultat == "valide" else _("Non validé"))]
                       for ev in complet["evaluations"]]
        domaines = []
        for domaine, lignes in complet["grille"]:
            acquis = sum(1 for _sd, a, _c in lignes if a)
            manquants = [sd.code for sd, a, _c in lignes if not a]
            texte = _("%(acquis)d / %(total)d acquis", acquis=acquis, total=len(lignes))
            if manquants:
                texte += " — " + _("non acquis : %(codes)s", codes=", ".join(manquants))
            texte += "".join(f"\n{sd.code} : {commentaire}" for sd, _a, commentaire in lignes
                             if commentaire)
            domaines.append((f"{domaine.numero}. {domaine.intitule}", texte))
        formations = [[f.intitule, f.organisme_formateur or "", jour(f.date_debut),
                       jour(f.date_fin), formats.nombre(f.duree_heures)]
                      for f in complet["formations"]]
        decisions_ = [[jour(d.session.date_session), str(DECISIONS[d.decision]), d.motif or "",
                       d.reponse or ""] for d in decisions(c)]
        fiches.append(pdf.FicheSeance(
            candidat=candidat.nom_complet, identite=identite, parcours=parcours,
            evaluations=evaluations, domaines=domaines, formations=formations,
            documents=[doc.nom_original for doc in complet["documents"]],
            decisions=decisions_))
    return pdf.dossier_de_seance(
        certificateur=session.certificateur.nom, date_session=session.date_session,
        mode=str(MODES[session.mode]), lieu=session.lieu or "", fiches=fiches)


# --- decisions -----------------------------------------------------------------------------

DECISIONS = {CERTIFIEE: _l("Certifiée"), NON_CERTIFIEE: _l("Non certifiée"),
             COMPLEMENT: _l("Demande de compléments")}
MODES = {"presentiel": _l("présentiel"), "distanciel": _l("distanciel")}
COLLEGES = {EMPLOYEURS: _l("collège employeurs"), SALARIES: _l("collège salariés")}
STATUT_DE_DECISION = {CERTIFIEE: C.CERTIFIEE, NON_CERTIFIEE: C.NON_CERTIFIEE,
                      COMPLEMENT: C.ATTENTE_COMPLEMENT}


def decider(candidature: Candidature, decision: str, motif: str, by: Any,
            today: Optional[dt.date] = None, motif_type: Any = None) -> DecisionJury:
    """A jury's decision on a dossier of one of its open sessions, from the session's date on:
    Certifiée (a certificate number is taken), Non certifiée (motive required) or Demande de
    compléments (text)."""
    perimeter.get_or_404(Candidature, candidature.id, by)
    session = _seance(candidature, today)
    if conjointe(session):
        _decision_conjointe(candidature, session, decision, by)
    else:
        _peut_gerer_sessions(by, session.certificateur)
    if decision not in DECISIONS:
        raise RuleError(_("Choisissez la décision : Certifiée, Non certifiée ou Demande de "
                          "compléments."), field="decision")
    motif = motifs.texte(motifs.JURY, motif_type, motif) if decision != CERTIFIEE else (
        motif if isinstance(motif, str) else "").strip()
    _motif_requis(decision, motif)
    date_jury = session.date_session.strftime("%d/%m/%Y")
    transition(candidature, STATUT_DE_DECISION[decision], by,
               _("Décision du jury du %(date)s : %(decision)s", date=date_jury,
                 decision=DECISIONS[decision]) + (f" — {motif}" if motif else ""))
    row = DecisionJury(candidature_id=candidature.id, session_jury_id=session.id,
                       decision=decision, motif=motif or None, par_id=getattr(by, "id", None))
    db.session.add(row)
    nom = candidature.candidat.nom_complet
    if decision == CERTIFIEE:
        certificat = Certificat(numero=_numero_suivant(session.date_session.year),
                                candidature_id=candidature.id, session_jury_id=session.id,
                                certificateur_id=session.certificateur_id,
                                date_jury=session.date_session)
        db.session.add(certificat)
        _informer(candidature, _("Candidature certifiée : %(nom)s", nom=nom),
                  _("Certifié(e) par le jury du %(date)s, certificat n° %(numero)s.",
                    date=date_jury, numero=certificat.numero))
    elif decision == NON_CERTIFIEE:
        _informer(candidature, _("Candidature non certifiée : %(nom)s", nom=nom),
                  _("Décision du jury du %(date)s. Motif : %(motif)s", date=date_jury,
                    motif=motif))
    else:
        candidature.session_jury_id = None
        _informer(candidature, _("Compléments demandés par le jury : %(nom)s", nom=nom),
                  _("Le jury du %(date)s demande : %(motif)s", date=date_jury, motif=motif))
    db.session.flush()
    audit.record(by, "decision_jury", candidature, decision)
    db.session.commit()
    return row



# --- the joint decision: the members' votes, the president's decision ---------------------------

def conjointe(session: SessionJury) -> bool:
    """A session whose members have accounts decides jointly: each member present votes, the
    president records the decision (older sessions, names only, keep one deciding account)."""
    return any(m.user_id is not None for m in session.membres)


def membre_de(session: SessionJury, by: Any) -> Optional[MembreJury]:
    user_id = getattr(by, "id", None)
    return next((m for m in session.membres if user_id is not None and m.user_id == user_id),
                None)


def votes_de(candidature: Candidature, session: SessionJury) -> list[VoteJury]:
    return list(db.session.scalars(select(VoteJury).where(
        VoteJury.candidature_id == candidature.id, VoteJury.session_jury_id == session.id)
        .options(joinedload(VoteJury.membre)).order_by(VoteJury.id)))


@dataclasses.dataclass
class EtatVotes:
    votes: list
    employeurs: int
    salaries: int
    pour: dict  # decision code → number of votes

    @property
    def paritaire(self) -> bool:
        return self.employeurs == self.salaries >= 1

    def majorite(self, decision: str) -> bool:
        return self.pour.get(decision, 0) * 2 > len(self.votes)

    def de(self, by: Any) -> Optional[str]:
        """This user's vote, if they voted."""
        user_id = getattr(by, "id", None)
        return next((v.vote for v in self.votes
                     if user_id is not None and v.membre.user_id == user_id), None)

    @property
    def majoritaire(self) -> Optional[str]:
        return next((d for d in DECISIONS if self.majorite(d)), None)


def etat_votes(candidature: Candidature, session: SessionJury) -> EtatVotes:
    votes = votes_de(candidature, session)
    colleges = [v.membre.college for v in votes]
    pour: dict[str, int] = {}
    for v in votes:
        pour[v.vote] = pour.get(v.vote, 0) + 1
    return EtatVotes(votes, colleges.count(EMPLOYEURS), colleges.count(SALARIES), pour)


def _motif_requis(decision: str, motif: str, field: str = "motif") -> None:
    if decision == NON_CERTIFIEE and not motif:
        raise RuleError(_("Indiquez le motif de la non-certification."), field=field)
    if decision == COMPLEMENT and not motif:
        raise RuleError(_("Précisez les compléments demandés à l'organisme."), field=field)


def _seance(candidature: Candidature, today: Optional[dt.date]) -> SessionJury:
    """The open session that examines this dossier, from its date on (else refused)."""
    session = candidature.session_jury
    if session is None or candidature.statut not in EN_EXAMEN:
        raise RuleError(_("Ce dossier n'attend pas de décision du jury."))
    if session.statut != OUVERTE:
        raise RuleError(_("La session du %(date)s n'est pas ouverte : aucune décision ne peut y "
                          "être enregistrée.", date=session.date_session.strftime("%d/%m/%Y")))
    if not session_commencee(session, today):
        raise RuleError(_("Le jury du %(date)s ne peut statuer qu'à partir de la date de sa "
                          "session.", date=session.date_session.strftime("%d/%m/%Y")))
    return session


def votes_affiches(candidature: Candidature) -> Optional[EtatVotes]:
    """The votes shown on the jury's dossier page: those of its joint session (None when the
    session decides with one account)."""
    session = candidature.session_jury
    if session is None or not conjointe(session):
        return None
    return etat_votes(candidature, session)


def _en_seance(candidature: Candidature) -> Optional[SessionJury]:
    """The open, begun session awaiting this dossier's decision (what `_seance` requires)."""
    session = candidature.session_jury
    if (session and session.statut == OUVERTE and session_commencee(session)
            and en_attente_de_decision(candidature, session)):
        return session
    return None


def peut_voter(candidature: Candidature, by: Any) -> bool:
    session = _en_seance(candidature)
    return session is not None and membre_de(session, by) is not None


def voter(candidature: Candidature, vote: str, motif: str, by: Any,
          today: Optional[dt.date] = None) -> VoteJury:
    """A member's vote on a dossier of the session, from its date on; a member may change
    it until the decision. Every vote is in the journal."""
    perimeter.get_or_404(Candidature, candidature.id, by)
    session = _seance(candidature, today)
    membre = membre_de(session, by)
    if membre is None:
        raise ForbiddenError(_("Seuls les membres de la session du %(date)s votent sur ses "
                               "dossiers.", date=session.date_session.strftime("%d/%m/%Y")))
    if vote not in DECISIONS:
        raise RuleError(_("Choisissez votre vote : Certifiée, Non certifiée ou Demande de "
                          "compléments."), field="vote")
    motif = (motif or "").strip()[:2000]
    _motif_requis(vote, motif)
    row = db.session.scalars(select(VoteJury).where(
        VoteJury.session_jury_id == session.id, VoteJury.candidature_id == candidature.id,
        VoteJury.membre_id == membre.id)).first()
    if row is None:
        row = VoteJury(session_jury_id=session.id, candidature_id=candidature.id,
                       membre_id=membre.id)
        db.session.add(row)
    row.vote, row.motif, row.le = vote, motif or None, dt.datetime.now()
    db.session.flush()
    audit.record(by, "vote_jury", candidature, f"{membre.nom} ({COLLEGES[membre.college]}) : "
                 f"{DECISIONS[vote]}" + (f" — {motif}" if motif else ""))
    db.session.commit()
    return row


def _decision_conjointe(candidature: Candidature, session: SessionJury, decision: str,
                        by: Any) -> None:
    """The president records the decision the votes present carry: paritaire (as many
    employeurs as salariés, one at least of each) and a majority for it; else the dossier
    stays for the next session."""
    membre = membre_de(session, by)
    if membre is None or not membre.president:
        raise ForbiddenError(_("Seul le président du jury enregistre la décision, après le "
                               "vote des membres présents."))
    etat = etat_votes(candidature, session)
    if not etat.paritaire:
        raise RuleError(_("Les votes ne sont pas paritaires (%(e)d employeurs, %(s)d "
                          "salariés) : le dossier reste pour la session suivante si la "
                          "parité n'est pas atteinte.", e=etat.employeurs, s=etat.salaries),
                        field="decision")
    if decision in DECISIONS and not etat.majorite(decision):
        raise RuleError(_("« %(decision)s » n'a pas la majorité des votes (%(n)d sur %(total)d) :"
                          " le dossier reste pour la session suivante si aucune décision n'est "
                          "majoritaire.", decision=DECISIONS[decision],
                          n=etat.pour.get(decision, 0), total=len(etat.votes)),
                        field="decision")


def _numero_suivant(annee: int) -> str:
    """CLEA-YYYY-NNNNNN: the year's counter row is incremented inside the deciding transaction
    (row lock until commit), so numbers are unique and a rolled-back decision leaves no gap."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(CompteurCertificat).values(annee=annee, dernier=0)
                       .on_conflict_do_nothing(index_elements=["annee"]))
    dernier = db.session.execute(
        update(CompteurCertificat).where(CompteurCertificat.annee == annee)
        .values(dernier=CompteurCertificat.dernier + 1)
        .returning(CompteurCertificat.dernier)).scalar_one()
    return f"CLEA-{annee}-{dernier:06d}"


def grille(evaluation) -> list[tuple[Any, list[tuple[Any, Optional[bool], str]]]]:
    """The results of an evaluation by domaine, for the jury's read-only view: each
    sous-domaine with acquis (True / False / None) and the evaluator's comment."""
    from app.models.referentiel import Domaine, SousDomaine

    resultats = {r.sous_domaine_id: r for r in evaluation.resultats}
    domaines = db.session.scalars(select(Domaine).join(SousDomaine).where(
        SousDomaine.id.in_(list(resultats) or [0])).options(joinedload(Domaine.sous_domaines))
        .order_by(Domaine.ordre)).unique().all()
    return [(d, [(sd, getattr(resultats.get(sd.id), "acquis", None),
                  getattr(resultats.get(sd.id), "commentaire", None) or "")
                 for sd in d.sous_domaines]) for d in domaines]


def derniere_decision(candidature: Candidature) -> Optional[DecisionJury]:
    return db.session.scalars(select(DecisionJury).where(
        DecisionJury.candidature_id == candidature.id).order_by(DecisionJury.id.desc())
        .limit(1)).first()


def decisions(candidature: Candidature) -> list[DecisionJury]:
    return list(db.session.scalars(select(DecisionJury).where(
        DecisionJury.candidature_id == candidature.id).order_by(DecisionJury.id)))


def completer(candidature: Candidature, reponse: str, by: Any) -> Candidature:
    """The OF answers a complement request (« Candidature complétée »): the dossier goes back
    before the jury, at its next open session."""
    ensure_can(by, "Candidature", UPDATE)
    perimeter.get_or_404(Candidature, candidature.id, by)
    if candidature.statut != C.ATTENTE_COMPLEMENT:
        raise RuleError(_("Le jury n'a pas demandé de compléments pour ce dossier."))
    reponse = (reponse or "").strip()
    if len(reponse) < 10:
        raise RuleError(_("Décrivez les compléments apportés (10 caractères au moins) ; "
                          "déposez les pièces dans les documents du dossier."), field="reponse")
    demande = derniere_decision(candidature)
    demande.reponse = reponse
    demande.repondu_le = dt.datetime.now()
    demande.repondu_par_id = getattr(by, "id", None)
    transition(candidature, C.COMPLETEE, by, _("Compléments apportés : %(texte)s", texte=reponse))
    candidature.session_jury_id = None
    affecter_session(candidature)
    notifications.notify(jurys(candidature.certificateur_id), notifications.CERTIFICATION,
                         _("Candidature complétée : %(nom)s", nom=candidature.candidat.nom_complet),
                         reponse, lien=f"/jury/dossier/{candidature.id}")
    audit.record(by, "completer_candidature", candidature)
    db.session.commit()
    return candidature


def reprendre_parcours(candidature: Candidature, by: Any) -> Candidature:
    """After « Non certifiée », the OF resumes the path: a new formation, then a new
    evaluation finale (DESIGN §5). Refused if the person has started another path since."""
    ensure_can(by, "Candidature", UPDATE)
    perimeter.get_or_404(Candidature, candidature.id, by)
    if candidature.statut != C.NON_CERTIFIEE:
        raise RuleError(_("Seul un dossier non certifié peut reprendre son parcours."))
    autre = db.session.scalar(select(Candidature.id).where(
        Candidature.candidat_id == candidature.candidat_id, Candidature.id != candidature.id,
        Candidature.statut.notin_(C.CLOSED)))
    if autre:
        raise ConflictError(_("Ce candidat a déjà un autre parcours en cours : le dossier ne "
                              "peut pas reprendre."))
    transition(candidature, C.ATTENTE_EVAL_FINALE, by,
               _("Reprise du parcours après la décision du jury"))
    candidature.certificateur_id = None
    candidature.session_jury_id = None
    candidature.envoye_le = None
    audit.record(by, "reprendre_parcours", candidature)
    db.session.commit()
    return candidature


def jurys(certificateur_id: Optional[int]) -> list:
    from app.models import Utilisateur

    return [u for u in db.session.scalars(select(Utilisateur).where(
        Utilisateur.certificateur_id == certificateur_id, Utilisateur.active.is_(True)))
        if R.role_of(u) is R.JURY]


# --- certificates ---------------------------------------------------------------------------

def certificat_de(candidature: Candidature) -> Optional[Certificat]:
    return db.session.scalars(select(Certificat).where(
        Certificat.candidature_id == candidature.id)).first()


def url_verification(numero: str) -> str:
    """The public check of a certificate, on the configured public address (never the host
    of whoever downloads the PDF, when CLEA_PUBLIC_URL or CLEA_BASE_URL is set)."""
    return public_url(f"/verifier/{numero}")


def certificat_pdf(certificat: Certificat) -> bytes:
    """The signed PDF the jury uploaded (its own signature kept), else the generated
    certificate, with the platform's PAdES signature (services/signature.py)."""
    if certificat.fichier_signe:
        return stockage.chemin(certificat.fichier_signe, db.session).read_bytes()
    candidat = certificat.candidature.candidat
    lieu = ", ".join(p for p in (candidat.commune_naissance, candidat.pays_naissance) if p)
    return signature.signer_pdf(pdf.certificat(pdf.DonneesCertificat(
        numero=certificat.numero, civilite=candidat.civilite, nom=candidat.nom_naissance.upper(),
        prenoms=candidat.prenoms, date_naissance=candidat.date_naissance, lieu_naissance=lieu,
        date_jury=certificat.date_jury, certificateur=certificat.certificateur.nom,
        url_verification=url_verification(certificat.numero))),
        motif=_("Certificat CléA n° %(numero)s délivré par le jury du %(date)s",
                numero=certificat.numero, date=certificat.date_jury.strftime("%d/%m/%Y")))


def deposer_certificat_signe(certificat: Certificat, nom: str, content: bytes, by: Any) -> None:
    """The jury replaces the generated certificate by its signed PDF (checked by content)."""
    perimeter.get_or_404(Certificat, certificat.id, by)
    _peut_gerer_sessions(by, certificat.certificateur)
    if len(content) > documents.MAX_BYTES:
        raise documents.FileTooLarge(_("Le fichier dépasse la taille maximale de 4 Mo."),
                                     field="fichier")
    if not content or documents.detect(content) != "pdf":
        raise RuleError(_("Le certificat signé doit être un fichier PDF (le contenu du fichier "
                          "est vérifié, pas seulement son nom)."), field="fichier")
    inspection.verifier(content, "pdf", documents.safe_name(nom))
    previous = certificat.fichier_signe
    certificat.signe_le = dt.datetime.now()
    audit.record(by, "deposer_certificat_signe", certificat, documents.safe_name(nom))
    _stocker_pdf("certificat", content, lambda name: setattr(certificat, "fichier_signe", name),
                 remplace=previous)


def verifier(numero: str) -> Optional[dict]:
    """The public check: whether the number exists, with the holder's name (None once the
    holder is anonymised: the certificate stays valid), the date and the level (socle, or
    socle contextualisé to a branche) only."""
    from app.models import Branche

    numero = (numero or "").strip().upper()
    if len(numero) > 20:
        return None
    row = db.session.execute(
        select(Certificat.numero, Certificat.date_jury, Candidat.prenoms, Candidat.nom_naissance,
               Candidat.cle_identite, Candidature.socle_contextualise, Branche.nom.label("branche"))
        .join(Candidature, Candidature.id == Certificat.candidature_id)
        .join(Candidat, Candidat.id == Candidature.candidat_id)
        .outerjoin(Branche, Branche.id == Candidature.branche_id)
        .where(Certificat.numero == numero, Candidature.statut == C.CERTIFIEE)).first()
    if row is None:
        return None
    anonymise = row.cle_identite.startswith(C.ANONYME_PREFIX)
    niveau = (_("CléA — socle contextualisé (%(branche)s)", branche=row.branche)
              if row.socle_contextualise and row.branche else _("CléA — socle"))
    return {"numero": row.numero, "date": row.date_jury, "niveau": niveau,
            "nom": None if anonymise else f"{row.prenoms} {row.nom_naissance.upper()}"}


NUMERO = re.compile(r"CLEA-\d{4}-\d{6}")


@dataclasses.dataclass
class FichierVerifie:
    """What « Vérifier un fichier » says of a dropped file (nothing of it is kept)."""
    nature: str                  # "pdf" or "credential"
    authentique: bool = False    # issued here and unchanged since
    numero: str = ""
    certificat: Optional[dict] = None  # the public answer for its number (verifier)


def verifier_fichier(contenu: bytes) -> FichierVerifie:
    """A certificate's PDF or its Open Badges credential, dropped on the verification page:
    whether the platform issued it and it is unchanged (the PDF's PAdES signature, the
    credential's proof, both checked with the platform's keys), then its number's public
    answer. The file is read here and forgotten. Refused (RuleError, in French): no file, a
    file over documents.MAX_BYTES, a file that is neither."""
    from . import credential, signature

    if not contenu:
        raise RuleError(_("Choisissez le fichier du certificat (PDF) ou du certificat "
                          "numérique (.json) à vérifier."), field="fichier")
    if len(contenu) > documents.MAX_BYTES:
        raise RuleError(_("Le fichier dépasse la taille maximale de 4 Mo."), field="fichier")
    if contenu[:5] == b"%PDF-":
        verification = signature.verifier_pdf(contenu)
        trouve = NUMERO.search(verification.motif) if verification.valide else None
        numero = trouve.group(0) if trouve else ""
        return FichierVerifie("pdf", verification.valide and bool(numero), numero,
                              verifier(numero) if numero else None)
    ni_l_un_ni_l_autre = RuleError(_(
        "Ce fichier n'est ni un certificat CléA au format PDF ni un certificat numérique "
        "(.json) : déposez l'un ou l'autre."), field="fichier")
    try:
        document = json.loads(contenu.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ni_l_un_ni_l_autre from None
    if not isinstance(document, dict) or "credentialSubject" not in document:
        raise ni_l_un_ni_l_autre
    sujet = document.get("credentialSubject")
    numero = sujet.get("licenseNumber", "") if isinstance(sujet, dict) else ""
    numero = numero if isinstance(numero, str) and NUMERO.fullmatch(numero) else ""
    authentique = bool(numero) and credential.verifier_preuve(document)
    return FichierVerifie("credential", authentique, numero if authentique else "",
                          verifier(numero) if authentique else None)


def statut_session(code: str) -> str:
    return str(STATUTS_SESSION[code])


STATUTS_SESSION = {PREPARATION: _l("En préparation"), OUVERTE: _l("Ouverte"), CLOSE: _l("Close"),
                   ANNULEE: _l("Annulée")}


SESSIONS_PAGE = 25


def sessions(by: Any, statut: str = "", page: Any = 0) -> tuple[Page, dict[int, int]]:
    """« Sessions de jury »: one page of the user's sessions (newest first) and their dossier
    counts: the dossiers still to examine (a decided dossier is no longer « à examiner »)."""
    query = (select(SessionJury).where(perimeter.clause(SessionJury, by))
             .order_by(SessionJury.date_session.desc(), SessionJury.id.desc()))
    if statut in STATUTS_SESSION:
        query = query.where(SessionJury.statut == statut)
    rows = paginate(query, page, SESSIONS_PAGE, options=(joinedload(SessionJury.certificateur),))
    counts = dict(db.session.execute(
        select(Candidature.session_jury_id, func.count()).where(
            Candidature.session_jury_id.in_([s.id for s in rows]),
            Candidature.statut.in_(EN_EXAMEN))
        .group_by(Candidature.session_jury_id)).all()) if rows else {}
    return rows, counts


def certificats_par_dossier(dossiers: list[Candidature]) -> dict[int, Certificat]:
    if not dossiers:
        return {}
    return {c.candidature_id: c for c in db.session.scalars(select(Certificat).where(
        Certificat.candidature_id.in_([d.id for d in dossiers])))}


def dossier_complet(candidature: Candidature) -> dict:
    """What the jury reads: evaluations (with results), formations, documents."""
    from app.models.evaluation import Document, Evaluation, Formation

    evaluations = db.session.scalars(select(Evaluation).where(
        Evaluation.candidature_id == candidature.id).options(joinedload(Evaluation.resultats))
        .order_by(Evaluation.id)).unique().all()
    return {
        "evaluations": evaluations,
        "grille": grille(evaluations[-1]) if evaluations else [],
        "formations": db.session.scalars(select(Formation).where(
            Formation.candidature_id == candidature.id).order_by(Formation.date_debut)).all(),
        "documents": db.session.scalars(select(Document).where(
            Document.candidature_id == candidature.id, Document.supprime_le.is_(None))
            .order_by(Document.id)).all(),
    }


def peut_decider(candidature: Candidature, by: Any) -> bool:
    """The decision form is offered: an open session awaits this dossier's decision, and its
    date has come; in a joint session, to its president only."""
    session = _en_seance(candidature)
    if session is None:
        return False
    if conjointe(session):
        membre = membre_de(session, by)
        return membre is not None and membre.president
    return peut_gerer_sessions(by, session.certificateur_id)


def decision_ouvre_le(candidature: Candidature, by: Any) -> Optional[dt.date]:
    """The day the decision form opens, while this user's open session awaiting the dossier
    has not begun yet (None otherwise): the jury screen says it instead of the form."""
    session = candidature.session_jury
    if (session and session.statut == OUVERTE and en_attente_de_decision(candidature, session)
            and not session_commencee(session)
            and peut_gerer_sessions(by, session.certificateur_id)):
        return session.date_session
    return None


def en_attente_affectation(by: Any) -> int:
    """Dossiers of the perimeter « en attente d'affectation à un jury »."""
    return db.session.scalar(select(func.count()).select_from(Candidature).where(
        Candidature.statut == C.ATTENTE_JURY, perimeter.clause(Candidature, by))) or 0


# --- the Certification tab -------------------------------------------------------------------

def calendrier(by: Any, today: Optional[dt.date] = None) -> tuple[list[SessionJury],
                                                                 list[SessionJury]]:
    """The last and next sessions of the user's juries: every jury nationally for Certif Pro,
    its own for a jury, and for an OF the Transitions Pro of its établissements' regions and
    the CPNE."""
    today = today or dt.date.today()
    query = select(SessionJury).where(SessionJury.statut.in_((OUVERTE, CLOSE)),
                                      perimeter.clause(SessionJury, by))
    scope = perimeter.scope_of(by)
    if scope.kind not in (R.NATIONAL, R.CERTIFICATEUR):
        regions = select(Etablissement.region).where(perimeter.clause(Etablissement, by))
        query = query.where(SessionJury.certificateur_id.in_(select(Certificateur.id).where(or_(
            Certificateur.type == "cpne", Certificateur.region.in_(regions)))))
    query = query.options(joinedload(SessionJury.certificateur))
    # a closed session is past whatever its date; a cancelled one is in neither list
    passees = db.session.scalars(query.where(or_(SessionJury.date_session < today,
                                                 SessionJury.statut == CLOSE))
                                 .order_by(SessionJury.date_session.desc()).limit(5)).all()
    prochaines = db.session.scalars(query.where(SessionJury.date_session >= today,
                                                SessionJury.statut == OUVERTE)
                                    .order_by(SessionJury.date_session).limit(20)).all()
    return list(passees), list(prochaines)
