"""API resources reseau, organisme, etablissement, utilisateur, habilitation (+ actions)."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _

from app.models import Etablissement, Habilitation, Organisme, Reseau, Utilisateur
from app.services import accounts, habilitations, structure
from app.services.errors import ServiceError

from .base import ScopedModelRestApi

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
        """Suspend an account.
        ---
        post:
          responses:
            200:
              description: suspended
        """
        return self._action(pk, lambda u: accounts.set_active(u, False, self.user),
                            _("Compte suspendu."))

    @expose("/<int:pk>/activer", methods=["POST"])
    @protect()
    @safe
    def activer(self, pk):
        """Reactivate an account.
        ---
        post:
          responses:
            200:
              description: reactivated
        """
        return self._action(pk, lambda u: accounts.set_active(u, True, self.user),
                            _("Compte réactivé."))

    @expose("/<int:pk>/reinitialiser", methods=["POST"])
    @protect()
    @safe
    def reinitialiser(self, pk):
        """Send a password reset e-mail.
        ---
        post:
          responses:
            200:
              description: sent
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
    include_route_methods = {"get", "get_list", "info", "post", "decision", "renouveler"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name,
                              "decision": "update", "renouveler": "create"}

    def service_create(self, data):
        return habilitations.demander(data, self.user)

    @expose("/<int:pk>/decision", methods=["POST"])
    @protect()
    @safe
    def decision(self, pk):
        """Decide a pending request: {"decision": "validee", "date_debut", "date_fin"} or
        {"decision": "rejetee", "motif"}.
        ---
        post:
          responses:
            200:
              description: decided
            400:
              description: refused (French message)
            409:
              description: already decided
        """
        data = request.get_json(silent=True) or {}
        return self._command(pk, lambda hab: habilitations.decider(hab, data, self.user))

    @expose("/<int:pk>/renouveler", methods=["POST"])
    @protect()
    @safe
    def renouveler(self, pk):
        """Ask for the renewal of an habilitation ending within 90 days.
        ---
        post:
          responses:
            200:
              description: the new request
        """
        return self._command(pk, lambda hab: habilitations.renouveler(hab, self.user))
