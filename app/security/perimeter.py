"""The perimeter (row-level security), in one place (DESIGN.md §4).

`clause(model, user)` is the SQL condition that keeps the rows of `model` a user may see.
Every list, show, edit, delete, action, download, API call, export and job goes through
`scoped()` / `get_or_404()`; outside the perimeter the answer is 404, never the data.
Every condition compares an indexed foreign key with a constant or a small subquery.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar

from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import ColumnElement, and_, false, or_, select, true
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.models import (Actualite, Candidat, Candidature, Certificateur, EmailMessage, Etablissement, Habilitation,
                        Organisme, Rattachement, Reseau, Utilisateur)
from app.models.evaluation import Document, Evaluation, Formation
from app.models.jury import Certificat, DecisionJury, SessionJury

from . import roles as R

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    kind: str  # national | reseau | organisme | etablissement | certificateur | none
    id: Optional[int] = None


NO_SCOPE = Scope("none")


def scope_of(user: Any) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_SCOPE
    if R.is_technical_admin(user):
        return Scope(R.NATIONAL)
    role = R.role_of(user)
    if role is None:
        return NO_SCOPE
    if role.scope == R.NATIONAL:
        return Scope(R.NATIONAL)
    target_id = {
        R.RESEAU: user.reseau_id,
        R.ORGANISME: user.organisme_id,
        R.ETABLISSEMENT: user.etablissement_id,
        R.CERTIFICATEUR: user.certificateur_id,
    }[role.scope]
    return Scope(role.scope, target_id) if target_id else NO_SCOPE


# --- building blocks: the structures a scope covers --------------------------------------

def organisme_ids(scope: Scope):
    """A selectable of the organisme ids inside a (réseau/organisme/établissement) scope."""
    if scope.kind == R.RESEAU:
        return select(Organisme.id).where(Organisme.reseau_id == scope.id)
    if scope.kind == R.ORGANISME:
        return select(Organisme.id).where(Organisme.id == scope.id)
    if scope.kind == R.ETABLISSEMENT:
        return select(Etablissement.organisme_id).where(Etablissement.id == scope.id)
    return select(Organisme.id).where(false())


def etablissement_ids(scope: Scope):
    if scope.kind == R.RESEAU:
        return select(Etablissement.id).where(Etablissement.organisme_id.in_(organisme_ids(scope)))
    if scope.kind == R.ORGANISME:
        return select(Etablissement.id).where(Etablissement.organisme_id == scope.id)
    if scope.kind == R.ETABLISSEMENT:
        return select(Etablissement.id).where(Etablissement.id == scope.id)
    return select(Etablissement.id).where(false())


def etablissement_column_clause(column, scope: Scope) -> ColumnElement:
    """For any table owned by an établissement (candidatures, habilitations, ...)."""
    if scope.kind == R.NATIONAL:
        return true()
    if scope.kind == R.ETABLISSEMENT:
        return column == scope.id
    if scope.kind == R.ORGANISME:
        return column.in_(etablissement_ids(scope))
    if scope.kind == R.RESEAU:
        return column.in_(etablissement_ids(scope))
    return false()


# --- one rule per model ----------------------------------------------------------------

def _reseau(scope: Scope) -> ColumnElement:
    if scope.kind == R.RESEAU:
        return Reseau.id == scope.id
    if scope.kind in (R.ORGANISME, R.ETABLISSEMENT):
        return Reseau.id.in_(
            select(Organisme.reseau_id).where(Organisme.id.in_(organisme_ids(scope)))
        )
    return false()


def _organisme(scope: Scope) -> ColumnElement:
    if scope.kind == R.RESEAU:
        return Organisme.reseau_id == scope.id
    if scope.kind == R.ORGANISME:
        return Organisme.id == scope.id
    if scope.kind == R.ETABLISSEMENT:
        return Organisme.id.in_(organisme_ids(scope))
    return false()


def _etablissement(scope: Scope) -> ColumnElement:
    if scope.kind == R.RESEAU:
        return Etablissement.organisme_id.in_(organisme_ids(scope))
    if scope.kind == R.ORGANISME:
        return Etablissement.organisme_id == scope.id
    if scope.kind == R.ETABLISSEMENT:
        return Etablissement.id == scope.id
    return false()


def _utilisateur(scope: Scope) -> ColumnElement:
    if scope.kind == R.RESEAU:
        return or_(
            Utilisateur.reseau_id == scope.id,
            Utilisateur.organisme_id.in_(organisme_ids(scope)),
            Utilisateur.etablissement_id.in_(etablissement_ids(scope)),
        )
    if scope.kind == R.ORGANISME:
        return or_(
            Utilisateur.organisme_id == scope.id,
            Utilisateur.etablissement_id.in_(etablissement_ids(scope)),
        )
    if scope.kind == R.ETABLISSEMENT:
        return Utilisateur.etablissement_id == scope.id
    if scope.kind == R.CERTIFICATEUR:
        return Utilisateur.certificateur_id == scope.id
    return false()


def _national_only(scope: Scope) -> ColumnElement:
    return false()


def _actualite_courante(scope: Scope) -> ColumnElement:
    """Below Certif Pro, only the news in force today."""
    import datetime as dt

    today = dt.date.today()
    return and_(Actualite.publie_le <= today,
                or_(Actualite.expire_le.is_(None), Actualite.expire_le >= today))


def _habilitation(scope: Scope) -> ColumnElement:
    if scope.kind == R.CERTIFICATEUR:  # a CPNE's jury: the requests of its branche
        return and_(Habilitation.portee == "branche", Habilitation.branche_id.in_(
            select(Certificateur.branche_id).where(Certificateur.id == scope.id,
                                                   Certificateur.type == "cpne")))
    return etablissement_column_clause(Habilitation.etablissement_id, scope)


RULES: dict[type, Callable[[Scope], ColumnElement]] = {
    Reseau: _reseau,
    Organisme: _organisme,
    Etablissement: _etablissement,
    Utilisateur: _utilisateur,
    EmailMessage: _national_only,
    Actualite: _actualite_courante,
}


RULES[Habilitation] = _habilitation


def _candidature(scope: Scope) -> ColumnElement:
    """One indexed equality: the dossier carries its établissement, organisme and réseau
    (kept exact by services/perimetre.py)."""
    column = {R.CERTIFICATEUR: Candidature.certificateur_id,  # a jury: the dossiers sent to it
              R.RESEAU: Candidature.reseau_id, R.ORGANISME: Candidature.organisme_id,
              R.ETABLISSEMENT: Candidature.etablissement_id}.get(scope.kind)
    return column == scope.id if column is not None else false()


def _candidat(scope: Scope) -> ColumnElement:
    return Candidat.id.in_(select(Candidature.candidat_id).where(_candidature(scope)))


RULES[Candidature] = _candidature


def _rattachement(scope: Scope) -> ColumnElement:
    """Requests made for, or about, an établissement of the perimeter."""
    return or_(etablissement_column_clause(Rattachement.etablissement_cible_id, scope),
               etablissement_column_clause(Rattachement.etablissement_origine_id, scope))


RULES[Rattachement] = _rattachement


def _dossier_owned(model: type) -> Callable[[Scope], ColumnElement]:
    """Evaluations, formations and documents: visible with their dossier."""
    def rule(scope: Scope) -> ColumnElement:
        return model.candidature_id.in_(select(Candidature.id).where(_candidature(scope)))
    return rule


for _model in (Evaluation, Formation, Document, Certificat, DecisionJury):
    RULES[_model] = _dossier_owned(_model)
RULES[Candidat] = _candidat


def _session_jury(scope: Scope) -> ColumnElement:
    """A jury sees its own sessions; the OF read the calendar of every jury (dates, place)."""
    if scope.kind == R.CERTIFICATEUR:
        return SessionJury.certificateur_id == scope.id
    return true()


RULES[SessionJury] = _session_jury


def register(model: type, rule: Callable[[Scope], ColumnElement]) -> None:
    """Later aggregates (candidatures, habilitations, ...) register their rule here."""
    RULES[model] = rule


def clause(model: type, user: Any) -> ColumnElement:
    scope = scope_of(user)
    if scope.kind == R.NATIONAL:
        return true()
    if scope.kind == "none":
        return false()
    try:
        rule = RULES[model]
    except KeyError:  # a model without a rule is never readable below national level
        return false()
    return rule(scope)


def scoped(query, model: type, user: Any):
    """Filter a legacy Query or a 2.0 Select to the user's perimeter."""
    return query.where(clause(model, user)) if hasattr(query, "where") else query.filter(
        clause(model, user)
    )


MAX_ID = 2 ** 31 - 1  # the ids are 32-bit integers: a larger one names no row


def bounded_id(value: Any) -> Optional[int]:
    """`value` as an id a row may have (1 … MAX_ID), else None (empty, not a number, out of
    range)."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_ID else None


def get_or_404(model: type[T], pk: Any, user: Any, *options) -> T:
    """The row if it exists inside the user's perimeter, else 404 (an id that is not a
    number, or out of the ids' range, too). `user=None` is the system (CLI, jobs).
    `options`: joinedload/selectinload of what the page shows, loaded in the same statement
    instead of one lazy load each."""
    pk = bounded_id(pk)
    if pk is None:
        raise NotFound()
    query = select(model).where(model.id == pk)
    if user is not None:
        query = query.where(clause(model, user))
    item = db.session.execute(query.options(*options)).unique().scalar_one_or_none()
    if item is None:
        raise NotFound()
    return item


def contains(user: Any, model: type, pk: Optional[int]) -> bool:
    """Whether the row `model(pk)` lies inside the user's perimeter.
    `user=None` is the system (CLI, jobs): only existence is checked."""
    if pk is None:
        return False
    query = select(model.id).where(model.id == pk)
    if user is not None:
        query = query.where(clause(model, user))
    return db.session.execute(query).first() is not None


class PerimeterFilter(BaseFilter):
    """FAB base filter applying the perimeter of the current user to a view's datamodel."""

    name = "perimeter"
    arg_name = "perimeter"

    def apply(self, query, value):
        return query.filter(clause(self.model, actor()))


def actor():
    """The user of the current request: FAB sets g.user from the session, or from the JWT
    for API calls (flask_login's current_user knows only the session)."""
    from flask import g, has_request_context
    from flask_login import current_user

    if has_request_context() and getattr(g, "user", None) is not None:
        return g.user
    return current_user._get_current_object()
