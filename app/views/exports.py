"""« Mes exports »: the exports the user asked for on the Stats tab, with their progress
(polled by clea.js from the JSON status route) and « Télécharger » once ready. Thin:
services.exports holds every rule (only the owner sees or downloads an export: 404 else)."""
from __future__ import annotations

from flask import jsonify
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.security.perimeter import actor
from app.services import exports as service
from app.telechargement import fichier


class ExportsView(BaseView):
    route_base = "/exports"
    default_view = "liste"
    class_permission_name = "Export"
    method_permission_name = {"liste": "read", "etat": "read", "telecharger": "read"}

    @expose("/")
    @has_access
    def liste(self):
        return self.render_template("clea/exports.html", jobs=service.mes_exports(actor()),
                                    etat=service.etat, libelle=service.libelle,
                                    filtres=service.filtres_texte)

    @expose("/<int:pk>/etat")
    @has_access
    def etat(self, pk):
        return jsonify(service.etat(service.du_demandeur(actor(), pk)))

    @expose("/<int:pk>/fichier")
    @has_access
    def telecharger(self, pk):
        path, name = service.telecharger(actor(), pk)
        return fichier(path, name, service.XLSX)
