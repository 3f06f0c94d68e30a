"""What the home page shows a user: their role, perimeter, counts and warnings."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Etablissement, Organisme, Utilisateur
from app.security import matrix, perimeter
from app.security import roles as R

from .structure import can_operate


@dataclass
class Accueil:
    role: str
    perimetre: str
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    links: list[matrix.MenuItem] = field(default_factory=list)
    # The dashboard of the dossiers (guide §6), when the Évaluations tab is open.
    dossiers: dict[str, int] = field(default_factory=dict)
    derniers: list = field(default_factory=list)
    certifies: list = field(default_factory=list)
    peut_proposer: bool = False
    # Certif Pro's desk: its work queues, each with its count and its oldest request.
    guichet: list = field(default_factory=list)


def summary(user: Any) -> Accueil:
    role = R.role_of(user)
    result = Accueil(role=user.role_label, perimetre=user.perimetre_label or _("National"))
    if role is None and not R.is_technical_admin(user):
        result.warnings.append(_("Aucun rôle ne vous est attribué : contactez votre "
                                 "administrateur."))
        return result
    counted = [(label, model) for resource, label, model in (
        ("Organisme", _("Organismes"), Organisme),
        ("Etablissement", _("Établissements"), Etablissement),
        ("Utilisateur", _("Utilisateurs"), Utilisateur))
        if matrix.allowed(role, resource, matrix.READ) or R.is_technical_admin(user)]
    if counted:  # the three counts in one statement
        values = db.session.execute(select(*(
            select(func.count()).select_from(model).where(perimeter.clause(model, user))
            .scalar_subquery() for _label, model in counted))).one()
        result.counts.update(zip((label for label, _model in counted), values))
    if matrix.allowed(role, "SessionJury", matrix.UPDATE):  # juries and Certif Pro
        from app.models.candidature import EN_EXAMEN_SQL, Candidature

        # the predicate written as the partial index ix_candidature_en_examen's, constants
        # included, so that PostgreSQL reads the index (a few rows, not a status's thousands)
        result.counts[_("Dossiers à examiner par le jury")] = db.session.execute(
            select(func.count()).select_from(Candidature).where(
                text(EN_EXAMEN_SQL), perimeter.clause(Candidature, user))).scalar_one()
    from . import guichet

    result.guichet = guichet.files(user)
    from .habilitations import peut_evaluer

    tabs_open = peut_evaluer(user)
    if tabs_open and (matrix.allowed(role, "Candidature", matrix.READ)
                      or R.is_technical_admin(user)):
        _tableau_de_bord(result, user, role)
    result.links = [item for item in matrix.MENU if matrix.menu_visible(role, item)
                    and (tabs_open or item.category != matrix.CATEGORY_EVALUATIONS)]
    organisme = user.organisme or (user.etablissement.organisme if user.etablissement else None)
    if organisme is not None:
        reason = can_operate(organisme)
        if reason:
            result.warnings.append(reason)
    from .habilitations import pourquoi_sans_habilitation

    reason = pourquoi_sans_habilitation(user)
    if reason:
        result.warnings.append(reason)
    if user.etablissement is not None and not user.etablissement.actif:
        result.warnings.append(_("Votre établissement est inactif : il ne peut plus enregistrer "
                                 "de candidatures."))
    return result


def _tableau_de_bord(result: Accueil, user: Any, role) -> None:
    from sqlalchemy.orm import joinedload

    from app.models import candidature as C
    from app.models.candidature import Candidature

    from .candidatures import compter_par_statut

    counts = compter_par_statut(user)
    result.dossiers = {
        _("En attente d'une évaluation préalable"): counts.get(C.ATTENTE_EVAL_PREALABLE, 0),
        _("En attente d'une évaluation finale"): counts.get(C.ATTENTE_EVAL_FINALE, 0),
        _("En attente d'affectation à un jury"): counts.get(C.ATTENTE_JURY, 0),
    }
    base = (select(Candidature).where(perimeter.clause(Candidature, user))
            .options(joinedload(Candidature.candidat), joinedload(Candidature.etablissement)))
    result.derniers = list(db.session.scalars(
        base.where(Candidature.statut != C.ABANDONNEE)
        .order_by(Candidature.updated_on.desc()).limit(10)))
    result.certifies = list(db.session.scalars(
        base.where(Candidature.statut == C.CERTIFIEE)
        .order_by(Candidature.updated_on.desc()).limit(10)))
    result.peut_proposer = matrix.allowed(role, "Candidature", matrix.CREATE) or \
        R.is_technical_admin(user)
