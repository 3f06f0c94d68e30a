"""The Formations tab (guide §7): find a dossier of the perimeter, open its « Formations CléA »
page, add formations (sub-domains pre-selected from the non-acquired ones) and attestations."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.candidature import Candidature
from app.models.evaluation import Formation
from app.security import perimeter
from app.security.perimeter import actor
from app.services import documents, evaluations, habilitations
from app.services.errors import ServiceError

from .candidatures import _DossiersBase, require_tab
from .evaluations import deposer_fichiers


class FormationsListeView(_DossiersBase):
    route_base = "/formations"
    page_title = _l("Formations")
    lien = "FormationsView.dossier"


class FormationsView(BaseView):
    route_base = "/formations/dossier"
    class_permission_name = "Candidature"
    method_permission_name = {"dossier": "read", "ajouter": "update", "attestation": "update"}

    def _render(self, candidature, form=None, errors=None, status=200):
        formations = list(db.session.scalars(select(Formation).where(
            Formation.candidature_id == candidature.id).order_by(Formation.date_debut)))
        derniere = evaluations.derniere_finalisee(candidature)
        preselection = set(evaluations.sous_domaines_non_acquis(candidature))
        ref = derniere.referentiel if derniere else evaluations.referentiel_en_vigueur()
        return self.render_template(
            "clea/formations/dossier.html", c=candidature, formations=formations,
            referentiel=ref, preselection=preselection, modalites=evaluations.MODALITES,
            form=form or {}, errors=errors or {},
            dossier_ferme=habilitations.refus_dossier(candidature),
            depot_refus=documents.refus_depot(candidature, actor())), status

    @expose("/<int:pk>")
    @has_access
    def dossier(self, pk):
        require_tab()
        return self._render(perimeter.get_or_404(Candidature, pk, actor()))

    @expose("/<int:pk>/ajouter", methods=["POST"])
    @has_access
    def ajouter(self, pk):
        require_tab()
        candidature = perimeter.get_or_404(Candidature, pk, actor())
        data = {k: request.form.get(k, "") for k in ("intitule", "organisme_formateur",
                                                     "formateur", "date_debut", "date_fin",
                                                     "duree_heures", "modalite")}
        data["sous_domaines"] = request.form.getlist("sous_domaines")
        try:
            evaluations.ajouter_formation(candidature, data, actor())
        except ServiceError as error:
            db.session.rollback()
            return self._render(candidature, form=request.form,
                                errors={error.field or "form": error.message}, status=400)
        flash(_("La formation est enregistrée. Joignez maintenant l'attestation."), "success")
        return redirect(url_for("FormationsView.dossier", pk=pk))

    @expose("/attestation/<int:formation_id>", methods=["POST"])
    @has_access
    def attestation(self, formation_id):
        require_tab()
        formation = db.session.get(Formation, formation_id)
        if formation is None:
            return redirect(url_for("FormationsListeView.liste"))
        candidature = perimeter.get_or_404(Candidature, formation.candidature_id, actor())
        deposer_fichiers(candidature, "attestation", formation_id=formation.id)
        return redirect(url_for("FormationsView.dossier", pk=candidature.id))
