"""The evaluation grid (custom view): one fold per domaine, Acquis / Non acquis and a comment
per sous-domaine, the running « n / 28 acquis », « Enregistrer et reprendre plus tard »,
the matrice (download, upload), « Finaliser l'évaluation », « Rouvrir »; the documents
download (perimeter-checked). Thin: services.evaluations holds every rule."""
from __future__ import annotations

from flask import abort, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.extensions import db
from app.models.candidature import Candidature
from app.models.evaluation import Document, Evaluation
from app.security import perimeter
from app.security.perimeter import actor
from app.services import documents, evaluations, habilitations, matrice
from app.services.errors import ServiceError

from .candidatures import require_tab


def deposer_fichiers(candidature, nature="piece", evaluation_id=None, formation_id=None):
    """Store every file of the request's « fichier » field, one French message per file."""
    refus = documents.refus_depot(candidature, actor())
    if refus:
        flash(refus, "danger")
        return
    fichiers = [f for f in request.files.getlist("fichier") if f and f.filename]
    if not fichiers:
        flash(_("Choisissez un fichier à déposer."), "danger")
    for fichier in fichiers:
        try:
            documents.enregistrer(candidature, fichier.filename, fichier.read(), actor(),
                                  nature=nature, evaluation_id=evaluation_id,
                                  formation_id=formation_id)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            flash(_("Fichier « %(nom)s » déposé.", nom=documents.safe_name(fichier.filename)),
                  "success")


def document_response(pk):
    """A dossier's document as a download, inside the user's perimeter (else 404)."""
    document = perimeter.get_or_404(Document, pk, actor())
    if document.supprime_le is not None:
        abort(404)
    return send_file(documents.chemin(document), as_attachment=True,
                     download_name=document.nom_original, mimetype=document.type_mime)


def _evaluation(pk) -> Evaluation:
    return perimeter.get_or_404(Evaluation, pk, actor())


class EvaluationView(BaseView):
    route_base = "/evaluation"
    class_permission_name = "Candidature"
    method_permission_name = {"ajouter": "update", "grille": "read", "enregistrer": "update",
                              "finaliser": "update", "rouvrir": "update", "matrice": "read",
                              "deposer": "update", "document": "read"}

    @expose("/ajouter/<int:candidature_id>", methods=["POST"])
    @has_access
    def ajouter(self, candidature_id):
        require_tab()
        candidature = perimeter.get_or_404(Candidature, candidature_id, actor())
        try:
            evaluation = evaluations.creer(candidature, actor())
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("CandidatureView.fiche", pk=candidature.id))
        return redirect(url_for("EvaluationView.grille", pk=evaluation.id))

    @expose("/<int:pk>")
    @has_access
    def grille(self, pk):
        require_tab()
        evaluation = _evaluation(pk)
        return self._render(evaluation)

    def _render(self, evaluation, saisie=None, status=200):
        par_sous_domaine = {r.sous_domaine_id: r for r in evaluation.resultats}
        acquis, saisis, total = evaluations.compter(evaluation)
        return self.render_template(
            "clea/evaluations/grille.html", e=evaluation, c=evaluation.candidature,
            resultats=par_sous_domaine, acquis=acquis, saisis=saisis, total=total,
            saisie=saisie or {}, peut_rouvrir=evaluations.peut_rouvrir(actor()),
            rouvrable=evaluations.rouvrable(evaluation),
            dossier_ferme=habilitations.refus_dossier(evaluation.candidature),
            depot_refus=documents.refus_depot(evaluation.candidature, actor())), status

    def _form_data(self, evaluation):
        resultats = {}
        for r in evaluation.resultats:
            key = str(r.sous_domaine_id)
            resultats[key] = {"acquis": {"acquis": True, "non_acquis": False}.get(
                request.form.get(f"acquis_{key}")),
                "commentaire": request.form.get(f"commentaire_{key}", "")}
        return {"version": request.form.get("version"),
                "evaluateur": request.form.get("evaluateur", ""),
                "date_evaluation": request.form.get("date_evaluation", ""),
                "resultats": resultats}

    @expose("/<int:pk>/enregistrer", methods=["POST"])
    @has_access
    def enregistrer(self, pk):
        require_tab()
        evaluation = _evaluation(pk)
        data = self._form_data(evaluation)
        try:
            evaluations.enregistrer(evaluation, data, actor())
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            db.session.expire_all()
            # The user's input stays on screen (a 409 keeps it to copy back).
            return self._render(_evaluation(pk), saisie=request.form, status=error.status)
        if request.form.get("_then") == "finaliser":
            return self.finaliser(pk)
        flash(_("Évaluation enregistrée : vous pourrez la reprendre plus tard."), "success")
        return redirect(url_for("EvaluationView.grille", pk=pk))

    @expose("/<int:pk>/finaliser", methods=["POST"])
    @has_access
    def finaliser(self, pk):
        require_tab()
        evaluation = _evaluation(pk)
        try:
            evaluations.finaliser(evaluation, actor())
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("EvaluationView.grille", pk=pk))
        flash(_("Évaluation finalisée : %(res)s.", res=_("Validé") if evaluation.resultat ==
                "valide" else _("Non validé")), "success")
        return redirect(url_for("CandidatureView.fiche", pk=evaluation.candidature_id))

    @expose("/<int:pk>/rouvrir", methods=["POST"])
    @has_access
    def rouvrir(self, pk):
        require_tab()
        evaluation = _evaluation(pk)
        try:
            evaluations.rouvrir(evaluation, actor())
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("CandidatureView.fiche", pk=evaluation.candidature_id))
        flash(_("L'évaluation est rouverte."), "success")
        return redirect(url_for("EvaluationView.grille", pk=pk))

    @expose("/<int:pk>/matrice")
    @has_access
    def matrice(self, pk):
        evaluation = _evaluation(pk)
        import io

        name = f"matrice-clea-{evaluation.candidature.candidat.nom_naissance}.xlsx"
        return send_file(io.BytesIO(matrice.generer(evaluation)), as_attachment=True,
                         download_name=documents.safe_name(name),
                         mimetype=documents.ALLOWED["xlsx"])

    @expose("/<int:pk>/deposer", methods=["POST"])
    @has_access
    def deposer(self, pk):
        require_tab()
        evaluation = _evaluation(pk)
        nature = "matrice" if request.form.get("nature") == "matrice" else "piece"
        deposer_fichiers(evaluation.candidature, nature, evaluation_id=evaluation.id)
        return redirect(url_for("EvaluationView.grille", pk=pk, _anchor="documents"))

    @expose("/document/<int:pk>")
    @has_access
    def document(self, pk):
        return document_response(pk)
