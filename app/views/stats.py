"""The « Stats » tab (guide §7): indicators of the perimeter with filters, charts drawn as SVG
on the server (no external library) each with its table, and the buttons that ask for the
Excel exports (parcours; invoicing and national registry for Certif Pro), prepared off the
request (services.exports, « Mes exports »). Thin: services.stats holds every rule."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.extensions import db
from app.security.access import is_national
from app.security.perimeter import actor
from app.services import candidatures as dossiers
from app.services import exports
from app.services import stats as service
from app.services.certification import noms_des_jurys
from app.services.errors import ServiceError


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
            regions=service.REGIONS, jurys=noms_des_jurys(),
            query=request.query_string.decode(),
            paires=lambda rows: [(label, n) for _code, label, n in rows])

    def _demander(self, kind):
        """The export buttons: queue the export and show « Mes exports » (the file is
        prepared by the scheduler process, never by this web worker)."""
        filtres, erreur = self._filtres()
        try:
            if erreur:
                raise ServiceError(erreur)
            exports.demander(actor(), kind, filtres)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("StatsView.tableau", **request.args))
        flash(_("Export demandé : il est préparé en arrière-plan ; vous serez notifié dès "
                "qu'il sera prêt."), "info")
        return redirect(url_for("ExportsView.liste"))

    @expose("/export", methods=["POST"])
    @has_access
    def export(self):
        return self._demander("parcours")

    @expose("/facturation", methods=["POST"])
    @has_access
    def facturation(self):
        return self._demander("facturation")

    @expose("/registre", methods=["POST"])
    @has_access
    def registre(self):
        return self._demander("registre")
