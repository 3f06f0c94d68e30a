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
        """The audit journal, paged (page from 0, 50 rows).
        ---
        get:
          parameters:
          - {in: query, name: qui, schema: {type: string}}
          - {in: query, name: action, schema: {type: string}}
          - {in: query, name: type, schema: {type: string}}
          - {in: query, name: objet_id, schema: {type: integer}}
          - {in: query, name: du, schema: {type: string, format: date}}
          - {in: query, name: au, schema: {type: string, format: date}}
          - {in: query, name: page, schema: {type: integer}}
          responses:
            200:
              description: rows, newest first
            400:
              description: a filter's value is refused (French message)
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
