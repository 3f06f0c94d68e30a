"""The evaluation grid (custom view): one fold per domaine, Acquis / Non acquis and a comment
per sous-domaine, the running « n / 28 acquis », « Enregistrer et reprendre plus tard »,
the matrice (download, upload), « Finaliser l'évaluation », « Rouvrir »; the documents
download (perimeter-checked). Thin: services.evaluations holds every rule."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from app import telechargement
from app.extensions import db
from app.models.candidature import Candidature
from app.models.evaluation import EN_COURS, Document, Evaluation
from app.models.referentiel import Domaine, Referentiel
from app.security import perimeter
from app.security.perimeter import actor
from app.services import audit, documents, evaluations, habilitations, matrice
from app.services.errors import ServiceError

from .candidatures import require_tab
from .confirmation import confirme, page_de_confirmation


def texte_finalisation() -> str:
    """What « Finaliser l'évaluation » does, asked before it is done (dialog or page)."""
    return _("Les résultats deviennent définitifs : l'évaluation sera « Validé » si les 28 "
             "sous-domaines sont acquis, sinon « Non validé », et le statut du dossier change "
             "en conséquence. Vous ne pourrez plus la modifier : seul un administrateur "
             "organisme (ou un rôle supérieur) peut rouvrir une évaluation finalisée, tant que "
             "le dossier n'est pas envoyé en certification.")


def deposer_fichiers(candidature, nature="piece", evaluation_id=None, formation_id=None):
    """Store every file of the request's « fichier » field, one French message per file.
    The form's hidden « idempotency_key » (generated per display, `cle_formulaire`) makes a
    re-sent form (the answer was lost) store nothing twice: each file's key is the form's
    key and its rank."""
    refus = documents.refus_depot(candidature, actor())
    if refus:
        flash(refus, "danger")
        return
    fichiers = [f for f in request.files.getlist("fichier") if f and f.filename]
    if not fichiers:
        flash(_("Choisissez un fichier à déposer."), "danger")
    cle = request.form.get("idempotency_key", "").strip()
    for rang, fichier in enumerate(fichiers, 1):
        try:
            documents.enregistrer(candidature, fichier.filename, fichier.read(), actor(),
                                  nature=nature, evaluation_id=evaluation_id,
                                  formation_id=formation_id,
                                  cle=f"{cle[:90]}:{rang}" if cle else None)
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
    audit.consigner(actor(), "telecharger_document", document, document.nom_original)
    return telechargement.fichier(documents.chemin(document), document.nom_original,
                                  document.type_mime)


def _evaluation(pk, *options) -> Evaluation:
    return perimeter.get_or_404(Evaluation, pk, actor(), *options)


# What the grid shows, in four statements whatever the référentiel: the evaluation with its
# dossier and candidate, its results, the référentiel's domaines and their sous-domaines.
GRILLE = (joinedload(Evaluation.candidature).joinedload(Candidature.candidat),
          joinedload(Evaluation.referentiel).selectinload(Referentiel.domaines)
          .selectinload(Domaine.sous_domaines),
          selectinload(Evaluation.resultats))


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
        evaluation = _evaluation(pk, *GRILLE)
        return self._render(evaluation)

    def _render(self, evaluation, saisie=None, status=200):
        par_sous_domaine = {r.sous_domaine_id: r for r in evaluation.resultats}
        # What the grid shows: the user's input when it comes back refused, else the saved
        # results; the counters start from it and clea.js keeps them live on each click.
        choix = {}
        for sous_domaine_id, r in par_sous_domaine.items():
            if saisie:
                choix[sous_domaine_id] = saisie.get(f"acquis_{sous_domaine_id}", "")
            else:
                choix[sous_domaine_id] = ("acquis" if r.acquis else
                                          "non_acquis" if r.acquis is False else "")
        domaines = []
        for d in evaluation.referentiel.domaines:
            valeurs = [choix.get(s.id, "") for s in d.sous_domaines if s.id in choix]
            domaines.append({"acquis": valeurs.count("acquis"),
                             "saisis": sum(1 for v in valeurs if v), "total": len(valeurs)})
        acquis = sum(d["acquis"] for d in domaines)
        saisis = sum(d["saisis"] for d in domaines)
        total = sum(d["total"] for d in domaines)
        # The fold to open: the first domain still to fill in (none once finalized).
        ouvert = next((i for i, d in enumerate(domaines) if d["saisis"] < d["total"]), None) \
            if evaluation.statut == EN_COURS else None
        return self.render_template(
            "clea/evaluations/grille.html", e=evaluation, c=evaluation.candidature,
            resultats=par_sous_domaine, acquis=acquis, saisis=saisis, total=total,
            choix=choix, comptes=domaines, ouvert=ouvert, saisie=saisie or {},
            peut_rouvrir=evaluations.peut_rouvrir(actor()),
            rouvrable=evaluations.rouvrable(evaluation),
            dossier_ferme=habilitations.refus_dossier(evaluation.candidature),
            depot_refus=documents.refus_depot(evaluation.candidature, actor()),
            confirmation_finaliser=texte_finalisation()), status

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
            if not confirme():
                flash(_("Vos saisies sont enregistrées."), "success")
            return self.finaliser(pk)
        flash(_("Évaluation enregistrée : vous pourrez la reprendre plus tard."), "success")
        return redirect(url_for("EvaluationView.grille", pk=pk))

    @expose("/<int:pk>/finaliser", methods=["POST"])
    @has_access
    def finaliser(self, pk):
        """Irreversible below Administrateur organisme: asked first (the grid's dialog, or
        this confirmation page without JavaScript; the draft is already saved then)."""
        require_tab()
        evaluation = _evaluation(pk)
        if not confirme():
            refus = evaluations.refus_finalisation(evaluation, actor())
            if refus is not None:  # what is missing, said at once (nothing to confirm)
                flash(refus.message, "danger")
                return redirect(url_for("EvaluationView.grille", pk=pk))
            acquis, _saisis, total = evaluations.compter(evaluation)
            resultat = _("Validé") if acquis == total else _("Non validé")
            return page_de_confirmation(
                self, _("Finaliser l'évaluation ?"), texte_finalisation(),
                url_for("EvaluationView.finaliser", pk=pk), _("Finaliser l'évaluation"),
                url_for("EvaluationView.grille", pk=pk), style="btn-success",
                detail=_("Résultat : %(res)s (%(n)s / %(t)s acquis).", res=resultat,
                         n=acquis, t=total))
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
        name = f"matrice-clea-{evaluation.candidature.candidat.nom_naissance}.xlsx"
        audit.consigner(actor(), "telecharger_matrice", evaluation)
        return telechargement.fichier(matrice.generer(evaluation), documents.safe_name(name),
                                      documents.ALLOWED["xlsx"])

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
