"""Personal data of candidats (RGPD): the export of everything the platform holds about a
person (right of access and portability), their anonymisation by Certif Pro (right to
erasure, with a motive), and the retention rules of the configuration applied by the
scheduler (`retention`, also `flask clea retention [--dry-run]`).

Anonymisation keeps what the statistics count (dossiers, statuses and their dates, results
acquis / non acquis, decisions, certificate numbers, établissements, civilité) and replaces
what identifies the person: names, birth date and place, contacts, address, identity and
search keys, free texts naming them; their documents are deleted (rows and files), the
e-mails addressed to them de-identified, the audit journal de-identified
(`audit.desidentifier`). The certificate stays verifiable, without the former name."""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, or_, select

from app.extensions import db
from app.models import (AccountToken, Certificat, DecisionJury, Document, EmailMessage,
                        Evaluation, Formation, HistoriqueStatut, Notification, Rattachement,
                        ResultatEvaluation, SessionJury)
from app.models import candidature as C
from app.models.candidature import Candidat, Candidature
from app.models.rattachement import REFUSEE
from app.security import perimeter
from app.security.access import can, ensure_can
from app.security.matrix import READ, UPDATE

from . import audit, documents
from .errors import ForbiddenError, RuleError, ServiceError

RESOURCE = "DonneesPersonnelles"
FORMAT = "clea-donnees-personnelles/1"
MASQUE = "[anonymisé]"  # what replaces a former name, contact or birth date in a text
TEXTE_ANONYMISE = "Données anonymisées"  # what replaces a text that was entirely personal
NOM_ANONYME = "ANONYME"
DATE_ANONYME = dt.date(1900, 1, 1)  # the column is required; statistics never read it
DESTINATAIRE_ANONYME = "destinataire-anonymise@invalid"  # .invalid: never deliverable
MESSAGE_ANONYMISE = _l("Le candidat est anonymisé : ses noms, sa naissance, ses coordonnées et "
                       "ses documents ne sont plus sur la plateforme.")
MOTIF_MIN = 10  # characters: the journal must tell why a person was anonymised
# Before the jury decides, the dossier is the jury's working file: anonymise after the decision.
DEVANT_LE_JURY = (C.ATTENTE_JURY, C.ATTENTE_CERTIFICATION, C.ATTENTE_COMPLEMENT, C.COMPLETEE)


# --- who may ------------------------------------------------------------------------------

def candidat(pk: Any, by: Any) -> Candidat:
    """The person, if one of their dossiers lies inside `by`'s perimeter (else 404)."""
    return perimeter.get_or_404(Candidat, pk, by)


def refus_export(person: Candidat, by: Any) -> Optional[ServiceError]:
    if not can(by, RESOURCE, READ):
        return ForbiddenError(_("Votre rôle ne permet pas cette action."))
    if person.anonymise:
        return RuleError(_("Ce candidat est anonymisé : la plateforme ne détient plus ses "
                           "données personnelles."))
    return None


def peut_exporter(person: Candidat, by: Any) -> bool:
    """« Exporter les données du candidat » is offered."""
    return refus_export(person, by) is None


def refus_anonymisation(person: Candidat, by: Any) -> Optional[ServiceError]:
    if not can(by, RESOURCE, UPDATE):
        return ForbiddenError(_("Seul Certif Pro peut anonymiser un candidat."))
    if person.anonymise:
        return RuleError(_("Ce candidat est déjà anonymisé."))
    if any(c.statut in DEVANT_LE_JURY for c in person.candidatures):
        return RuleError(_("Un dossier de ce candidat est devant le jury : anonymisez-le après "
                           "la décision du jury."))
    return None


def refus_motif(motif: Optional[str]) -> Optional[ServiceError]:
    if len((motif or "").strip()) < MOTIF_MIN:
        return RuleError(_("Indiquez le motif de l'anonymisation (%(n)d caractères au moins) : "
                           "il figure dans le journal d'audit.", n=MOTIF_MIN), field="motif")
    return None


def question(person: Candidat) -> str:
    """What the confirmation asks (the dialog and the page without JavaScript)."""
    return _("Les données personnelles de %(nom)s seront effacées de la plateforme, dans tous "
             "ses dossiers. Cette action est irréversible.", nom=person.nom_complet)


def peut_anonymiser(person: Candidat, by: Any) -> bool:
    """« Anonymiser » is offered."""
    return refus_anonymisation(person, by) is None


# --- export --------------------------------------------------------------------------------

def _iso(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _dossiers(person: Candidat, by: Any) -> list[Candidature]:
    """The person's dossiers inside `by`'s perimeter (all of them for Certif Pro)."""
    query = select(Candidature).where(Candidature.candidat_id == person.id)
    if by is not None:
        query = query.where(perimeter.clause(Candidature, by))
    return list(db.session.scalars(query.order_by(Candidature.id)))


def _documents(candidature_ids: list[int]) -> list[Document]:
    if not candidature_ids:
        return []
    return list(db.session.scalars(select(Document).where(
        Document.candidature_id.in_(candidature_ids), Document.supprime_le.is_(None))
        .order_by(Document.id)))


def _nom_fichier(document: Document) -> str:
    return f"documents/{document.id}-{document.nom_original}"


def donnees(person: Candidat, by: Any) -> dict:
    """Everything the platform holds about the person, as `donnees.json` reads it (French
    keys, dates in ISO 8601; LISEZMOI.txt of the export describes each part)."""
    from . import candidatures as dossiers_service
    from . import certification, rattachements
    from .urls import public_url

    dossiers = _dossiers(person, by)
    ids = [c.id for c in dossiers]
    docs = _documents(ids)
    out_dossiers = []
    for c in dossiers:
        evaluations = db.session.scalars(select(Evaluation).where(
            Evaluation.candidature_id == c.id).order_by(Evaluation.id)).all()
        formations = db.session.scalars(select(Formation).where(
            Formation.candidature_id == c.id).order_by(Formation.date_debut)).all()
        decisions = db.session.scalars(select(DecisionJury).where(
            DecisionJury.candidature_id == c.id).order_by(DecisionJury.id)).all()
        certificat = certification.certificat_de(c)
        demandes = db.session.scalars(select(Rattachement).where(
            Rattachement.candidature_id == c.id).order_by(Rattachement.id)).all()
        out_dossiers.append({
            "numero_dossier": c.id,
            "etablissement": c.etablissement.nom,
            "organisme": c.etablissement.organisme.raison_sociale,
            "statut": c.statut,
            "statut_libelle": dossiers_service.statut_label(c.statut),
            "type_public": c.type_public,
            "statut_inscription": c.statut_inscription,
            "branche": c.branche.nom if c.branche else None,
            "socle_contextualise": c.socle_contextualise,
            "niveau_formation": c.niveau_formation,
            "origine_demarche": c.origine_demarche,
            "objectif_professionnel": c.objectif_pro,
            "objectif_extra_professionnel": c.objectif_extra_pro,
            "certificat_papier": c.certificat_papier,
            "date_prealable": _iso(c.date_prealable),
            "motif_abandon": c.motif_abandon,
            "motif_abandon_precisions": c.motif_abandon_texte,
            "cree_le": _iso(c.created_on),
            "modifie_le": _iso(c.updated_on),
            "envoye_en_certification_le": _iso(c.envoye_le),
            "jury": c.certificateur.nom if c.certificateur else None,
            "historique": [{"le": _iso(h.le), "de": h.de, "vers": h.vers,
                            "vers_libelle": dossiers_service.statut_label(h.vers),
                            "motif": h.motif} for h in c.historique],
            "evaluations": [{
                "type": e.type, "statut": e.statut, "resultat": e.resultat,
                "evaluateur": e.evaluateur, "date_evaluation": _iso(e.date_evaluation),
                "finalisee_le": _iso(e.finalisee_le),
                "resultats": [{"sous_domaine": r.sous_domaine.code,
                               "intitule": r.sous_domaine.intitule,
                               "acquis": r.acquis, "commentaire": r.commentaire}
                              for r in sorted(e.resultats, key=lambda r: r.sous_domaine.ordre)],
            } for e in evaluations],
            "formations": [{
                "intitule": f.intitule, "organisme_formateur": f.organisme_formateur,
                "formateur": f.formateur, "date_debut": _iso(f.date_debut),
                "date_fin": _iso(f.date_fin), "duree_heures": float(f.duree_heures),
                "modalite": f.modalite, "sous_domaines": [s.code for s in f.sous_domaines],
            } for f in formations],
            "decisions_jury": [{
                "session": _iso(d.session.date_session), "jury": d.session.certificateur.nom,
                "decision": d.decision, "decision_libelle": str(certification.DECISIONS[d.decision]),
                "motif": d.motif, "le": _iso(d.le), "reponse_organisme": d.reponse,
                "repondu_le": _iso(d.repondu_le),
            } for d in decisions],
            "certificat": None if certificat is None else {
                "numero": certificat.numero, "date_jury": _iso(certificat.date_jury),
                "jury": certificat.certificateur.nom, "signe_le": _iso(certificat.signe_le),
                "verification_publique": public_url(f"/verifier/{certificat.numero}"),
                "fichier": f"certificat/{certificat.numero}.pdf",
                "envois": [{"date_envoi": _iso(e.date_envoi), "adresse": e.adresse}
                           for e in certificat.envois],
            },
            "demandes_de_rattachement": [{
                "etablissement_origine": r.etablissement_origine.nom,
                "etablissement_demandeur": r.etablissement_cible.nom, "motif": r.motif,
                "motif_precisions": r.motif_texte, "statut": r.statut,
                "statut_libelle": str(rattachements.STATUTS.get(r.statut, r.statut)),
                "motif_refus": r.motif_refus, "demande_le": _iso(r.demande_le),
                "decide_le": _iso(r.decide_le),
            } for r in demandes],
            "documents": [{
                "nom": d.nom_original, "nature": d.nature, "type": d.type_mime,
                "taille_octets": d.taille, "sha256": d.sha256, "depose_le": _iso(d.created_on),
                "fichier": _nom_fichier(d),
            } for d in docs if d.candidature_id == c.id],
        })
    emails = []
    if person.email:
        emails = [{"le": _iso(m.created_on), "envoye_le": _iso(m.sent_on), "sujet": m.sujet,
                   "statut": m.statut, "texte": m.corps_texte}
                  for m in db.session.scalars(select(EmailMessage).where(
                      func.lower(EmailMessage.destinataire) == person.email.lower())
                      .order_by(EmailMessage.id))]
    return {
        "format": FORMAT,
        "exporte_le": dt.datetime.now().replace(microsecond=0).isoformat(),
        "exporte_par": getattr(by, "username", None),
        "personne": {
            "civilite": person.civilite,
            "nom_naissance": person.nom_naissance,
            "nom_usage": person.nom_usage,
            "prenoms": person.prenoms,
            "date_naissance": _iso(person.date_naissance),
            "commune_naissance": person.commune_naissance,
            "departement_naissance": person.departement_naissance,
            "pays_naissance": person.pays_naissance,
            "email": person.email,
            "telephone": person.telephone,
            "adresse": person.adresse,
            "code_postal": person.code_postal,
            "ville": person.ville,
            "enregistre_le": _iso(person.created_on),
        },
        "dossiers": out_dossiers,
        "emails_recus": emails,
    }


LISEZMOI = _l("""Export des données personnelles d'un candidat — plateforme CléA

donnees.json (UTF-8, dates au format AAAA-MM-JJ) :
- personne : identité, naissance, coordonnées et adresse telles que la plateforme les détient ;
- dossiers : chaque candidature (établissement, statut, parcours, objectifs), avec
  historique (changements de statut, date, motif), evaluations (résultats acquis / non acquis
  et commentaire de chacun des 28 sous-domaines), formations, decisions_jury,
  certificat (numéro, date du jury, adresse de vérification publique, envois postaux),
  demandes_de_rattachement et documents (le fichier de chacun est dans le dossier
  documents/ de cette archive) ;
- emails_recus : les e-mails que la plateforme a adressés au candidat.
certificat/ : le certificat CléA au format PDF, s'il a été délivré.

Seuls les dossiers du périmètre de la personne qui a fait l'export y figurent.
Pour exercer vos droits (accès, rectification, effacement, limitation, opposition,
portabilité) : %(contact)s.
""")


def exporter(person: Candidat, by: Any) -> tuple[str, bytes]:
    """« Exporter les données du candidat »: (file name, zip bytes) with donnees.json, the
    documents' files and the certificate; the export is written in the audit journal."""
    from . import certification

    person = candidat(person.id, by)
    refus = refus_export(person, by)
    if refus:
        raise refus
    data = donnees(person, by)
    ids = [d["numero_dossier"] for d in data["dossiers"]]
    buffer = io.BytesIO()
    fichiers = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("donnees.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("LISEZMOI.txt", str(LISEZMOI) % {
            "contact": current_app.config["CLEA_DPO_EMAIL"]})
        for document in _documents(ids):
            path = documents.chemin(document)
            if path.exists():
                archive.writestr(_nom_fichier(document), path.read_bytes())
                fichiers += 1
        for dossier in data["dossiers"]:
            if dossier["certificat"]:
                certificat = db.session.scalars(select(Certificat).where(
                    Certificat.numero == dossier["certificat"]["numero"])).one()
                archive.writestr(dossier["certificat"]["fichier"],
                                 certification.certificat_pdf(certificat))
    audit.record(by, "exporter_donnees_personnelles", person,
                 _("%(dossiers)d dossier(s), %(fichiers)d document(s)",
                   dossiers=len(ids), fichiers=fichiers))
    db.session.commit()
    return f"donnees-candidat-{person.id}.zip", buffer.getvalue()


# --- anonymisation -------------------------------------------------------------------------

_VARIANTES = {}
for _plain, _accents in (("a", "àâäáãå"), ("c", "ç"), ("e", "éèêë"), ("i", "îïíì"),
                         ("n", "ñ"), ("o", "ôöóòõø"), ("u", "ûüúù"), ("y", "ÿý")):
    _VARIANTES[_plain] = _plain + _accents


def _motif_regex(term: str) -> str:
    """A pattern matching `term` whatever its accents, case and spacing of hyphens."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", term)
                    if not unicodedata.combining(ch)).lower()
    parts = []
    for ch in plain:
        if ch in _VARIANTES:
            parts.append(f"[{_VARIANTES[ch]}]")
        elif ch in " -'":
            parts.append(r"[\s\-']+")
        else:
            parts.append(re.escape(ch))
    return "".join(parts)


def traces(person: Candidat) -> list[str]:
    """What identifies the person in a free text: full name forms, names, first names,
    contacts, street address, birth date; longest first (a full name before its parts)."""
    termes = {person.nom_complet, f"{person.prenoms} {person.nom_naissance}",
              person.nom_naissance, person.nom_usage, person.prenoms, person.email,
              person.telephone, person.adresse}
    termes.update(p for p in re.split(r"[\s\-]+", person.prenoms or "") if len(p) >= 3)
    if person.date_naissance:
        termes.update({person.date_naissance.strftime("%d/%m/%Y"),
                       person.date_naissance.isoformat()})
    return sorted((t.strip() for t in termes if t and len(t.strip()) >= 2),
                  key=len, reverse=True)


def masquer(text: Optional[str], termes: Iterable[str]) -> Optional[str]:
    """`text` with every trace of the person replaced by « [anonymisé] »."""
    if not text:
        return text
    for term in termes:
        text = re.sub(rf"(?<!\w){_motif_regex(term)}(?!\w)", MASQUE, text, flags=re.IGNORECASE)
    return text


def _masquer_lignes(rows: Iterable[Any], columns: tuple[str, ...], termes: list[str]) -> None:
    for row in rows:
        for column in columns:
            value = getattr(row, column)
            masked = masquer(value, termes)
            if masked != value:
                setattr(row, column, masked)


def _nommant(model: type, columns: tuple[str, ...], person: Candidat):
    """Rows of `model` whose text names the person (birth or usage name as typed, in
    capitals, in lower case, without accents; or their e-mail). Spelled out: lower() of
    SQLite, and of PostgreSQL under the C locale, folds only ASCII letters."""
    from .texte import normalize

    formes = set()
    for nom in (person.nom_naissance, person.nom_usage):
        if nom and len(nom) >= 2:
            formes.update({nom, nom.upper(), nom.lower(), nom.capitalize(), normalize(nom),
                           normalize(nom).upper(), normalize(nom).capitalize()})
    if person.email:
        formes.update({person.email, person.email.lower()})
    conditions = [getattr(model, column).contains(forme)
                  for column in columns for forme in formes]
    return db.session.scalars(select(model).where(or_(*conditions))) if conditions else []


def anonymiser(person: Candidat, motif: str, by: Any) -> None:
    """« Anonymiser » (Certif Pro, with a motive): in one transaction, then the files are
    removed once it is committed (a failure leaves the person, the rows and the files as
    they were)."""
    from . import certification

    ensure_can(by, RESOURCE, UPDATE)
    person = candidat(person.id, by)
    motif = (motif or "").strip()
    refus = refus_motif(motif) or refus_anonymisation(person, by)
    if refus:
        raise refus
    termes = traces(person)
    ids = [c.id for c in person.candidatures]
    nouveaux: list[Path] = []  # written in this transaction: removed if it fails
    anciens: list[Path] = []  # replaced or deleted: removed once it is committed
    try:
        # The journal first: it needs the former names to find them.
        audit.desidentifier(person, by, motif)
        _desidentifier_textes(person, ids, termes)
        _desidentifier_emails(person, termes)
        for dossier in person.candidatures:
            anciens += documents.retirer_du_dossier(dossier)
        for certificat in db.session.scalars(select(Certificat).where(
                Certificat.candidature_id.in_(ids))):
            if certificat.fichier_signe:  # the signed PDF prints the name: the generated one
                anciens.append(documents.storage_dir() / certificat.fichier_signe)
                certificat.fichier_signe = None  # replaces it, without the name
            for envoi in certificat.envois:
                envoi.adresse = TEXTE_ANONYMISE
        _remplacer_identite(person)
        db.session.flush()
        # Procès-verbaux of the sessions that decided on the person: regenerated without it.
        for session in db.session.scalars(select(SessionJury).where(
                SessionJury.proces_verbal.is_not(None), SessionJury.id.in_(
                    select(DecisionJury.session_jury_id).where(
                        DecisionJury.candidature_id.in_(ids))))):
            stored = f"pv-{uuid.uuid4().hex}.pdf"
            path = documents.storage_dir() / stored
            path.write_bytes(certification.signer_proces_verbal(session))
            nouveaux.append(path)
            anciens.append(documents.storage_dir() / session.proces_verbal)
            session.proces_verbal = stored
        db.session.commit()
    except Exception:
        db.session.rollback()
        documents.effacer_fichiers(nouveaux)
        raise
    documents.effacer_fichiers(anciens)


def _remplacer_identite(person: Candidat) -> None:
    cle = f"{C.ANONYME_PREFIX}{uuid.uuid4().hex}"
    person.nom_naissance = NOM_ANONYME
    person.nom_usage = None
    person.prenoms = NOM_ANONYME.capitalize()
    person.date_naissance = DATE_ANONYME
    for name in ("commune_naissance", "departement_naissance", "pays_naissance", "email",
                 "telephone", "adresse", "code_postal", "ville", "recherche_usage"):
        setattr(person, name, None)
    person.cle_identite = person.recherche = person.recherche_prenom = cle


def _desidentifier_textes(person: Candidat, ids: list[int], termes: list[str]) -> None:
    """The free texts of the person's dossiers, and the notifications naming them."""
    if ids:
        dossiers = db.session.scalars(select(Candidature).where(Candidature.id.in_(ids)))
        for dossier in dossiers:
            dossier.objectif_pro = TEXTE_ANONYMISE
            dossier.objectif_extra_pro = TEXTE_ANONYMISE
            dossier.motif_abandon_texte = masquer(dossier.motif_abandon_texte, termes)
        _masquer_lignes(db.session.scalars(select(HistoriqueStatut).where(
            HistoriqueStatut.candidature_id.in_(ids))), ("motif",), termes)
        _masquer_lignes(db.session.scalars(select(DecisionJury).where(
            DecisionJury.candidature_id.in_(ids))), ("motif", "reponse"), termes)
        _masquer_lignes(db.session.scalars(select(Rattachement).where(
            Rattachement.candidature_id.in_(ids))), ("motif_texte", "motif_refus"), termes)
        evaluations = select(Evaluation.id).where(Evaluation.candidature_id.in_(ids))
        for resultat in db.session.scalars(select(ResultatEvaluation).where(
                ResultatEvaluation.evaluation_id.in_(evaluations),
                ResultatEvaluation.commentaire.is_not(None))):
            resultat.commentaire = None  # an assessment of the person, in words
    _masquer_lignes(_nommant(Notification, ("titre", "texte"), person), ("titre", "texte"),
                    termes)


def _desidentifier_emails(person: Candidat, termes: list[str]) -> None:
    """The outbox: messages addressed to the person lose the address (and are no longer
    sent); every message naming them loses the name."""
    if person.email:
        for message in db.session.scalars(select(EmailMessage).where(
                func.lower(EmailMessage.destinataire) == person.email.lower())):
            message.destinataire = DESTINATAIRE_ANONYME
            if message.statut in ("a_envoyer", "en_cours"):
                message.statut = "echec"
                message.derniere_erreur = "Destinataire anonymisé"
    _masquer_lignes(_nommant(EmailMessage, ("sujet", "corps_texte", "corps_html"), person),
                    ("sujet", "corps_texte", "corps_html"), termes)


# --- retention -----------------------------------------------------------------------------

@dataclass
class Bilan:
    """What the retention rules did (or would do, in a dry run): counts per rule."""

    simulation: bool
    regles: list[tuple[str, int]] = field(default_factory=list)

    def lignes(self) -> list[str]:
        titre = (_("Conservation des données — simulation (rien n'est modifié) :")
                 if self.simulation else _("Conservation des données — appliquée :"))
        return [titre] + [f"  - {texte} : {n}" for texte, n in self.regles]

    def as_dict(self) -> dict:
        return {"simulation": self.simulation, "regles": [
            {"regle": texte, "nombre": n} for texte, n in self.regles]}

    def __str__(self) -> str:
        return "\n".join(self.lignes())


def _abandonnes_expires(limite: dt.datetime) -> list[int]:
    """Persons (not anonymised) whose every dossier is abandoned, the last abandonment
    before `limite`."""
    abandon = (select(HistoriqueStatut.candidature_id,
                      func.max(HistoriqueStatut.le).label("le"))
               .where(HistoriqueStatut.vers == C.ABANDONNEE)
               .group_by(HistoriqueStatut.candidature_id).subquery())
    return list(db.session.scalars(
        select(Candidature.candidat_id)
        .join(Candidat, Candidat.id == Candidature.candidat_id)
        .outerjoin(abandon, abandon.c.candidature_id == Candidature.id)
        .where(~Candidat.cle_identite.startswith(C.ANONYME_PREFIX))
        .group_by(Candidature.candidat_id)
        .having(func.sum(case((Candidature.statut != C.ABANDONNEE, 1), else_=0)) == 0)
        .having(func.max(abandon.c.le) < limite)
        .order_by(Candidature.candidat_id)))


def retention(simulation: bool = False, now: Optional[dt.datetime] = None) -> Bilan:
    """Apply the retention rules of the configuration (or count, in a simulation)."""
    config = current_app.config
    now = now or dt.datetime.now()
    annees = int(config["CLEA_RETENTION_ABANDON_ANNEES"])
    jours = {key: int(config[key]) for key in (
        "CLEA_RETENTION_RATTACHEMENT_JOURS", "CLEA_RETENTION_EMAILS_JOURS",
        "CLEA_RETENTION_LIENS_JOURS")}
    try:
        limite_abandon = now.replace(year=now.year - annees)
    except ValueError:  # 29 February
        limite_abandon = now.replace(year=now.year - annees, day=28)
    bilan = Bilan(simulation)

    personnes = _abandonnes_expires(limite_abandon)
    if not simulation:
        for pk in personnes:
            anonymiser(db.session.get(Candidat, pk), str(_(
                "Conservation : dossier abandonné depuis plus de %(n)d ans", n=annees)), None)
    bilan.regles.append((_("Candidats anonymisés (dossiers abandonnés depuis plus de %(n)d ans)",
                           n=annees), len(personnes)))

    purges = (
        (_("Demandes de rattachement refusées depuis plus de %(n)d jours",
           n=jours["CLEA_RETENTION_RATTACHEMENT_JOURS"]), Rattachement,
         (Rattachement.statut == REFUSEE, Rattachement.decide_le < now - dt.timedelta(
             days=jours["CLEA_RETENTION_RATTACHEMENT_JOURS"]))),
        (_("E-mails de plus de %(n)d jours supprimés de la boîte d'envoi",
           n=jours["CLEA_RETENTION_EMAILS_JOURS"]), EmailMessage,
         (EmailMessage.statut != "en_cours", EmailMessage.created_on < now - dt.timedelta(
             days=jours["CLEA_RETENTION_EMAILS_JOURS"]))),
        (_("Liens de connexion expirés depuis plus de %(n)d jours",
           n=jours["CLEA_RETENTION_LIENS_JOURS"]), AccountToken,
         (AccountToken.expires_at < now - dt.timedelta(
             days=jours["CLEA_RETENTION_LIENS_JOURS"]),)),
    )
    for texte, model, conditions in purges:
        if simulation:
            n = db.session.execute(select(func.count()).select_from(model).where(
                *conditions)).scalar_one()
        else:
            n = db.session.execute(delete(model).where(*conditions)).rowcount
        bilan.regles.append((texte, n))
    if simulation:
        db.session.rollback()
    else:
        audit.record(None, "retention", None, "; ".join(f"{t} : {n}" for t, n in bilan.regles))
        db.session.commit()
    return bilan


def durees() -> dict:
    """The retention periods of the configuration, as the « Données personnelles » page
    states them."""
    config = current_app.config
    return {"abandon_annees": int(config["CLEA_RETENTION_ABANDON_ANNEES"]),
            "rattachement_jours": int(config["CLEA_RETENTION_RATTACHEMENT_JOURS"]),
            "emails_jours": int(config["CLEA_RETENTION_EMAILS_JOURS"]),
            "liens_jours": int(config["CLEA_RETENTION_LIENS_JOURS"]),
            "auto_abandon_annees": 5}
