"""Evaluations and formations (guide §7 Formations, §17; DESIGN §6): drafts on the grid,
finalization (28 results, evaluator, date, the signed matrice) with its effect on the
dossier's status, reopening by an Administrateur organisme or above, the formation and
attestation required before a new evaluation, and evaluator ≠ trainer on a dossier. Every
change needs a valid habilitation of the dossier's own établissement (`_dossier`)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Referentiel
from app.models import candidature as C
from app.models.candidature import Candidature
from app.models.evaluation import (EN_COURS, FINALE, FINALISEE, NON_VALIDE, PREALABLE, VALIDE,
                                   Document, Evaluation, Formation, ResultatEvaluation)
from app.models.referentiel import SousDomaine
from app.security import roles as R

from . import audit
from .candidatures import exiger_ecriture, normalize, statut_label, transition
from .dates import parse_date
from .errors import ConflictError, ForbiddenError, RuleError, ServiceError
from .habilitations import dossier_habilite, refus_dossier

MODALITES = {"presentiel": _l("Présentiel"), "distanciel": _l("À distance"),
             "mixte": _l("Mixte")}
OUVERTS = (C.ATTENTE_EVAL_PREALABLE, C.ATTENTE_EVAL_FINALE)


def _dossier(candidature: Candidature, by: Any) -> Candidature:
    """Every change of a dossier's evaluations and formations: the write gate, and a valid
    habilitation of the dossier's own établissement (403 otherwise)."""
    exiger_ecriture(candidature, by)
    refus = refus_dossier(candidature)
    if refus:
        raise ForbiddenError(refus)
    return candidature


def referentiel_en_vigueur() -> Referentiel:
    ref = db.session.scalars(select(Referentiel).where(Referentiel.en_vigueur.is_(True))).first()
    if ref is None:
        raise RuleError(_("Aucun référentiel en vigueur : lancez « flask clea init »."))
    return ref


def derniere_finalisee(candidature: Candidature) -> Optional[Evaluation]:
    return db.session.scalars(
        select(Evaluation).where(Evaluation.candidature_id == candidature.id,
                                 Evaluation.statut == FINALISEE)
        .order_by(Evaluation.finalisee_le.desc(), Evaluation.id.desc())).first()


def _formation_avec_attestation_depuis(candidature: Candidature, depuis: dt.datetime) -> bool:
    return db.session.execute(select(exists().where(
        Formation.candidature_id == candidature.id, Formation.created_on >= depuis,
        exists().where(Document.formation_id == Formation.id, Document.nature == "attestation",
                       Document.supprime_le.is_(None))))).scalar()


def peut_ajouter(candidature: Candidature) -> bool:
    """« Ajouter une évaluation » is offered: the dossier waits for one, has no draft, and its
    établissement is habilitated."""
    return candidature.statut in OUVERTS and not db.session.execute(select(exists().where(
        Evaluation.candidature_id == candidature.id, Evaluation.statut == EN_COURS))).scalar() \
        and dossier_habilite(candidature)


def rouvrable(evaluation: Evaluation) -> bool:
    """A finalized evaluation of a dossier not sent yet (the role is checked apart)."""
    if not (evaluation.statut == FINALISEE
            and evaluation.candidature.statut in (C.A_ENVOYER, C.ATTENTE_EVAL_FINALE)):
        return False
    from app.models.jury import DecisionJury

    decided = db.session.scalar(select(func.max(DecisionJury.le)).where(
        DecisionJury.candidature_id == evaluation.candidature_id))
    return decided is None or evaluation.finalisee_le > decided  # the jury saw the older ones


def creer(candidature: Candidature, by: Any) -> Evaluation:
    """« Ajouter une évaluation »: the préalable first; a finale only after a "Non validé"
    one and a formation with an attestation recorded since."""
    _dossier(candidature, by)
    if candidature.statut not in OUVERTS:
        raise RuleError(_("Ce dossier n'attend pas d'évaluation (statut : %(s)s).",
                          s=statut_label(candidature.statut)))
    precedente = derniere_finalisee(candidature)
    if precedente is not None:
        # after a « Non certifiée » decision the path resumes (attente_eval_finale) from a
        # validated evaluation: a new formation, then a new finale
        if precedente.resultat != NON_VALIDE and candidature.statut != C.ATTENTE_EVAL_FINALE:
            raise RuleError(_("La dernière évaluation est validée : envoyez le dossier en "
                              "certification."))
        if not _formation_avec_attestation_depuis(candidature, precedente.finalisee_le):
            raise RuleError(_("Avant une nouvelle évaluation, enregistrez la formation suivie "
                              "depuis la précédente et joignez au moins une attestation, dans "
                              "l'onglet « Formations CléA » du dossier."))
    if db.session.execute(select(exists().where(Evaluation.candidature_id == candidature.id,
                                                Evaluation.statut == EN_COURS))).scalar():
        raise ConflictError(_("Une évaluation est déjà en cours de création pour ce dossier : "
                              "continuez-la."))
    ref = referentiel_en_vigueur()
    sous_domaines = [s.id for d in ref.domaines for s in d.sous_domaines]
    evaluation = Evaluation(candidature_id=candidature.id, referentiel_id=ref.id,
                            type=PREALABLE if precedente is None else FINALE, statut=EN_COURS,
                            version=1, created_by_id=getattr(by, "id", None))
    db.session.add(evaluation)
    for sous_domaine_id in sous_domaines:
        db.session.add(ResultatEvaluation(evaluation=evaluation, sous_domaine_id=sous_domaine_id))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(_("Une évaluation est déjà en cours de création pour ce dossier : "
                              "continuez-la."))
    audit.record(by, "creer_evaluation", evaluation)
    db.session.commit()
    return evaluation


def _brouillon(evaluation: Evaluation, by: Any) -> Evaluation:
    _dossier(evaluation.candidature, by)
    if evaluation.statut != EN_COURS:
        raise RuleError(_("Cette évaluation est finalisée : seul un administrateur organisme "
                          "(ou au-dessus) peut la rouvrir."))
    return evaluation


ACQUIS = {True: True, "true": True, "1": True, 1: True, "acquis": True,
          False: False, "false": False, "0": False, 0: False, "non_acquis": False,
          None: None, "": None}
COMMENTAIRE_MAX = 2000


def _grille(evaluation: Evaluation, resultats: Any) -> list[tuple[Any, dict]]:
    """The grid's changes, {sous_domaine_id: {"acquis": true | false | null, "commentaire"}}
    read into (result row, {column: value}), every entry checked first: a refusal names
    « resultats » and the entry, and nothing is written."""
    if resultats in (None, ""):
        return []
    if not isinstance(resultats, dict):
        raise RuleError(_("« resultats » : un objet attendu, {id du sous-domaine : {« acquis », "
                          "« commentaire »}}."), field="resultats")
    by_sous_domaine = {r.sous_domaine_id: r for r in evaluation.resultats}
    grille = []
    for key, value in resultats.items():
        try:
            resultat = by_sous_domaine.get(int(key))
        except (TypeError, ValueError):
            resultat = None
        if resultat is None:
            raise RuleError(_("« resultats » : sous-domaine inconnu pour cette évaluation "
                              "(%(cle)s) ; les clés sont les « sous_domaine_id » de GET "
                              "…/resultats.", cle=str(key)[:40]), field="resultats")
        if not isinstance(value, dict):
            raise RuleError(_("« resultats » : pour le sous-domaine %(cle)s, un objet "
                              "{« acquis », « commentaire »} attendu.", cle=key),
                            field="resultats")
        changes: dict[str, Any] = {}
        if "acquis" in value:
            acquis = value["acquis"]
            if isinstance(acquis, (dict, list, float)) or acquis not in ACQUIS:
                raise RuleError(_("« resultats » : pour le sous-domaine %(cle)s, « acquis » "
                                  "vaut true, false ou null.", cle=key), field="resultats")
            changes["acquis"] = ACQUIS[acquis]
        if "commentaire" in value:
            commentaire = value["commentaire"]
            if commentaire is not None and not isinstance(commentaire, str):
                raise RuleError(_("« resultats » : pour le sous-domaine %(cle)s, « commentaire "
                                  "» est un texte.", cle=key), field="resultats")
            commentaire = (commentaire or "").strip() or None
            if commentaire and len(commentaire) > COMMENTAIRE_MAX:
                raise RuleError(_("« resultats » : pour le sous-domaine %(cle)s, le commentaire "
                                  "dépasse %(n)d caractères.", cle=key, n=COMMENTAIRE_MAX),
                                field="resultats")
            changes["commentaire"] = commentaire
        grille.append((resultat, changes))
    return grille


def enregistrer(evaluation: Evaluation, data: dict, by: Any) -> Evaluation:
    """« Enregistrer et reprendre plus tard ». `data["version"]` is the version the user
    started from: if someone saved in between, nothing is written (409)."""
    _brouillon(evaluation, by)
    try:
        version = int(data.get("version"))
    except (TypeError, ValueError):
        raise RuleError(_("Version du formulaire manquante : rechargez la page."))
    values: dict[str, Any] = {"version": version + 1}
    if "evaluateur" in data:
        values["evaluateur"] = (data.get("evaluateur") or "").strip() or None
    if "date_evaluation" in data:
        day = parse_date(data.get("date_evaluation"), "date_evaluation")
        if day and day > dt.date.today():
            raise RuleError(_("La date de l'évaluation ne peut pas être dans le futur."),
                            field="date_evaluation")
        values["date_evaluation"] = day
    grille = _grille(evaluation, data.get("resultats"))  # checked before anything is written
    changed = db.session.execute(
        update(Evaluation).where(Evaluation.id == evaluation.id, Evaluation.version == version,
                                 Evaluation.statut == EN_COURS).values(**values)).rowcount
    if not changed:
        db.session.rollback()
        raise ConflictError(_("Cette évaluation vient d'être enregistrée par quelqu'un d'autre : "
                              "vos saisies sont conservées à l'écran, rechargez la page pour "
                              "voir la dernière version avant de les reporter."))
    for resultat, changes in grille:
        for name, value in changes.items():
            setattr(resultat, name, value)
    db.session.refresh(evaluation, ["version", "evaluateur", "date_evaluation"])
    audit.record(by, "enregistrer_evaluation", evaluation)
    db.session.commit()
    return evaluation


def compter(evaluation: Evaluation) -> tuple[int, int, int]:
    """(acquis, saisis, total) — the running « n / 28 acquis »."""
    total = len(evaluation.resultats)
    saisis = sum(1 for r in evaluation.resultats if r.acquis is not None)
    acquis = sum(1 for r in evaluation.resultats if r.acquis)
    return acquis, saisis, total


def _formateurs(candidature: Candidature) -> set[str]:
    return {normalize(f) for f in db.session.scalars(
        select(Formation.formateur).where(Formation.candidature_id == candidature.id)) if f}


def refus_finalisation(evaluation: Evaluation, by: Any) -> Optional[ServiceError]:
    """Why « Finaliser l'évaluation » would be refused now (None: it would be accepted): the
    dossier's write gate, a finalized evaluation, the list of what is missing, or the
    evaluator who is also a trainer of the dossier."""
    try:
        _brouillon(evaluation, by)
    except ServiceError as error:
        return error
    manque = []
    sans_resultat = [r.sous_domaine.code for r in sorted(evaluation.resultats,
                                                          key=lambda r: r.sous_domaine.code)
                     if r.acquis is None]
    if sans_resultat:
        manque.append(_("les résultats des sous-domaines %(liste)s",
                        liste=", ".join(sans_resultat)))
    if not evaluation.evaluateur:
        manque.append(_("le nom de l'évaluateur"))
    if not evaluation.date_evaluation:
        manque.append(_("la date de l'évaluation"))
    if not any(d.nature == "matrice" for d in evaluation.documents):
        manque.append(_("la matrice d'évaluation complétée et signée"))
    if manque:
        return RuleError(_("Pour finaliser, il manque : %(liste)s.", liste="; ".join(manque)))
    if normalize(evaluation.evaluateur) in _formateurs(evaluation.candidature):
        return RuleError(_("L'évaluateur ne peut pas être le formateur d'une formation du même "
                           "dossier."), field="evaluateur")
    return None


def finaliser(evaluation: Evaluation, by: Any) -> Evaluation:
    """« Finaliser l'évaluation »: refused with the list of what is missing."""
    refus = refus_finalisation(evaluation, by)
    if refus is not None:
        raise refus
    acquis, _saisis, total = compter(evaluation)
    resultat = VALIDE if acquis == total else NON_VALIDE
    changed = db.session.execute(
        update(Evaluation).where(Evaluation.id == evaluation.id, Evaluation.statut == EN_COURS)
        .values(statut=FINALISEE, resultat=resultat, finalisee_le=dt.datetime.now(),
                finalisee_par_id=getattr(by, "id", None), version=Evaluation.version + 1)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise ConflictError(_("Cette évaluation vient d'être finalisée par ailleurs."))
    db.session.refresh(evaluation)
    candidature = evaluation.candidature
    vers = C.A_ENVOYER if resultat == VALIDE else C.ATTENTE_EVAL_FINALE
    label = _("Évaluation %(type)s finalisée : %(res)s (%(n)d / %(t)d acquis)",
              type=_("préalable") if evaluation.type == PREALABLE else _("finale"),
              res=_("Validé") if resultat == VALIDE else _("Non validé"), n=acquis, t=total)
    transition(candidature, vers, by, label)
    if evaluation.type == PREALABLE and candidature.date_prealable is None:
        candidature.date_prealable = evaluation.date_evaluation
    audit.record(by, "finaliser_evaluation", evaluation, resultat)
    db.session.commit()
    return evaluation


def peut_rouvrir(user: Any) -> bool:
    """Only Administrateur organisme and above (guide §17)."""
    if user is None or R.is_technical_admin(user):
        return True
    role = R.role_of(user)
    return role is not None and role.level is not None and role.level >= R.ADMIN_ORGANISME.level


def rouvrir(evaluation: Evaluation, by: Any) -> Evaluation:
    _dossier(evaluation.candidature, by)
    if not peut_rouvrir(by):
        raise ForbiddenError(_("Seul un administrateur organisme (ou au-dessus) peut rouvrir "
                               "une évaluation finalisée."))
    candidature = evaluation.candidature
    if evaluation.statut != FINALISEE or derniere_finalisee(candidature).id != evaluation.id:
        raise RuleError(_("Seule la dernière évaluation finalisée peut être rouverte."))
    if not rouvrable(evaluation):
        raise RuleError(_("Le dossier a été envoyé en certification : l'évaluation ne peut plus "
                          "être rouverte."))
    try:
        db.session.execute(update(Evaluation).where(Evaluation.id == evaluation.id).values(
            statut=EN_COURS, resultat=None, finalisee_le=None, finalisee_par_id=None,
            version=Evaluation.version + 1))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(_("Une autre évaluation est en cours de création sur ce dossier."))
    vers = C.ATTENTE_EVAL_PREALABLE if evaluation.type == PREALABLE else C.ATTENTE_EVAL_FINALE
    transition(candidature, vers, by, _("Évaluation rouverte"))
    db.session.refresh(evaluation)
    audit.record(by, "rouvrir_evaluation", evaluation)
    db.session.commit()
    return evaluation


def ajouter_formation(candidature: Candidature, data: dict, by: Any) -> Formation:
    """A formation followed between evaluations (« Formations CléA » tab)."""
    _dossier(candidature, by)
    if candidature.statut in (C.ATTENTE_JURY, C.ATTENTE_CERTIFICATION, C.CERTIFIEE,
                              C.ABANDONNEE):
        raise RuleError(_("Ce dossier ne peut plus recevoir de formation."))
    clean: dict[str, Any] = {}
    for field, label in (("intitule", _("Intitulé")),
                         ("organisme_formateur", _("Organisme formateur")),
                         ("formateur", _("Formateur"))):
        value = (data.get(field) or "").strip()
        if not value:
            raise RuleError(_("Le champ « %(champ)s » est obligatoire.", champ=label),
                            field=field)
        clean[field] = value[:200]
    debut = parse_date(data.get("date_debut"), "date_debut")
    fin = parse_date(data.get("date_fin"), "date_fin")
    if debut is None or fin is None:
        raise RuleError(_("Indiquez les dates de début et de fin de la formation."),
                        field="date_debut")
    if fin < debut:
        raise RuleError(_("La date de fin doit être postérieure à la date de début."),
                        field="date_fin")
    try:
        heures = float(str(data.get("duree_heures") or "").replace(",", "."))
    except ValueError:
        heures = 0
    if not 0 < heures <= 2000:
        raise RuleError(_("Indiquez la durée en heures (entre 0,5 et 2000)."),
                        field="duree_heures")
    modalite = data.get("modalite")
    if modalite not in MODALITES:
        raise RuleError(_("Choisissez la modalité de la formation."), field="modalite")
    evaluateurs = {normalize(e) for e in db.session.scalars(
        select(Evaluation.evaluateur).where(Evaluation.candidature_id == candidature.id)) if e}
    if normalize(clean["formateur"]) in evaluateurs:
        raise RuleError(_("Le formateur ne peut pas être l'évaluateur d'une évaluation du même "
                          "dossier."), field="formateur")
    ids = [int(i) for i in data.get("sous_domaines") or []]
    sous_domaines = list(db.session.scalars(select(SousDomaine).where(SousDomaine.id.in_(ids)))) \
        if ids else []
    formation = Formation(candidature_id=candidature.id, date_debut=debut, date_fin=fin,
                          duree_heures=heures, modalite=modalite,
                          created_by_id=getattr(by, "id", None), **clean)
    formation.sous_domaines = sous_domaines
    db.session.add(formation)
    db.session.flush()
    audit.record(by, "ajouter_formation", formation)
    db.session.commit()
    return formation


def sous_domaines_non_acquis(candidature: Candidature) -> list[int]:
    """Pre-selection of a new formation: the sub-domains not acquired at the last evaluation."""
    last = derniere_finalisee(candidature)
    if last is None:
        return []
    return [r.sous_domaine_id for r in last.resultats if r.acquis is False]
