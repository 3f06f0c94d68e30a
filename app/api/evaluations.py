"""API: evaluation (+ /finaliser, /rouvrir, PUT saves a draft with its version), formation, and
document (multipart upload, download). Same services and gate as the screens."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from sqlalchemy import and_, select

from app.extensions import db
from app.models.candidature import Candidature
from app.models.evaluation import Document, Evaluation, Formation
from app.security import perimeter
from app import telechargement
from app.services import audit, documents, evaluations, matrice
from app.services.errors import RuleError, ServiceError

from .base import ScopedModelRestApi, schema_etendu
from .candidatures import _TabGate


class _DossierApi(_TabGate, ScopedModelRestApi):
    resource = "Candidature"

    def _candidature(self, data):
        """The dossier a body names: 400 when it names none (missing, not an id), 404 when
        it is outside the perimeter."""
        return self._nomme(Candidature, data.get("candidature_id"), "candidature_id", _(
            "Indiquez le dossier : « candidature_id », l'id d'un dossier de votre périmètre."))


class EvaluationApi(_DossierApi):
    resource_name = "evaluation"
    datamodel = SQLAInterface(Evaluation)
    list_columns = ["id", "candidature_id", "referentiel_id", "type", "statut", "resultat",
                    "evaluateur", "date_evaluation", "version", "finalisee_le"]
    show_columns = list_columns
    add_columns = ["candidature_id"]
    edit_columns = ["evaluateur", "date_evaluation", "version"]
    search_columns = ["candidature_id", "type", "statut", "resultat"]
    include_route_methods = {"get", "get_list", "info", "post", "put", "finaliser", "rouvrir",
                             "resultats", "matrice"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name,
                              "finaliser": "update", "rouvrir": "update", "resultats": "read",
                              "matrice": "read"}

    def __init__(self):
        super().__init__()
        # the grid is written with the PUT, as the screen's « Enregistrer » does
        from marshmallow import Schema, fields, validate

        ligne = Schema.from_dict({
            "acquis": fields.Boolean(allow_none=True, metadata={
                "description": "true acquis, false non acquis, null pas encore évalué"}),
            "commentaire": fields.String(allow_none=True, validate=validate.Length(
                max=evaluations.COMMENTAIRE_MAX))}, name="LigneDeGrille")
        self.edit_model_schema = schema_etendu(
            "EvaluationSaisie", self.edit_model_schema, resultats=fields.Dict(
                keys=fields.String(), values=fields.Nested(ligne), metadata={
                    "description": "les lignes de la grille à changer, par « sous_domaine_id » "
                                   "(GET …/resultats) : {id : {acquis, commentaire}}"}))
        self.edit_columns = list(self.edit_model_schema.fields)

    def service_create(self, data):
        return evaluations.creer(self._candidature(data), self.user)

    def service_update(self, item, data):
        """PUT: {"version", "evaluateur", "date_evaluation", "resultats": {id: {...}}}."""
        return evaluations.enregistrer(item, data, self.user)

    @expose("/<int:pk>/resultats", methods=["GET"])
    @protect()
    @safe
    def resultats(self, pk):
        """Les 28 lignes de la grille d'une évaluation
        ---
        get:
          summary: Lire les résultats d'une évaluation (une ligne par sous-domaine)
          responses:
            200:
              description: les lignes de la grille, par code de sous-domaine
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            sous_domaine_id:
                              type: integer
                            code:
                              type: string
                            acquis:
                              type: boolean
                              nullable: true
                            commentaire:
                              type: string
                              nullable: true
        """
        closed = self._closed()
        if closed:
            return closed
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        return self.response(200, result=[{
            "sous_domaine_id": r.sous_domaine_id, "code": r.sous_domaine.code,
            "acquis": r.acquis, "commentaire": r.commentaire}
            for r in sorted(item.resultats, key=lambda r: r.sous_domaine.code)])

    @expose("/<int:pk>/matrice", methods=["GET"])
    @protect()
    @safe
    def matrice(self, pk):
        """La matrice Excel de l'évaluation
        ---
        get:
          summary: Télécharger la matrice Excel de l'évaluation (comme le bouton de la grille)
          responses:
            200:
              description: la matrice, ses résultats remplis
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema:
                    type: string
                    format: binary
        """
        closed = self._closed()
        if closed:
            return closed
        evaluation = self.datamodel.get(pk, self._base_filters)
        if evaluation is None:
            return self.response_404()
        name = f"matrice-clea-{evaluation.candidature.candidat.nom_naissance}.xlsx"
        audit.consigner(self.user, "telecharger_matrice", evaluation)
        return telechargement.fichier(matrice.generer(evaluation), documents.safe_name(name),
                                      documents.ALLOWED["xlsx"])

    @expose("/<int:pk>/finaliser", methods=["POST"])
    @protect()
    @safe
    def finaliser(self, pk):
        """Finaliser une évaluation (refusé avec la liste de ce qui manque)
        ---
        post:
          summary: Finaliser une évaluation (refusé avec la liste de ce qui manque)
          responses:
            200:
              description: l'évaluation finalisée
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        return self._command(pk, lambda e: evaluations.finaliser(e, self.user))

    @expose("/<int:pk>/rouvrir", methods=["POST"])
    @protect()
    @safe
    def rouvrir(self, pk):
        """Rouvrir une évaluation finalisée (Administrateur organisme et au-dessus, avant l'envoi)
        ---
        post:
          summary: Rouvrir une évaluation finalisée (Administrateur organisme et au-dessus, avant l'envoi)
          responses:
            200:
              description: l'évaluation rouverte
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        return self._command(pk, lambda e: evaluations.rouvrir(e, self.user))


class FormationApi(_DossierApi):
    resource_name = "formation"
    datamodel = SQLAInterface(Formation)
    list_columns = ["id", "candidature_id", "intitule", "organisme_formateur", "formateur",
                    "date_debut", "date_fin", "duree_heures", "modalite"]
    show_columns = list_columns
    add_columns = list_columns[1:]
    edit_columns = add_columns
    search_columns = ["candidature_id", "date_debut", "date_fin", "modalite"]
    include_route_methods = {"get", "get_list", "info", "post"}

    def service_create(self, data):
        return evaluations.ajouter_formation(self._candidature(data), data, self.user)


class DocumentApi(_DossierApi):
    resource_name = "document"
    datamodel = SQLAInterface(Document)
    list_columns = ["id", "candidature_id", "evaluation_id", "formation_id", "nature",
                    "nom_original", "type_mime", "taille", "created_on"]
    show_columns = list_columns
    search_columns = ["candidature_id", "evaluation_id", "formation_id", "nature"]
    include_route_methods = {"get", "get_list", "info", "post", "delete", "fichier"}
    # a deleted document is gone for the API as for the screens (its row stays for the
    # journal): neither read, listed, downloaded nor deleted again
    base_filters = [*ScopedModelRestApi.base_filters, ["supprime_le", FilterEqual, None]]
    # the upload is multipart (the file and its fields), not the JSON FAB would describe
    openapi_spec_methods = {**ScopedModelRestApi.openapi_spec_methods, "post": {"post": {
        "summary": "Déposer un document dans un dossier (pièce, attestation, matrice)",
        "description": "Formulaire multipart : le fichier et ses champs. En-tête facultatif "
                       "Idempotency-Key (8 à 100 caractères) : un nouvel essai avec la même "
                       "clé (réponse perdue) rend le premier document (même id, 201) sans "
                       "rien enregistrer.",
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["fichier", "candidature_id"],
            "properties": {
                "fichier": {"type": "string", "format": "binary",
                            "description": "PDF, image ou tableur ; 4 Mo au plus"},
                "candidature_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                "nature": {"type": "string", "enum": ["piece", "matrice", "attestation"]},
                "evaluation_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                "formation_id": {"type": "integer", "minimum": 1, "maximum": 2147483647}}}}}},
    }}}
    # Removing a document changes its dossier (as on the dossier page): the « update » right.
    method_permission_name = {**ScopedModelRestApi.method_permission_name, "fichier": "read",
                              "delete": "update"}

    def service_delete(self, item):
        documents.supprimer(item, self.user)

    def post_headless(self):
        """Multipart: fichier, candidature_id, nature, evaluation_id | formation_id. Optional
        header Idempotency-Key (8 to 100 characters): a retry with the same key (an answer
        lost) answers the first document (same id, 201) and stores nothing."""
        closed = self._closed()
        if closed:
            return closed
        fichier = request.files.get("fichier")
        if fichier is None or not fichier.filename:
            return self.response(400, message=_("Joignez le fichier (champ « fichier »)."))
        try:
            candidature = self._candidature(request.form)
            liens = {}
            for name in ("evaluation_id", "formation_id"):
                value = request.form.get(name, "")
                if value.strip() and perimeter.bounded_id(value) is None:
                    raise RuleError(_("« %(champ)s » : l'id d'un élément du dossier attendu.",
                                      champ=name), field=name)
                liens[name] = perimeter.bounded_id(value)
            evaluation_id, formation_id = liens["evaluation_id"], liens["formation_id"]
            for model, ident in ((Evaluation, evaluation_id), (Formation, formation_id)):
                if ident and db.session.execute(select(model.id).where(and_(
                        model.id == ident, model.candidature_id == candidature.id))).first() \
                        is None:
                    raise RuleError(_("Cet élément n'appartient pas au dossier."))
            document = documents.enregistrer(candidature, fichier.filename, fichier.read(),
                                             self.user, nature=request.form.get("nature",
                                                                                "piece"),
                                             evaluation_id=evaluation_id,
                                             formation_id=formation_id,
                                             cle=request.headers.get("Idempotency-Key"))
        except ServiceError as error:
            return self._refuse(error)
        return self.response(201, id=document.id, result=self.show_model_schema.dump(document))

    @expose("/<int:pk>/fichier", methods=["GET"])
    @protect()
    @safe
    def fichier(self, pk):
        """Télécharger le fichier d'un document
        ---
        get:
          summary: Télécharger le fichier d'un document
          responses:
            200:
              description: le fichier, dans son type d'origine
              content:
                application/octet-stream:
                  schema:
                    type: string
                    format: binary
        """
        closed = self._closed()
        if closed:
            return closed
        item = self.datamodel.get(pk, self._base_filters)
        if item is None or item.supprime_le is not None:
            return self.response_404()
        audit.consigner(self.user, "telecharger_document", item, item.nom_original)
        return telechargement.fichier(documents.chemin(item), item.nom_original,
                                      item.type_mime)
