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
        """Les indicateurs du périmètre
        ---
        get:
          summary: Lire les indicateurs des Stats de mon périmètre (filtres de la page Stats)
          parameters:
          - {in: query, name: debut, schema: {type: string, format: date}, description: créés à partir du}
          - {in: query, name: fin, schema: {type: string, format: date}, description: créés jusqu'au}
          - {in: query, name: organisme_id, schema: {type: integer, minimum: 1, maximum: 2147483647}}
          - {in: query, name: etablissement_id, schema: {type: integer, minimum: 1, maximum: 2147483647}}
          - {in: query, name: type_public, schema: {type: string}}
          - {in: query, name: niveau, schema: {type: string}}
          responses:
            200:
              description: les indicateurs
              content:
                application/json:
                  schema:
                    type: object
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
        """Demander un export, préparé hors de la requête
        ---
        post:
          summary: Demander un export Excel (parcours, facturation ou registre), préparé en arrière-plan
          description: >-
            Réponse 202 avec l'identifiant de l'export et les adresses où suivre sa
            préparation puis télécharger le fichier. Les filtres sont ceux de GET /stats/,
            dans la requête ou dans le corps JSON.
          parameters:
          - {in: query, name: type, schema: {type: string, enum: [parcours, facturation, registre]}}
          - {in: query, name: debut, schema: {type: string, format: date}, description: créés à partir du}
          - {in: query, name: fin, schema: {type: string, format: date}, description: créés jusqu'au}
          - {in: query, name: organisme_id, schema: {type: integer, minimum: 1, maximum: 2147483647}}
          - {in: query, name: etablissement_id, schema: {type: integer, minimum: 1, maximum: 2147483647}}
          - {in: query, name: type_public, schema: {type: string}}
          - {in: query, name: niveau, schema: {type: string}}
          requestBody:
            required: false
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    type:
                      type: string
                      enum: [parcours, facturation, registre]
          responses:
            202:
              description: l'export est en attente de préparation
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id:
                        type: integer
                      statut:
                        type: string
                      statut_url:
                        type: string
                      fichier_url:
                        type: string
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
        """Où en est un de mes exports
        ---
        get:
          summary: Suivre la préparation d'un de mes exports
          responses:
            200:
              description: statut, lignes faites et total, fichier prêt ou non
              content:
                application/json:
                  schema:
                    type: object
        """
        try:
            return self.response(200, **exports.etat(exports.du_demandeur(actor(), pk)))
        except NotFound:
            return self.response_404()

    @expose("/export/<int:pk>/fichier", methods=["GET"])
    @protect()
    @safe
    def export_fichier(self, pk):
        """Le fichier d'un de mes exports prêts
        ---
        get:
          summary: Télécharger le fichier (.xlsx) d'un de mes exports prêts
          responses:
            200:
              description: le classeur Excel
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema:
                    type: string
                    format: binary
        """
        try:
            path, name = exports.telecharger(actor(), pk)
        except NotFound:
            return self.response_404()
        return fichier(path, name, exports.XLSX)
