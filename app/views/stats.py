"""The « Stats » tab (guide §7): indicators of the perimeter with filters, charts drawn as SVG
on the server (no external library) each with its table, and the Excel exports (parcours;
invoicing and national registry for Certif Pro). Thin: services.stats holds every rule."""
from __future__ import annotations

import io
import os

from flask import after_this_request, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.extensions import db
from app.security.access import is_national
from app.security.perimeter import actor
from app.services import candidatures as dossiers
from app.services import stats as service
from app.services.errors import ServiceError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _send_temp(path: str, name: str):
    """Send a generated file and delete it once sent; the cookie tells the page it started."""
    @after_this_request
    def _cleanup(response):
        token = request.args.get("jeton", "")
        if token.isalnum() and len(token) <= 32:
            response.set_cookie("clea_export", token, max_age=60, samesite="Lax")
        return response

    handle = open(path, "rb")
    os.unlink(path)  # the open handle keeps the data until it is sent
    return send_file(handle, mimetype=XLSX, as_attachment=True, download_name=name)


class StatsView(BaseView):
    route_base = "/stats"
    default_view = "tableau"
    class_permission_name = "Stats"
    method_permission_name = {"tableau": "read", "export": "read", "facturation": "read",
                              "registre": "read"}

    def _filtres(self):
        try:
            return service.Filtres.depuis(request.args), None
        except ServiceError as error:
            db.session.rollback()
            return service.Filtres(), error.message

    @expose("/")
    @has_access
    def tableau(self):
        filtres, erreur = self._filtres()
        if erreur:
            flash(erreur, "danger")
        ind = service.indicateurs(actor(), filtres)
        return self.render_template(
            "clea/stats/tableau.html", ind=ind, f=filtres, args=request.args,
            choix=service.choix_filtres(actor(), filtres), types_public=dossiers.TYPES_PUBLIC,
            niveaux=dossiers.NIVEAUX, national=is_national(actor()),
            query=request.query_string.decode(),
            paires=lambda rows: [(label, n) for _code, label, n in rows])

    @expose("/export")
    @has_access
    def export(self):
        filtres, erreur = self._filtres()
        if erreur:
            flash(erreur, "danger")
            return redirect(url_for("StatsView.tableau"))
        return _send_temp(service.exporter(actor(), filtres), "parcours-clea.xlsx")

    @expose("/facturation")
    @has_access
    def facturation(self):
        filtres, erreur = self._filtres()
        try:
            if erreur:
                raise ServiceError(erreur)
            content = service.facturation(actor(), filtres)
        except ServiceError as error:
            flash(error.message, "danger")
            return redirect(url_for("StatsView.tableau"))
        return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True,
                         download_name="facturation-clea.xlsx")

    @expose("/registre")
    @has_access
    def registre(self):
        filtres, erreur = self._filtres()
        try:
            if erreur:
                raise ServiceError(erreur)
            path = service.registre(actor(), filtres)
        except ServiceError as error:
            flash(error.message, "danger")
            return redirect(url_for("StatsView.tableau"))
        return _send_temp(path, "registre-titulaires-clea.xlsx")
