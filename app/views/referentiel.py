"""Référentiel (Certif Pro): the versions loaded and, for each, its domaines, sous-domaines and
criteria (read-only; a new version is loaded by `flask clea init` from app/data)."""
from __future__ import annotations

from flask import abort, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from app.extensions import db
from app.models import Referentiel


class ReferentielView(BaseView):
    route_base = "/referentiel"
    default_view = "consulter"
    class_permission_name = "Referentiel"
    method_permission_name = {"consulter": "read"}

    @expose("/")
    @has_access
    def consulter(self):
        versions = list(db.session.scalars(select(Referentiel).order_by(Referentiel.id.desc())))
        if not versions:
            abort(404)
        choisi = request.args.get("version", type=int)
        ref = next((v for v in versions if v.id == choisi), None) or next(
            (v for v in versions if v.en_vigueur), versions[0])
        return self.render_template("clea/referentiel.html", ref=ref, versions=versions)
