"""« Importer des candidatures » (Évaluations tab): the template, the file checked row by row
(the report on the page and as .xlsx), then « Importer » for the valid rows. The rules are
services/imports.py's; this view only carries the file and shows the answers."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.exceptions import NotFound

from app import telechargement
from app.models import Etablissement
from app.security import perimeter
from app.security.perimeter import actor
from app.services import candidatures as dossiers
from app.services import imports
from app.services.errors import ServiceError

from .candidatures import require_tab


class ImportView(BaseView):
    route_base = "/evaluations/import"
    default_view = "formulaire"
    class_permission_name = "Candidature"
    method_permission_name = {"formulaire": "create", "modele": "create", "verifier": "create",
                              "rapport": "create", "confirmer": "create"}

    def _page(self, **context):
        user = actor()
        choisi = request.values.get("etablissement_id")
        return self.render_template(
            "clea/candidatures/import.html", title=_("Importer des candidatures"),
            etabs=dossiers.etablissements_du_filtre(user, choisi), choisi=choisi or "",
            colonnes=imports.COLONNES, limite=imports.LIGNES_MAX, **context)

    @expose("/")
    @has_access
    def formulaire(self):
        require_tab()
        return self._page()

    @expose("/modele")
    @has_access
    def modele(self):
        require_tab()
        etab = perimeter.get_or_404(Etablissement, request.args.get("etablissement_id"),
                                    actor())
        return telechargement.fichier(imports.modele(etab), "modele-import-candidatures.xlsx",
                                      imports.XLSX)

    @expose("/", methods=["POST"])
    @has_access
    def verifier(self):
        require_tab()
        fichier = request.files.get("fichier")
        if fichier is None or not fichier.filename:
            flash(_("Joignez le fichier à importer (.xlsx ou .csv)."), "danger")
            return self._page()
        try:
            etab = perimeter.get_or_404(Etablissement, request.form.get("etablissement_id"),
                                        actor())
            ident, rapport = imports.preparer(etab, fichier.filename, fichier.read(), actor(),
                                              bool(request.form.get("homonymes_acceptes")))
        except NotFound:
            flash(_("Choisissez l'établissement qui gère les dossiers."), "danger")
            return self._page()
        except ServiceError as error:
            flash(error.message, "danger")
            return self._page()
        return self._page(ident=ident, etab=etab, nom=fichier.filename,
                          rapport=[imports.ligne_dict(ligne) for ligne in rapport])

    @expose("/<ident>/rapport")
    @has_access
    def rapport(self, ident):
        require_tab()
        data = imports.preparation(ident, actor())
        return telechargement.fichier(imports.rapport_xlsx(data["rapport"]),
                                      "rapport-import-candidatures.xlsx", imports.XLSX)

    @expose("/<ident>/confirmer", methods=["POST"])
    @has_access
    def confirmer(self, ident):
        require_tab()
        try:
            bilan, _rapport = imports.confirmer(ident, actor(),
                                                bool(request.form.get("tout_ou_rien")))
        except ServiceError as error:
            flash(error.message, "danger")
            return redirect(url_for("ImportView.formulaire"))
        flash(ngettext("%(num)d dossier créé.", "%(num)d dossiers créés.", len(bilan.crees))
              + (" " + ngettext("%(num)d ligne refusée n'a pas été importée.",
                                "%(num)d lignes refusées n'ont pas été importées.",
                                bilan.refusees) if bilan.refusees else ""), "success")
        return redirect(url_for("DossiersView.liste",
                                etablissement=bilan.etablissement_id))
