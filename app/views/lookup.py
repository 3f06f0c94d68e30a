"""/lookup/<kind>?q=&parent=: search-as-you-type for select fields, inside the user's
perimeter (and, with `parent`, the children of one row: an organisme's établissements)."""
from __future__ import annotations

from flask import abort, jsonify, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import Certificateur, Etablissement, Organisme, Reseau
from app.security import perimeter
from app.security import roles as R

LOOKUPS = {
    "reseau": (Reseau, Reseau.nom),
    "organisme": (Organisme, Organisme.raison_sociale),
    "etablissement": (Etablissement, Etablissement.nom),
    "certificateur": (Certificateur, Certificateur.nom),
}
LIMIT = 20
# ?parent=: the rows of one parent (the établissements of the organisme chosen beside them)
PARENTS = {"etablissement": Etablissement.organisme_id, "organisme": Organisme.reseau_id}


def _in_perimeter(model, user):
    """The rows a user may pick (and so see named): the perimeter; certificateurs are
    chosen at national level only."""
    if model is Certificateur:
        return perimeter.scope_of(user).kind == R.NATIONAL
    return perimeter.clause(model, user)


def lookup_label(kind: str, pk, user) -> str:
    """The name shown for a chosen id, only if the row lies in the user's perimeter: a posted
    id outside it shows nothing (and the service refuses it), never the name of a structure
    the user may not see."""
    model, column = LOOKUPS[kind]
    pk = perimeter.bounded_id(pk)
    if pk is None:
        return ""
    condition = _in_perimeter(model, user)
    if condition is False:
        return ""
    query = select(column).where(model.id == pk)
    if condition is not True:
        query = query.where(condition)
    label = db.session.execute(query).scalar_one_or_none()
    return str(label) if label is not None else ""


class LookupView(BaseView):
    route_base = "/lookup"
    class_permission_name = "Profil"
    method_permission_name = {"lookup": "read"}

    @expose("/<kind>")
    @has_access
    def lookup(self, kind):
        if kind not in LOOKUPS:
            abort(404)
        model, column = LOOKUPS[kind]
        query = select(model.id, column).order_by(column).limit(LIMIT)
        condition = _in_perimeter(model, current_user)
        if condition is False:
            return jsonify(results=[])
        if condition is not True:
            query = query.where(condition)
        parent = request.args.get("parent")
        if parent not in (None, "") and kind in PARENTS:
            query = query.where(PARENTS[kind] == (perimeter.bounded_id(parent) or 0))
        term = (request.args.get("q") or "").strip()
        if term:
            query = query.where(column.ilike(f"%{term}%"))
        rows = db.session.execute(query).all()
        return jsonify(results=[{"id": pk, "text": text} for pk, text in rows])
