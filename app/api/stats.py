"""API: GET /api/v1/stats/ (the indicators as JSON) and GET /api/v1/stats/export (the parcours
export, .xlsx). Same filters as the Stats tab, as query parameters; same services."""
from __future__ import annotations

import os

from flask import request, send_file
from flask_appbuilder.api import BaseApi, expose, protect, safe

from app.security.perimeter import actor
from app.services import stats as service
from app.services.errors import ServiceError

from .base import FrenchResponses


class StatsApi(FrenchResponses, BaseApi):
    resource_name = "stats"
    class_permission_name = "Stats"
    method_permission_name = {"indicateurs": "read", "export": "read"}
    allow_browser_login = True

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def indicateurs(self):
        """Indicators of the perimeter. Query: debut, fin (YYYY-MM-DD), organisme_id,
        etablissement_id, type_public, niveau.
        ---
        get:
          responses:
            200:
              description: indicators
        """
        try:
            filtres = service.Filtres.depuis(request.args)
            return self.response(200, **service.indicateurs(actor(), filtres).as_dict())
        except ServiceError as error:
            return self._refuse(error)

    @expose("/export", methods=["GET"])
    @protect()
    @safe
    def export(self):
        """The parcours export (.xlsx), same filters.
        ---
        get:
          responses:
            200:
              description: xlsx file
        """
        try:
            path = service.exporter(actor(), service.Filtres.depuis(request.args))
        except ServiceError as error:
            return self._refuse(error)
        handle = open(path, "rb")
        os.unlink(path)
        return send_file(handle, as_attachment=True, download_name="parcours-clea.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument."
                         "spreadsheetml.sheet")
