"""API: candidature (+ /abandonner, /reintegrer), candidat (read), and the national search.
The same services as the Évaluations tab; closed without a valid habilitation."""
from __future__ import annotations

import copy

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from app import telechargement
from app.models import Etablissement
from app.models.candidature import Candidat, Candidature
from app.models.rattachement import Rattachement
from app.security.perimeter import MAX_ID, actor
from app.services import candidatures as service
from app.services import certification, imports, rattachements
from app.services.errors import ServiceError
from app.services.habilitations import peut_evaluer

from .base import (FrenchResponses, KeysetRestApi, ScopedModelRestApi, schema_etendu,
                   schema_for)


class _TabGate:
    """Every endpoint answers 403 without a valid habilitation (the Évaluations tab)."""

    def _closed(self):
        if not peut_evaluer(actor()):
            return self.response(403, message=_("Les onglets Évaluations et Formations ne sont "
                                                "ouverts qu'aux établissements disposant d'une "
                                                "habilitation CléA valide."))
        return None

    def get_headless(self, pk, **kwargs):
        return self._closed() or super().get_headless(pk, **kwargs)

    def get_list_headless(self, **kwargs):
        return self._closed() or super().get_list_headless(**kwargs)

    def post_headless(self):
        return self._closed() or super().post_headless()

    def put_headless(self, pk):
        return self._closed() or super().put_headless(pk)

    def delete_headless(self, pk):
        return self._closed() or super().delete_headless(pk)

    def _command(self, pk, command):
        return self._closed() or super()._command(pk, command)


def _ecriture_schema(creation: bool):
    """What POST and PUT /candidature/ read, as the services read it (candidatures.creer,
    mise_a_jour): the person's identity and the dossier's fields, by their columns' types,
    with the codes each field takes; on creation, the établissement and the confirmation of
    near-duplicates. Described in the OpenAPI and checked before the service runs."""
    from marshmallow import Schema, fields, validate

    identite = schema_for(Candidat, list(service.IDENTITY_FIELDS)).fields
    dossier = schema_for(Candidature, list(service.DOSSIER_FIELDS)).fields
    declared = copy.deepcopy({**identite, **dossier})
    for name, codes in (("civilite", service.CIVILITES), ("type_public", service.TYPES_PUBLIC),
                        ("statut_inscription", service.STATUTS_INSCRIPTION),
                        ("origine_demarche", service.ORIGINES),
                        ("niveau_formation", service.NIVEAUX)):
        field = declared[name]
        declared[name] = type(field)(allow_none=field.allow_none, validate=validate.OneOf(
            list(codes)), metadata={"description": ", ".join(map(str, codes))})
    for field in declared.values():
        field.required = False
    if creation:
        declared = {"etablissement_id": fields.Integer(
                        required=True, validate=validate.Range(1, MAX_ID),
                        metadata={"description": "l'établissement qui gère le dossier"}),
                    **declared,
                    "confirmer_homonymes": fields.Boolean(metadata={
                        "description": "true : créer malgré des candidats proches (409 sinon)"})}
        for name in ("civilite", "nom_naissance", "prenoms", "date_naissance",
                     "statut_inscription", "objectif_pro", "objectif_extra_pro"):
            declared[name].required = True
    name = "CandidatureCreation" if creation else "CandidatureModification"
    return Schema.from_dict(declared, name=name)()


class CandidatureApi(_TabGate, KeysetRestApi):
    """The list pages by keyset in the Évaluations lists' order (updated_on, id descending),
    on the perimeter's indexes, with a capped count (KeysetRestApi)."""
    resource = "Candidature"
    datamodel = SQLAInterface(Candidature)
    keyset_order = service.ORDRE
    list_columns = ["id", "candidat_id", "etablissement_id", "statut", "type_public",
                    "statut_inscription", "branche_id", "socle_contextualise",
                    "niveau_formation", "origine_demarche", "objectif_pro",
                    "objectif_extra_pro", "certificat_papier", "date_prealable",
                    "motif_abandon", "created_on", "updated_on"]
    show_columns = list_columns
    search_columns = ["statut", "etablissement_id", "created_on"]
    include_route_methods = {"get", "get_list", "info", "post", "put", "delete", "abandonner",
                             "reintegrer", "envoyer", "annuler_envoi", "completer", "decision",
                             "vote", "deplacer", "import_modele", "import_valider", "import_rapport",
                             "import_confirmer"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name,
                              "abandonner": "update", "reintegrer": "update",
                              "envoyer": "update", "annuler_envoi": "update",
                              "completer": "update", "decision": "juger", "vote": "juger",
                              "deplacer": "juger",
                              "import_modele": "create", "import_valider": "create",
                              "import_rapport": "create", "import_confirmer": "create"}

    def __init__(self):
        super().__init__()
        # after FAB's own set-up: the bodies are the services', not the model's columns
        self.add_model_schema = _ecriture_schema(creation=True)
        self.edit_model_schema = _ecriture_schema(creation=False)
        self.add_columns = list(self.add_model_schema.fields)
        self.edit_columns = list(self.edit_model_schema.fields)

    def service_create(self, data):
        data = dict(data)
        confirm = bool(data.pop("confirmer_homonymes", False))
        return service.creer(data, self.user, confirmer_homonymes=confirm)

    def service_update(self, item, data):
        return service.mise_a_jour(item, data, self.user)

    def service_delete(self, item):
        service.supprimer(item, self.user)

    # --- « Importer des candidatures » (services/imports.py) ------------------------------
    def _etablissement(self, value):
        """The établissement an import names: 400 when it names none, 404 outside the
        perimeter."""
        return self._nomme(Etablissement, value, "etablissement_id", _(
            "Indiquez l'établissement : « etablissement_id », l'id d'un établissement de "
            "votre périmètre."))

    @expose("/import/modele", methods=["GET"])
    @protect()
    @safe
    def import_modele(self):
        """Le modèle d'import
        ---
        get:
          summary: Télécharger le modèle d'import (.xlsx) d'un établissement
          description: >-
            Ses colonnes suivent les habilitations de l'établissement (branche délégataire et
            socle contextualisé seulement avec une habilitation de branche) ; la feuille
            « Aide » donne les valeurs permises.
          parameters:
          - {in: query, name: etablissement_id, required: true, schema: {type: integer, minimum: 1, maximum: 2147483647}}
          responses:
            200:
              description: le modèle
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema:
                    type: string
                    format: binary
        """
        closed = self._closed()
        if closed:
            return closed
        try:
            etab = self._etablissement(request.args.get("etablissement_id"))
        except ServiceError as error:
            return self._refuse(error)
        return telechargement.fichier(imports.modele(etab), "modele-import-candidatures.xlsx",
                                      imports.XLSX)

    def _rapport(self, ident, rapport: list[dict], status: int = 200, **extra):
        valides = sum(1 for row in rapport if row["statut"] == "valide")
        return self.response(status, id=ident, lignes=len(rapport), valides=valides,
                             refusees=len(rapport) - valides, rapport=rapport, **extra)

    @expose("/import", methods=["POST"])
    @protect()
    @safe
    def import_valider(self):
        """Importer des candidatures, étape 1 : vérifier le fichier
        ---
        post:
          summary: Importer des candidatures, étape 1 — vérifier chaque ligne du fichier
          description: >-
            Chaque ligne est vérifiée comme une création : champs obligatoires, codes,
            habilitation, doublons dans le fichier et sur la plateforme, homonymes (sauf
            s'ils sont acceptés). Rien n'est créé : la réponse donne le rapport et l'id à
            confirmer dans l'heure (POST /api/v1/candidature/import/{id}/confirmer).
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [fichier, etablissement_id]
                  properties:
                    fichier:
                      type: string
                      format: binary
                      description: le fichier .xlsx ou .csv (10 000 lignes au plus)
                    etablissement_id:
                      type: integer
                      minimum: 1
                      maximum: 2147483647
                    homonymes_acceptes:
                      type: boolean
          responses:
            200:
              description: le rapport, une entrée par ligne du fichier
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/RapportImport'
        """
        closed = self._closed()
        if closed:
            return closed
        fichier = request.files.get("fichier")
        if fichier is None or not fichier.filename:
            return self.response(400, message=_("Joignez le fichier (champ « fichier »)."),
                                 field="fichier")
        try:
            etab = self._etablissement(request.form.get("etablissement_id"))
            ident, rapport = imports.preparer(
                etab, fichier.filename, fichier.read(), self.user,
                request.form.get("homonymes_acceptes", "").lower() in ("1", "true", "oui"))
        except ServiceError as error:
            return self._refuse(error)
        return self._rapport(ident, [imports.ligne_dict(ligne) for ligne in rapport])

    @expose("/import/<ident>", methods=["GET"])
    @protect()
    @safe
    def import_rapport(self, ident):
        """Le rapport d'un import vérifié
        ---
        get:
          summary: Relire le rapport d'un import vérifié et pas encore confirmé
          responses:
            200:
              description: le rapport
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/RapportImport'
        """
        closed = self._closed()
        if closed:
            return closed
        try:
            data = imports.preparation(ident, self.user)
        except NotFound:
            return self.response_404()
        return self._rapport(ident, data["rapport"])

    @expose("/import/<ident>/confirmer", methods=["POST"])
    @protect()
    @safe
    def import_confirmer(self, ident):
        """Importer des candidatures, étape 2 : créer les dossiers vérifiés
        ---
        post:
          summary: Importer des candidatures, étape 2 — créer les dossiers des lignes valides
          description: >-
            Les lignes sont vérifiées de nouveau, puis les valides créées en une fois. Avec
            « tout_ou_rien », une seule ligne refusée et rien n'est créé (400).
          requestBody:
            required: false
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    tout_ou_rien:
                      type: boolean
          responses:
            201:
              description: les dossiers créés, et le rapport
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/RapportImport'
        """
        closed = self._closed()
        if closed:
            return closed
        data = request.get_json(silent=True)
        tout = isinstance(data, dict) and data.get("tout_ou_rien") is True
        try:
            bilan, rapport = imports.confirmer(ident, self.user, tout)
        except NotFound:
            return self.response_404()
        except ServiceError as error:
            return self._refuse(error)
        return self._rapport(ident, [imports.ligne_dict(ligne) for ligne in rapport], 201,
                             crees=len(bilan.crees), ids=bilan.crees)

    @expose("/<int:pk>/abandonner", methods=["POST"])
    @protect()
    @safe
    def abandonner(self, pk):
        """Déclarer l'abandon du dossier (motif obligatoire)
        ---
        post:
          summary: Déclarer l'abandon du dossier (motif obligatoire)
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [motif]
                  properties:
                    motif:
                      type: string
                      enum: [emploi, sante, demenagement, desinteret, injoignable, autre]
                      description: le motif de l'abandon (« autre » demande un texte)
                    texte:
                      type: string
                      maxLength: 500
                      description: précision libre (obligatoire pour « autre »)
          responses:
            200:
              description: le dossier abandonné
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        data = request.get_json(silent=True) or {}
        return self._command(pk, lambda c: service.abandonner(
            c, data.get("motif", ""), data.get("texte", ""), self.user))

    @expose("/<int:pk>/reintegrer", methods=["POST"])
    @protect()
    @safe
    def reintegrer(self, pk):
        """Réintégrer un dossier abandonné dans le statut qu'il avait
        ---
        post:
          summary: Réintégrer un dossier abandonné dans le statut qu'il avait
          responses:
            200:
              description: le dossier réintégré
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        return self._command(pk, lambda c: service.reintegrer(c, self.user))


    @expose("/<int:pk>/envoyer", methods=["POST"])
    @protect()
    @safe
    def envoyer(self, pk):
        """Envoyer en certification un dossier dont l'évaluation finale est validée
        ---
        post:
          summary: Envoyer en certification un dossier dont l'évaluation finale est validée
          responses:
            200:
              description: le dossier en attente de jury (ou en attente de certification s'il est déjà affecté à une session)
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        return self._command(pk, lambda c: certification.envoyer_en_certification(c, self.user))

    @expose("/<int:pk>/annuler-envoi", methods=["POST"])
    @protect()
    @safe
    def annuler_envoi(self, pk):
        """Annuler l'envoi en certification, avant toute décision du jury (Administrateur réseau, Certif Pro)
        ---
        post:
          summary: Annuler l'envoi en certification, avant toute décision du jury (Administrateur réseau, Certif Pro)
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [motif]
                  properties:
                    motif:
                      type: string
                      minLength: 10
                      maxLength: 1000
                      description: pourquoi l'envoi est annulé (l'historique du dossier le montre)
          responses:
            200:
              description: le dossier de nouveau « à envoyer »
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        data = request.get_json(silent=True)
        motif = data.get("motif") if isinstance(data, dict) else None
        return self._command(pk, lambda c: certification.annuler_envoi(
            c, motif if isinstance(motif, str) else "", self.user))

    @expose("/<int:pk>/completer", methods=["POST"])
    @protect()
    @safe
    def completer(self, pk):
        """Répondre à la demande de compléments du jury
        ---
        post:
          summary: Répondre à la demande de compléments du jury
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [reponse]
                  properties:
                    reponse:
                      type: string
                      minLength: 1
                      maxLength: 5000
                      description: la réponse transmise au jury
          responses:
            200:
              description: le dossier complété, de nouveau devant le jury
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        data = request.get_json(silent=True) or {}
        return self._command(pk, lambda c: certification.completer(
            c, data.get("reponse", ""), self.user))

    @expose("/<int:pk>/decision", methods=["POST"])
    @protect()
    @safe
    def decision(self, pk):
        """Enregistrer la décision du jury sur le dossier
        ---
        post:
          summary: Enregistrer la décision du jury sur le dossier
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [decision]
                  properties:
                    decision:
                      type: string
                      enum: [certifiee, non_certifiee, complement]
                    motif:
                      type: string
                      maxLength: 2000
                      description: obligatoire pour « non_certifiee » et « complement »
          responses:
            200:
              description: le dossier décidé (certifié, non certifié ou en attente de compléments)
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        data = request.get_json(silent=True) or {}
        return ScopedModelRestApi._command(self, pk, lambda c: certification.decider(
            c, data.get("decision", ""), data.get("motif", ""), self.user) and c)


    @expose("/<int:pk>/vote", methods=["POST"])
    @protect()
    @safe
    def vote(self, pk):
        """Voter sur le dossier (un membre de la session, à partir de sa date)
        ---
        post:
          summary: Voter sur le dossier (un membre de la session, à partir de sa date)
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [vote]
                  properties:
                    vote:
                      type: string
                      enum: [certifiee, non_certifiee, complement]
                    motif:
                      type: string
                      maxLength: 2000
                      description: obligatoire pour « non_certifiee » et « complement »
          responses:
            200:
              description: le dossier, le vote enregistré
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        data = request.get_json(silent=True) or {}
        return ScopedModelRestApi._command(self, pk, lambda c: certification.voter(
            c, data.get("vote", ""), data.get("motif", ""), self.user) and c)

    @expose("/<int:pk>/deplacer", methods=["POST"])
    @protect()
    @safe
    def deplacer(self, pk):
        """Déplacer le dossier vers une autre session ouverte et à venir du même jury
        ---
        post:
          summary: Déplacer le dossier vers une autre session ouverte et à venir du même jury
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [session_id]
                  properties:
                    session_id:
                      type: integer
                      minimum: 1
                      maximum: 2147483647
                      description: la session de destination
          responses:
            200:
              description: le dossier, dans sa nouvelle session
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        data = request.get_json(silent=True) or {}
        return ScopedModelRestApi._command(self, pk, lambda c: certification.deplacer_dossier(
            c, data.get("session_id"), self.user))


class CandidatApi(_TabGate, ScopedModelRestApi):
    resource = "Candidature"  # same rights as the dossiers
    resource_name = "candidat"
    datamodel = SQLAInterface(Candidat)
    list_columns = ["id", "civilite", "nom_naissance", "nom_usage", "prenoms", "date_naissance",
                    "commune_naissance", "departement_naissance", "pays_naissance", "email",
                    "telephone", "adresse", "code_postal", "ville"]
    show_columns = list_columns
    include_route_methods = {"get", "get_list", "info"}


class RechercheApi(FrenchResponses, BaseApi):
    resource_name = "recherche"
    class_permission_name = "Candidature"
    method_permission_name = {"recherche": "read"}
    allow_browser_login = True

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def recherche(self):
        """Recherche nationale par nom
        ---
        get:
          summary: Rechercher une personne dans toute la plateforme (nom, prénom, naissance)
          description: >-
            Au plus 50 résultats, réduits à l'identité. Un résultat hors de votre périmètre
            n'a pas de « candidature_id » mais un « jeton_rattachement » (opaque, valable
            24 h, pour vous seul) : POST /api/v1/rattachement/ avec ce jeton dans « jeton »
            demande le rattachement de son dossier.
          parameters:
          - in: query
            name: q
            required: true
            schema:
              type: string
              minLength: 2
              maxLength: 200
          responses:
            200:
              description: les personnes trouvées
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count:
                        type: integer
                      result:
                        type: array
                        items:
                          type: object
            400:
              description: recherche trop courte ou trop large
        """
        terme = request.args.get("q", "")
        if len(terme) > 200:  # as the document bounds it
            return self.response(400, message=_("« q » : Au plus %(max)s caractères.", max=200),
                                 field="q")
        try:
            results = service.rechercher(terme, actor())
        except ServiceError as error:
            return self.response(error.status, message=error.message)
        return self.response(200, count=len(results), result=[{
            "nom_naissance": r.candidat.nom_naissance, "nom_usage": r.candidat.nom_usage,
            "prenoms": r.candidat.prenoms,
            "date_naissance": r.candidat.date_naissance.isoformat(),
            "etablissement": r.candidature.etablissement.nom if r.candidature else None,
            "statut": r.candidature.statut if r.candidature else None,
            "candidature_id": r.candidature.id if r.dans_perimetre else None,
            "dans_perimetre": r.dans_perimetre,
            "jeton_rattachement": rattachements.jeton(r.candidature.id, actor())
            if r.candidature and not r.dans_perimetre else None} for r in results])


class RattachementApi(ScopedModelRestApi):
    resource = "Rattachement"
    datamodel = SQLAInterface(Rattachement)
    list_columns = ["id", "candidature_id", "etablissement_origine_id", "etablissement_cible_id",
                    "motif", "motif_texte", "statut", "motif_refus", "demande_le", "decide_le"]
    show_columns = list_columns
    add_columns = ["candidature_id", "etablissement_cible_id", "motif", "motif_texte"]
    edit_columns = add_columns
    include_route_methods = {"get", "get_list", "info", "post", "decision", "decision_en_lot"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name, "decision": "update",
                              "decision_en_lot": "update"}

    def __init__(self):
        super().__init__()
        from marshmallow import fields

        self.add_model_schema = schema_etendu(
            "RattachementDemande", schema_for(Rattachement, self.add_columns), required=False,
            jeton=fields.String(metadata={
                "description": "le « jeton_rattachement » d'un résultat de GET "
                               "/api/v1/recherche/ hors de votre périmètre, à la place de "
                               "candidature_id"}))
        self.add_columns = list(self.add_model_schema.fields)

    def service_create(self, data):
        dossier = rattachements.dossier_demande(data.get("candidature_id"), data.get("jeton"),
                                                self.user)
        return rattachements.demander(dossier.id, {**data, "jeton": None}, self.user)

    @expose("/decision-en-lot", methods=["POST"])
    @protect()
    @safe
    def decision_en_lot(self):
        """Décider plusieurs demandes de rattachement à la fois (Certif Pro)
        ---
        post:
          summary: Décider plusieurs demandes de rattachement à la fois (Certif Pro)
          description: >-
            La même décision pour chaque demande, dans une seule transaction : une demande
            qui ne peut pas la recevoir (déjà traitée, dossier qui a changé) ne bloque pas
            les autres ; la réponse dit ce qu'il advient de chacune.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [ids, decision]
                  properties:
                    ids:
                      type: array
                      minItems: 1
                      maxItems: 200
                      items:
                        type: integer
                        minimum: 1
                    decision:
                      type: string
                      enum: [acceptee, refusee]
                    motif_refus:
                      type: string
                      maxLength: 2000
                    motif_type:
                      type: integer
                      minimum: 1
          responses:
            200:
              description: une ligne par demande
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      decidees:
                        type: integer
                      refusees:
                        type: integer
                      resultats:
                        type: array
                        items:
                          type: object
                          properties:
                            id:
                              type: integer
                            candidat:
                              type: string
                            decidee:
                              type: boolean
                            message:
                              type: string
        """
        data = request.get_json(silent=True) or {}
        if data.get("decision") not in ("acceptee", "refusee"):
            return self.response(400, message=_("Indiquez « decision » : acceptee ou refusee."),
                                 field="decision")
        try:
            rapport = rattachements.decider_en_lot(
                data.get("ids") or [], data["decision"] == "acceptee",
                data.get("motif_refus", ""), self.user, motif_type=data.get("motif_type"))
        except ServiceError as error:
            return self._refuse(error)
        return self._rapport(rapport, "candidat")

    @expose("/<int:pk>/decision", methods=["POST"])
    @protect()
    @safe
    def decision(self, pk):
        """Décider une demande de rattachement (Certif Pro)
        ---
        post:
          summary: Accepter ou refuser une demande de rattachement (Certif Pro)
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [decision]
                  properties:
                    decision:
                      type: string
                      enum: [acceptee, refusee]
                    motif_refus:
                      type: string
                      maxLength: 2000
                      description: obligatoire pour « refusee » (sauf motif type)
                    motif_type:
                      type: integer
                      minimum: 1
                      description: un motif type de refus de rattachement, dont le texte sert de motif quand « motif_refus » est vide
          responses:
            200:
              description: la demande décidée
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        data = request.get_json(silent=True) or {}
        if data.get("decision") not in ("acceptee", "refusee"):
            return self.response(400, message=_("Indiquez « decision » : acceptee ou refusee."))
        try:
            item = rattachements.decider(item, data["decision"] == "acceptee",
                                         data.get("motif_refus", ""), self.user,
                                         motif_type=data.get("motif_type"))
        except ServiceError as error:
            return self._refuse(error)
        return self.response(200, id=item.id, result=self.show_model_schema.dump(item))
