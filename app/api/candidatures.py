"""API: candidature (+ /abandonner, /reintegrer), candidat (read), and the national search.
The same services as the Évaluations tab; closed without a valid habilitation."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _

from app.models.candidature import Candidat, Candidature
from app.models.rattachement import Rattachement
from app.security.perimeter import actor
from app.services import candidatures as service
from app.services import certification, rattachements
from app.services.errors import ServiceError
from app.services.habilitations import peut_evaluer

from .base import FrenchResponses, KeysetRestApi, ScopedModelRestApi


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
    add_columns = list_columns[1:]
    edit_columns = add_columns
    search_columns = ["statut", "etablissement_id", "created_on"]
    include_route_methods = {"get", "get_list", "info", "post", "delete", "abandonner",
                             "reintegrer", "envoyer", "annuler_envoi", "completer", "decision"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name,
                              "abandonner": "update", "reintegrer": "update",
                              "envoyer": "update", "annuler_envoi": "update",
                              "completer": "update", "decision": "juger"}

    def service_create(self, data):
        data = dict(data)
        confirm = bool(data.pop("confirmer_homonymes", False))
        return service.creer(data, self.user, confirmer_homonymes=confirm)

    def service_delete(self, item):
        service.supprimer(item, self.user)

    @expose("/<int:pk>/abandonner", methods=["POST"])
    @protect()
    @safe
    def abandonner(self, pk):
        """Declare the abandonment: {"motif": code, "texte": "..."}.
        ---
        post:
          responses:
            200:
              description: abandoned
        """
        data = request.get_json(silent=True) or {}
        return self._command(pk, lambda c: service.abandonner(
            c, data.get("motif", ""), data.get("texte", ""), self.user))

    @expose("/<int:pk>/reintegrer", methods=["POST"])
    @protect()
    @safe
    def reintegrer(self, pk):
        """Return an abandoned dossier to the status it had.
        ---
        post:
          responses:
            200:
              description: reinstated
        """
        return self._command(pk, lambda c: service.reintegrer(c, self.user))


    @expose("/<int:pk>/envoyer", methods=["POST"])
    @protect()
    @safe
    def envoyer(self, pk):
        """« Envoyer en certification » a dossier whose evaluation is validated.
        ---
        post:
          responses:
            200:
              description: sent (attente_jury, or attente_certification when assigned)
        """
        return self._command(pk, lambda c: certification.envoyer_en_certification(c, self.user))

    @expose("/<int:pk>/annuler-envoi", methods=["POST"])
    @protect()
    @safe
    def annuler_envoi(self, pk):
        """Cancel a send (Administrateur réseau and Certif Pro), before a decision, with its
        motive: {"motif": "..."} (10 characters at least; shown in the dossier's history).
        ---
        post:
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
                      description: why the send is cancelled (the dossier's history shows it)
          responses:
            200:
              description: back to a_envoyer
            400:
              description: no motive, or the jury has already decided
            403:
              description: below Administrateur réseau
        """
        data = request.get_json(silent=True)
        motif = data.get("motif") if isinstance(data, dict) else None
        return self._command(pk, lambda c: certification.annuler_envoi(
            c, motif if isinstance(motif, str) else "", self.user))

    @expose("/<int:pk>/completer", methods=["POST"])
    @protect()
    @safe
    def completer(self, pk):
        """Answer the jury's complement request: {"reponse": "..."}.
        ---
        post:
          responses:
            200:
              description: completee, back before the jury
        """
        data = request.get_json(silent=True) or {}
        return self._command(pk, lambda c: certification.completer(
            c, data.get("reponse", ""), self.user))

    @expose("/<int:pk>/decision", methods=["POST"])
    @protect()
    @safe
    def decision(self, pk):
        """A jury's decision: {"decision": "certifiee"|"non_certifiee"|"complement",
        "motif": "..."} (motif required unless certifiee).
        ---
        post:
          responses:
            200:
              description: decided
        """
        data = request.get_json(silent=True) or {}
        return ScopedModelRestApi._command(self, pk, lambda c: certification.decider(
            c, data.get("decision", ""), data.get("motif", ""), self.user) and c)


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
        """National search by name: ?q=… (minimal identity fields).
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}, required: true}
          responses:
            200:
              description: hits (at most 50)
            400:
              description: too broad or too short
        """
        try:
            results = service.rechercher(request.args.get("q", ""), actor())
        except ServiceError as error:
            return self.response(error.status, message=error.message)
        return self.response(200, count=len(results), result=[{
            "nom_naissance": r.candidat.nom_naissance, "nom_usage": r.candidat.nom_usage,
            "prenoms": r.candidat.prenoms,
            "date_naissance": r.candidat.date_naissance.isoformat(),
            "etablissement": r.candidature.etablissement.nom if r.candidature else None,
            "statut": r.candidature.statut if r.candidature else None,
            "candidature_id": r.candidature.id if r.dans_perimetre else None,
            "dans_perimetre": r.dans_perimetre} for r in results])


class RattachementApi(ScopedModelRestApi):
    resource = "Rattachement"
    datamodel = SQLAInterface(Rattachement)
    list_columns = ["id", "candidature_id", "etablissement_origine_id", "etablissement_cible_id",
                    "motif", "motif_texte", "statut", "motif_refus", "demande_le", "decide_le"]
    show_columns = list_columns
    add_columns = ["candidature_id", "etablissement_cible_id", "motif", "motif_texte"]
    edit_columns = add_columns
    include_route_methods = {"get", "get_list", "info", "post", "decision"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name, "decision": "update"}

    def service_create(self, data):
        return rattachements.demander(data.get("candidature_id"), data, self.user)

    @expose("/<int:pk>/decision", methods=["POST"])
    @protect()
    @safe
    def decision(self, pk):
        """Certif Pro accepts ({"decision": "acceptee"}) or refuses ({"decision": "refusee",
        "motif_refus": "..."}) a request.
        ---
        post:
          responses:
            200:
              description: decided
        """
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        data = request.get_json(silent=True) or {}
        if data.get("decision") not in ("acceptee", "refusee"):
            return self.response(400, message=_("Indiquez « decision » : acceptee ou refusee."))
        try:
            item = rattachements.decider(item, data["decision"] == "acceptee",
                                         data.get("motif_refus", ""), self.user)
        except ServiceError as error:
            return self._refuse(error)
        return self.response(200, id=item.id, result=self.show_model_schema.dump(item))
