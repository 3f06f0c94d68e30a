"""API: GET /api/v1/audit/ — the audit journal (Certif Pro), same filters as the screen as
query parameters (qui, action, type, objet_id, du, au, page), newest first."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_babel import gettext as _

from app.security.perimeter import actor
from app.services import audit as service
from app.services.errors import RuleError, ServiceError

from .base import FrenchResponses


class AuditApi(FrenchResponses, BaseApi):
    resource_name = "audit"
    class_permission_name = "Audit"
    method_permission_name = {"liste": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Journal d'audit"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def liste(self):
        """Le journal d'audit, par pages de 50
        ---
        get:
          summary: Lire le journal d'audit (les plus récentes d'abord, 50 lignes par page)
          parameters:
          - {in: query, name: qui, schema: {type: string}, description: l'auteur (identifiant ou nom)}
          - {in: query, name: action, schema: {type: string}}
          - {in: query, name: type, schema: {type: string}, description: le type d'objet}
          - {in: query, name: objet_id, schema: {type: integer, minimum: 1, maximum: 2147483647}}
          - {in: query, name: du, schema: {type: string, format: date}}
          - {in: query, name: au, schema: {type: string, format: date}}
          - {in: query, name: page, schema: {type: integer, minimum: 0, maximum: 100000}}
          responses:
            200:
              description: les lignes de la page
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count:
                        type: integer
                      page:
                        type: integer
                      page_size:
                        type: integer
                      result:
                        type: array
                        items:
                          type: object
        """
        try:
            filtres = service.Filtres.depuis(request.args)
            page = request.args.get("page")
            if page not in (None, "") and not str(page).isdigit():
                raise RuleError(_("Valeur invalide pour le filtre « %(champ)s ».",
                                  champ="page"), field="page")
            rows = service.page(actor(), filtres, page, clamp=False)
        except ServiceError as error:
            return self._refuse(error)
        return self.response(200, count=rows.total, page=rows.number, page_size=rows.size,
                             result=[service.as_dict(row) for row in rows])
