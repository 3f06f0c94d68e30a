"""« Journal d'audit » (Certif Pro): the journal with its filters (who, action, record,
period), paged, and the CSV export of the filtered rows (itself journaled). Thin:
services.audit holds every rule."""
from __future__ import annotations

from flask import Response, request, stream_with_context
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.extensions import db
from app.security.perimeter import actor
from app.services import audit as service
from app.services.errors import ServiceError


class AuditView(BaseView):
    route_base = "/audit"
    default_view = "liste"
    class_permission_name = "Audit"
    method_permission_name = {"liste": "read", "export": "read"}

    def _filtres(self):
        try:
            return service.Filtres.depuis(request.args), None
        except ServiceError as error:
            db.session.rollback()
            return None, error.message

    def _page(self, filtres, erreur):
        rows = service.page(actor(), filtres, request.args.get("page")) if filtres else None
        return self.render_template(
            "clea/audit.html", rows=rows, f=filtres or service.Filtres(), args=request.args,
            erreur=erreur, actions=service.KNOWN_ACTIONS, types=service.KNOWN_TYPES,
            action_label=service.action_label, type_label=service.type_label,
            changements=service.changements), (400 if erreur else 200)

    @expose("/")
    @has_access
    def liste(self):
        return self._page(*self._filtres())

    @expose("/export")
    @has_access
    def export(self):
        filtres, erreur = self._filtres()
        if erreur:
            return self._page(None, erreur)
        lines = service.exporter_csv(actor(), filtres)
        return Response(stream_with_context(lines), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 'attachment; filename="journal-audit-clea.csv"'})
