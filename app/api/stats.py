"""API: GET /api/v1/stats/ (the indicators as JSON); POST /api/v1/stats/export asks for an
export (202: the job's id and status URL), GET /api/v1/stats/export/<id> its status, GET
/api/v1/stats/export/<id>/fichier the .xlsx once ready. Same filters as the Stats tab; same
services."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from werkzeug.exceptions import NotFound

from app.security.perimeter import actor
from app.services import exports
from app.services import stats as service
from app.telechargement import fichier
from app.services.errors import ServiceError

from .base import FrenchResponses, ScopedModelRestApi


class StatsApi(FrenchResponses, BaseApi):
    resource_name = "stats"
    class_permission_name = "Stats"
    method_permission_name = {"indicateurs": "read", "export": "read", "export_etat": "read",
                              "export_fichier": "read"}
    allow_browser_login = True
    response_404 = ScopedModelRestApi.response_404

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

    @expose("/export", methods=["POST"])
    @protect()
    @safe
    def export(self):
        """Ask for an export, prepared off the request: 202 with the job's id and where to
        follow it. Query or JSON body: type (parcours, facturation, registre; parcours by
        default) and the filters of GET /stats/.
        ---
        post:
          responses:
            202:
              description: the export is queued
        """
        values = {**request.args.to_dict(), **(request.get_json(silent=True) or {})}
        try:
            job = exports.demander(actor(), values.get("type") or "parcours",
                                   service.Filtres.depuis(values))
        except ServiceError as error:
            return self._refuse(error)
        return self.response(202, id=job.id, statut=job.statut,
                             statut_url=f"/api/v1/stats/export/{job.id}",
                             fichier_url=f"/api/v1/stats/export/{job.id}/fichier")

    @expose("/export/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def export_etat(self, pk):
        """Where an export of the caller stands (404 for another user's).
        ---
        get:
          responses:
            200:
              description: status, rows done and total, whether the file is ready
        """
        try:
            return self.response(200, **exports.etat(exports.du_demandeur(actor(), pk)))
        except NotFound:
            return self.response_404()

    @expose("/export/<int:pk>/fichier", methods=["GET"])
    @protect()
    @safe
    def export_fichier(self, pk):
        """The file of a ready export of the caller (.xlsx; 404 before, or for another user).
        ---
        get:
          responses:
            200:
              description: xlsx file
        """
        try:
            path, name = exports.telecharger(actor(), pk)
        except NotFound:
            return self.response_404()
        return fichier(path, name, exports.XLSX)
