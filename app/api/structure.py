"""API resources reseau, organisme, etablissement, utilisateur, habilitation (+ actions)."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _

from app.models import Etablissement, Habilitation, Organisme, Reseau, Utilisateur
from app.security import roles as R
from app.services import accounts, habilitations, structure
from app.services.errors import ServiceError

from .base import ScopedModelRestApi, schema_etendu

CONTACT = ["contact_nom", "contact_email", "contact_telephone"]
ADDRESS = ["adresse", "code_postal", "ville"]


class ReseauApi(ScopedModelRestApi):
    resource = "Reseau"
    datamodel = SQLAInterface(Reseau)
    list_columns = ["id", "nom", *CONTACT]
    show_columns = list_columns
    add_columns = ["nom", *CONTACT]
    edit_columns = add_columns

    def service_create(self, data):
        return structure.create_reseau(data, self.user)

    def service_update(self, item, data):
        return structure.update_reseau(item, data, self.user)

    def service_delete(self, item):
        structure.delete_reseau(item, self.user)


class OrganismeApi(ScopedModelRestApi):
    resource = "Organisme"
    datamodel = SQLAInterface(Organisme)
    list_columns = ["id", "raison_sociale", "siren", "nda", "reseau_id", *ADDRESS, *CONTACT,
                    "actif"]
    show_columns = list_columns
    add_columns = list_columns[1:]
    edit_columns = add_columns
    search_columns = ["raison_sociale", "siren", "ville", "actif", "reseau_id"]

    def service_create(self, data):
        return structure.create_organisme(data, self.user)

    def service_update(self, item, data):
        return structure.update_organisme(item, data, self.user)

    def service_delete(self, item):
        structure.delete_organisme(item, self.user)


class EtablissementApi(ScopedModelRestApi):
    resource = "Etablissement"
    datamodel = SQLAInterface(Etablissement)
    list_columns = ["id", "organisme_id", "nom", "siret", "region", *ADDRESS, *CONTACT, "actif"]
    show_columns = list_columns
    add_columns = list_columns[1:]
    edit_columns = add_columns
    search_columns = ["nom", "siret", "ville", "region", "actif", "organisme_id"]

    def service_create(self, data):
        return structure.create_etablissement(data, self.user)

    def service_update(self, item, data):
        return structure.update_etablissement(item, data, self.user)

    def service_delete(self, item):
        structure.delete_etablissement(item, self.user)


class UtilisateurApi(ScopedModelRestApi):
    resource = "Utilisateur"
    datamodel = SQLAInterface(Utilisateur)
    list_columns = ["id", "username", "first_name", "last_name", "email", "telephone", "active",
                    "reseau_id", "organisme_id", "etablissement_id", "certificateur_id"]
    show_columns = list_columns
    add_columns = ["username", "first_name", "last_name", "email", "telephone"]
    edit_columns = add_columns
    search_columns = ["username", "last_name", "email", "active"]
    method_permission_name = {
        **ScopedModelRestApi.method_permission_name,
        "suspendre": "update",
        "activer": "update",
        "reinitialiser": "update",
    }
    include_route_methods = {"get", "get_list", "info", "post", "put", "suspendre", "activer",
                             "reinitialiser"}

    def __init__(self):
        super().__init__()
        # the role, added to each row by pre_get / pre_get_list (one statement for a page),
        # is part of the answer: declared in the schemas the OpenAPI shows
        from marshmallow import fields

        metadata = {"type": "string", "nullable": True,
                    "description": "le rôle du compte (Administrateur réseau, Certif Pro…)"}
        lu = {  # a page's roles come with pre_get_list (one statement), one row's with it
            "list_model_schema": fields.Function(lambda _user: None, metadata=metadata),
            "show_model_schema": fields.Function(
                lambda user: user.role.name if user.role else None, metadata=metadata)}
        for attribute, role in lu.items():
            schema = getattr(self, attribute)
            setattr(self, attribute, schema_etendu(
                type(schema).__name__.replace("Schema", "") + "Lu", schema, role=role))
        # what accounts.create_user / update_user read besides the columns: the role and the
        # one perimeter column its scope needs
        roles = ", ".join(f"{r.code} ({r.name})" for r in R.ROLES)
        ecrits = {"role": fields.String(metadata={"description": (
            "le rôle du compte, par son code ou son nom : " + roles)})}
        for name, what in (("reseau_id", "le réseau (rôles de réseau)"),
                           ("organisme_id", "l'organisme (rôles d'organisme)"),
                           ("etablissement_id", "l'établissement (rôles d'établissement)"),
                           ("certificateur_id", "le certificateur (rôle jury)")):
            ecrits[name] = fields.Integer(allow_none=True, strict=True, metadata={
                "description": what, "minimum": 1, "maximum": 2147483647})
        self.add_model_schema = schema_etendu("UtilisateurCreation", self.add_model_schema,
                                              **ecrits)
        # the login is not changed by the API (accounts.update_user keeps it): not offered
        modifiables = type(self.edit_model_schema)(exclude=("username",))
        self.edit_model_schema = schema_etendu("UtilisateurModification", modifiables,
                                               required=False, **ecrits)
        self.add_columns = list(self.add_model_schema.fields)
        self.edit_columns = list(self.edit_model_schema.fields)

    def pre_get(self, data):
        item = self.datamodel.session.get(Utilisateur, int(data["id"]))
        data["result"]["role"] = item.role.name if item and item.role else None

    def pre_get_list(self, data):
        ids = [row["id"] for row in data["result"]]
        users = {u.id: u for u in self.datamodel.session.query(Utilisateur)
                 .filter(Utilisateur.id.in_(ids))}
        for row in data["result"]:
            role = users[row["id"]].role
            row["role"] = role.name if role else None

    def service_create(self, data):
        return accounts.create_user(data, self.user)

    def service_update(self, item, data):
        return accounts.update_user(item, data, self.user)

    def _action(self, pk, command, message):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        try:
            command(item)
        except ServiceError as error:
            return self._refuse(error)
        return self.response(200, message=message)

    @expose("/<int:pk>/suspendre", methods=["POST"])
    @protect()
    @safe
    def suspendre(self, pk):
        """Suspendre un compte (ses sessions et ses jetons prennent fin)
        ---
        post:
          summary: Suspendre un compte (ses sessions et ses jetons prennent fin)
          responses:
            200:
              description: « Compte suspendu. »
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
        """
        return self._action(pk, lambda u: accounts.set_active(u, False, self.user),
                            _("Compte suspendu."))

    @expose("/<int:pk>/activer", methods=["POST"])
    @protect()
    @safe
    def activer(self, pk):
        """Réactiver un compte suspendu
        ---
        post:
          summary: Réactiver un compte suspendu
          responses:
            200:
              description: « Compte réactivé. »
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
        """
        return self._action(pk, lambda u: accounts.set_active(u, True, self.user),
                            _("Compte réactivé."))

    @expose("/<int:pk>/reinitialiser", methods=["POST"])
    @protect()
    @safe
    def reinitialiser(self, pk):
        """Envoyer à l'utilisateur un e-mail de réinitialisation du mot de passe
        ---
        post:
          summary: Envoyer à l'utilisateur un e-mail de réinitialisation du mot de passe
          responses:
            200:
              description: « E-mail de réinitialisation envoyé. »
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
        """
        return self._action(pk, lambda u: accounts.send_reset_email(u, self.user),
                            _("E-mail de réinitialisation envoyé."))


class HabilitationApi(ScopedModelRestApi):
    resource = "Habilitation"
    datamodel = SQLAInterface(Habilitation)
    list_columns = ["id", "etablissement_id", "portee", "branche_id", "statut", "commentaire",
                    "date_debut", "date_fin", "motif_rejet", "demande_le", "decide_le"]
    show_columns = list_columns
    add_columns = ["etablissement_id", "portee", "branche_id", "commentaire"]
    edit_columns = add_columns
    search_columns = ["statut", "portee", "etablissement_id"]
    include_route_methods = {"get", "get_list", "info", "post", "decision", "decision_en_lot",
                             "renouveler"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name,
                              "decision": "update", "decision_en_lot": "update",
                              "renouveler": "create"}

    def service_create(self, data):
        return habilitations.demander(data, self.user)

    @expose("/<int:pk>/decision", methods=["POST"])
    @protect()
    @safe
    def decision(self, pk):
        """Décider une demande d'habilitation (Certif Pro)
        ---
        post:
          summary: Décider une demande d'habilitation (Certif Pro)
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
                      enum: [validee, rejetee]
                    date_debut:
                      type: string
                      format: date
                      description: début de validité (« validee »)
                    date_fin:
                      type: string
                      format: date
                      description: fin de validité (« validee »)
                    motif:
                      type: string
                      maxLength: 2000
                      description: obligatoire pour « rejetee » (sauf motif type)
                    motif_type:
                      type: integer
                      minimum: 1
                      description: un motif type de rejet d'habilitation, dont le texte sert de motif quand « motif » est vide
                    confirmer_duree:
                      type: boolean
                      description: confirme une durée plus longue que la durée habituelle
          responses:
            200:
              description: l'habilitation décidée
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        data = request.get_json(silent=True) or {}
        return self._command(pk, lambda hab: habilitations.decider(hab, data, self.user))

    @expose("/decision-en-lot", methods=["POST"])
    @protect()
    @safe
    def decision_en_lot(self):
        """Décider plusieurs demandes d'habilitation à la fois (Certif Pro)
        ---
        post:
          summary: Décider plusieurs demandes d'habilitation à la fois (Certif Pro)
          description: >-
            La même décision pour chaque demande, dans une seule transaction : une demande
            refusée (déjà décidée, hors périmètre, d'une CPNE) ne bloque pas les autres ;
            la réponse dit ce qu'il advient de chacune.
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
                      enum: [validee, rejetee]
                    date_debut:
                      type: string
                      format: date
                    date_fin:
                      type: string
                      format: date
                    motif:
                      type: string
                      maxLength: 2000
                    motif_type:
                      type: integer
                      minimum: 1
                    confirmer_duree:
                      type: boolean
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
                            etablissement:
                              type: string
                            decidee:
                              type: boolean
                            message:
                              type: string
        """
        data = request.get_json(silent=True) or {}
        try:
            rapport = habilitations.decider_en_lot(data.get("ids") or [], data, self.user)
        except ServiceError as error:
            return self._refuse(error)
        return self._rapport(rapport, "etablissement")

    @expose("/<int:pk>/renouveler", methods=["POST"])
    @protect()
    @safe
    def renouveler(self, pk):
        """Demander le renouvellement d'une habilitation qui prend fin dans les 90 jours
        ---
        post:
          summary: Demander le renouvellement d'une habilitation qui prend fin dans les 90 jours
          responses:
            200:
              description: la nouvelle demande
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        return self._command(pk, lambda hab: habilitations.renouveler(hab, self.user))
