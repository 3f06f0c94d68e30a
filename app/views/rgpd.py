"""Personal data: the public « Données personnelles » page (each processing, its legal basis,
retention and the rights), and the dossier's « Exporter les données du candidat » and
« Anonymiser » (Certif Pro) actions, over services/rgpd.py."""
from __future__ import annotations

import io

from flask import current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.extensions import db
from app.models.candidature import Candidature
from app.security import perimeter
from app.security.perimeter import actor
from app.services import rgpd as service
from app.services.errors import ServiceError

from .confirmation import confirme, page_de_confirmation


def _retour(person, dossier_id) -> str:
    """Back to the dossier the action came from (one of the person's), else their latest."""
    ids = [c.id for c in person.candidatures]
    try:
        dossier_id = int(dossier_id)
    except (TypeError, ValueError):
        dossier_id = None
    if dossier_id not in ids:
        dossier_id = max(ids) if ids else None
    if dossier_id is None or not perimeter.contains(actor(), Candidature, dossier_id):
        return url_for("DossiersView.liste")
    return url_for("CandidatureView.fiche", pk=dossier_id)


class DonneesPersonnellesView(BaseView):
    route_base = "/donnees-personnelles"
    default_view = "page"
    class_permission_name = service.RESOURCE
    method_permission_name = {"exporter": "read", "anonymiser": "update"}

    @expose("/")
    def page(self):
        """Public: what the platform does with personal data, and how to exercise the rights."""
        return self.render_template("clea/donnees_personnelles.html",
                                    durees=service.durees(),
                                    contact=current_app.config["CLEA_DPO_EMAIL"],
                                    title=_("Données personnelles"))

    @expose("/candidat/<int:pk>/export")
    @has_access
    def exporter(self, pk):
        """« Exporter les données du candidat » (a zip), from the dossier page."""
        person = service.candidat(pk, actor())
        try:
            nom, contenu = service.exporter(person, actor())
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(_retour(person, request.args.get("dossier")))
        return send_file(io.BytesIO(contenu), as_attachment=True, download_name=nom,
                         mimetype="application/zip")

    @expose("/candidat/<int:pk>/anonymiser", methods=["POST"])
    @has_access
    def anonymiser(self, pk):
        """« Anonymiser » with its motive (Certif Pro), after the confirmation dialog."""
        person = service.candidat(pk, actor())
        motif = request.form.get("motif", "")
        retour = _retour(person, request.form.get("dossier"))
        if not confirme() and service.refus_motif(motif) is None \
                and service.peut_anonymiser(person, actor()):
            # Without JavaScript: the dialog's question, as a page.
            return page_de_confirmation(
                self, _("Anonymiser ce candidat ?"), service.question(person),
                url_for("DonneesPersonnellesView.anonymiser", pk=person.id),
                _("Anonymiser définitivement"), retour, style="btn-danger",
                champs={"motif": motif, "dossier": request.form.get("dossier", "")})
        try:
            service.anonymiser(person, motif, actor())
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            flash(str(service.MESSAGE_ANONYMISE), "success")
        return redirect(retour)
