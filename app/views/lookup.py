"""/lookup/<kind>?q=: search-as-you-type for select fields, inside the user's perimeter."""
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


def lookup_label(kind: str, pk) -> str:
    model, column = LOOKUPS[kind]
    item = db.session.get(model, pk) if pk else None
    return str(item) if item else ""


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
        if model is Certificateur:
            if perimeter.scope_of(current_user).kind != R.NATIONAL:
                return jsonify(results=[])
        else:
            query = query.where(perimeter.clause(model, current_user))
        term = (request.args.get("q") or "").strip()
        if term:
            query = query.where(column.ilike(f"%{term}%"))
        rows = db.session.execute(query).all()
        return jsonify(results=[{"id": pk, "text": text} for pk, text in rows])
