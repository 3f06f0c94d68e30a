"""API of certification (DESIGN §9): jury (sessions: create, ouvrir, cloturer, procès-verbal),
certificat (read, PDF), and the candidature's workflow verbs /envoyer, /annuler-envoi,
/completer, /decision (in api/candidatures.py). Same services as the screens."""
from __future__ import annotations

from flask import jsonify, request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _

from app import telechargement
from app.extensions import db
from app.models.jury import Certificat, EnvoiCertificat, LotEnvoi, SessionJury
from app.security import perimeter
from app.security.perimeter import actor
from app.services import audit, envois
from app.services import credential as credentials
from app.services import certification as service
from app.services.errors import RuleError, ServiceError
from app.views.refusals import refuse_field

from .base import FrenchResponses, ScopedModelRestApi, schema_etendu


class JuryApi(ScopedModelRestApi):
    """Sessions de jury of a certificateur."""

    resource = "SessionJury"
    resource_name = "jury"
    datamodel = SQLAInterface(SessionJury)
    list_columns = ["id", "certificateur_id", "date_session", "date_limite", "mode", "lieu",
                    "statut", "close_le"]
    show_columns = list_columns
    list_columns = [*list_columns, "annulee_le", "motif_annulation"]
    show_columns = list_columns
    add_columns = ["certificateur_id", "date_session", "date_limite", "mode", "lieu"]
    edit_columns = ["date_session", "date_limite", "mode", "lieu"]
    search_columns = ["statut", "certificateur_id", "date_session"]
    include_route_methods = {"get", "get_list", "info", "post", "put", "ouvrir", "cloturer",
                             "annuler", "membres", "ajouter_membre", "retirer_membre",
                             "proces_verbal"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name,
                              "ouvrir": "update", "cloturer": "update", "annuler": "update",
                              "membres": "read", "ajouter_membre": "update",
                              "retirer_membre": "update", "proces_verbal": "read"}

    def __init__(self):
        super().__init__()
        # the members, read by certification.creer_session with the session's columns
        from marshmallow import Schema, fields, validate

        membre = Schema.from_dict({
            "nom": fields.String(validate=validate.Length(max=200), metadata={
                "description": "le nom d'un membre sans compte (celui du compte sinon)"}),
            "college": fields.String(required=True, validate=validate.OneOf(
                ["employeurs", "salaries"])),
            "user_id": fields.Integer(validate=validate.Range(min=1, max=2 ** 31 - 1),
                                      metadata={"description": "le compte Jury du membre : il "
                                                "vote sur les dossiers de la session"}),
            "president": fields.Boolean(metadata={
                "description": "le président, qui enregistre la décision (un membre avec "
                               "compte)"})}, name="MembreDeJury")
        self.add_model_schema = schema_etendu(
            "SessionJuryCreation", self.add_model_schema, membres=fields.List(
                fields.Nested(membre), metadata={
                    "description": "les membres du jury paritaire et leur collège"}))
        self.add_columns = list(self.add_model_schema.fields)

    def service_create(self, data):
        """{"certificateur_id", "date_session", "date_limite", "mode", "lieu",
        "membres": [{"nom", "college": "employeurs"|"salaries"}]}"""
        return service.creer_session(data, self.user)

    def service_update(self, item, data):
        """{"date_session", "date_limite", "mode", "lieu"}: what is not given stays."""
        return service.modifier_session(item, data, self.user)

    @expose("/<int:pk>/annuler", methods=["POST"])
    @protect()
    @safe
    def annuler(self, pk):
        """Annuler la session, avec un motif (aucune décision prise) : ses dossiers vont à la session suivante du jury
        ---
        post:
          summary: Annuler la session, avec un motif (aucune décision prise) ; ses dossiers vont à la session suivante du jury
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
                      description: pourquoi la session est annulée (les gestionnaires des dossiers le reçoivent)
          responses:
            200:
              description: la session annulée
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        data = request.get_json(silent=True) or {}
        return self._command(pk, lambda s: (service.annuler_session(
            s, data.get("motif", ""), self.user), s)[1])

    def _membres(self, session, status=200):
        return self.response(status, id=session.id, result=[
            {"id": m.id, "nom": m.nom, "college": m.college, "user_id": m.user_id,
             "president": m.president} for m in session.membres])

    @expose("/<int:pk>/membres", methods=["GET"])
    @protect()
    @safe
    def membres(self, pk):
        """Les membres du jury de la session et leur collège
        ---
        get:
          summary: Les membres du jury de la session et leur collège
          responses:
            200:
              description: les membres (id, nom, college)
        """
        session = self.datamodel.get(pk, self._base_filters)
        return self.response_404() if session is None else self._membres(session)

    @expose("/<int:pk>/membres", methods=["POST"])
    @protect()
    @safe
    def ajouter_membre(self, pk):
        """Ajouter un membre au jury (jusqu'à la clôture de la session)
        ---
        post:
          summary: Ajouter un membre au jury (jusqu'à la clôture de la session)
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [college]
                  properties:
                    nom:
                      type: string
                      maxLength: 150
                      description: le nom d'un membre sans compte (celui du compte sinon)
                    college:
                      type: string
                      enum: [employeurs, salaries]
                    user_id:
                      type: integer
                      minimum: 1
                      maximum: 2147483647
                      description: le compte Jury du membre (il vote sur les dossiers)
                    president:
                      type: boolean
                      description: le président, qui enregistre la décision
          responses:
            201:
              description: les membres de la session
        """
        session = self.datamodel.get(pk, self._base_filters)
        if session is None:
            return self.response_404()
        data = request.get_json(silent=True) or {}
        try:
            service.ajouter_membre(session, data.get("nom", ""), data.get("college", ""),
                                   self.user, user_id=data.get("user_id"),
                                   president=bool(data.get("president")))
        except ServiceError as error:
            return self._refuse(error)
        return self._membres(session, 201)

    @expose("/<int:pk>/membres/<int:membre>", methods=["DELETE"])
    @protect()
    @safe
    def retirer_membre(self, pk, membre):
        """Retirer un membre du jury (jusqu'à la clôture ; une session ouverte garde un membre de chaque collège)
        ---
        delete:
          summary: Retirer un membre du jury (jusqu'à la clôture ; une session ouverte garde un membre de chaque collège)
          responses:
            200:
              description: les membres de la session
        """
        session = self.datamodel.get(pk, self._base_filters)
        if session is None:
            return self.response_404()
        try:
            service.retirer_membre(session, membre, self.user)
        except ServiceError as error:
            return self._refuse(error)
        return self._membres(session)

    @expose("/<int:pk>/ouvrir", methods=["POST"])
    @protect()
    @safe
    def ouvrir(self, pk):
        """Ouvrir une session de jury paritaire (les dossiers en attente y sont affectés)
        ---
        post:
          summary: Ouvrir une session de jury paritaire (les dossiers en attente y sont affectés)
          responses:
            200:
              description: la session ouverte
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        return self._command(pk, lambda s: (service.ouvrir_session(s, self.user), s)[1])

    @expose("/<int:pk>/cloturer", methods=["POST"])
    @protect()
    @safe
    def cloturer(self, pk):
        """Clôturer la session (tous ses dossiers décidés) ; le procès-verbal est produit
        ---
        post:
          summary: Clôturer la session (tous ses dossiers décidés) ; le procès-verbal est produit
          responses:
            200:
              description: la session close
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        return self._command(pk, lambda s: service.cloturer_session(s, self.user))

    @expose("/<int:pk>/proces-verbal", methods=["GET"])
    @protect()
    @safe
    def proces_verbal(self, pk):
        """Télécharger le procès-verbal (PDF) d'une session close
        ---
        get:
          summary: Télécharger le procès-verbal (PDF) d'une session close
          responses:
            200:
              description: le procès-verbal
              content:
                application/pdf:
                  schema:
                    type: string
                    format: binary
        """
        session = self.datamodel.get(pk, self._base_filters)
        content = service.proces_verbal(session) if session else None
        if content is None:
            return self.response_404()
        audit.consigner(self.user, "telecharger_proces_verbal", session)
        return telechargement.fichier(content, f"proces-verbal-{session.date_session}.pdf",
                                      "application/pdf", inline=True)


class CertificatApi(ScopedModelRestApi):
    resource = "Certificat"
    datamodel = SQLAInterface(Certificat)
    list_columns = ["id", "numero", "candidature_id", "session_jury_id", "certificateur_id",
                    "date_jury", "signe_le", "created_on"]
    show_columns = list_columns
    search_columns = ["numero", "candidature_id", "date_jury"]
    include_route_methods = {"get", "get_list", "info", "pdf", "credential", "signe"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name, "pdf": "read",
                              "credential": "read", "signe": "update"}

    @expose("/<int:pk>/credential", methods=["GET"])
    @protect()
    @safe
    def credential(self, pk):
        """Le certificat numérique Open Badges 3.0 (JSON-LD signé, preuve eddsa-jcs-2022)
        ---
        get:
          summary: Le certificat numérique Open Badges 3.0 (JSON-LD signé, preuve eddsa-jcs-2022)
          description: La clé publique qui le vérifie est publiée dans le profil de Certif Pro,
            à l'adresse publique /issuer (verificationMethod).
          responses:
            200:
              description: le certificat numérique, signé
              content:
                application/ld+json:
                  schema:
                    type: object
            404:
              description: certificat inconnu ou hors de votre périmètre
        """
        certificat = self.datamodel.get(pk, self._base_filters)
        if certificat is None:
            return self.response_404()
        audit.consigner(self.user, "telecharger_credential", certificat, certificat.numero)
        response = jsonify(credentials.credential(certificat))
        response.mimetype = "application/ld+json"
        return response

    @expose("/<int:pk>/pdf", methods=["GET"])
    @protect()
    @safe
    def pdf(self, pk):
        """Télécharger le certificat (PDF ; celui signé par le jury s'il a été déposé)
        ---
        get:
          summary: Télécharger le certificat (PDF ; celui signé par le jury s'il a été déposé)
          responses:
            200:
              description: le certificat
              content:
                application/pdf:
                  schema:
                    type: string
                    format: binary
        """
        certificat = self.datamodel.get(pk, self._base_filters)
        if certificat is None:
            return self.response_404()
        audit.consigner(self.user, "telecharger_certificat", certificat, certificat.numero)
        return telechargement.fichier(service.certificat_pdf(certificat),
                                      f"{certificat.numero}.pdf", "application/pdf", inline=True)

    @expose("/<int:pk>/signe", methods=["POST"])
    @protect()
    @safe
    def signe(self, pk):
        """Déposer le certificat signé (PDF), qui remplace celui produit
        ---
        post:
          summary: Déposer le certificat signé (PDF), qui remplace celui produit
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [fichier]
                  properties:
                    fichier:
                      type: string
                      format: binary
                      description: le PDF signé
          responses:
            200:
              description: le certificat
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Commande'
        """
        fichier = request.files.get("fichier")

        def command(certificat):
            if fichier is None:
                raise RuleError(_("Joignez le certificat signé (PDF) dans le champ "
                                  "« fichier »."), field="fichier")
            service.deposer_certificat_signe(certificat, fichier.filename, fichier.read(),
                                             self.user)
            return certificat
        return self._command(pk, command)


def _certificat_a_poster(certificat: Certificat) -> dict:
    return {"id": certificat.id, "numero": certificat.numero,
            "candidature_id": certificat.candidature_id,
            "date_jury": certificat.date_jury.isoformat(),
            "adresse": envois.adresse_postale(certificat.candidature)}


def _envoi(envoi: EnvoiCertificat) -> dict:
    return {"id": envoi.id, "lot_id": envoi.lot_id, "certificat_id": envoi.certificat_id,
            "numero": envoi.certificat.numero, "candidature_id": envoi.certificat.candidature_id,
            "date_envoi": envoi.date_envoi.isoformat(), "adresse": envoi.adresse,
            "numero_suivi": envoi.numero_suivi,
            "retour_le": envoi.retour_le.isoformat() if envoi.retour_le else None,
            "retour_motif": envoi.retour_motif, "retour_detail": envoi.retour_detail,
            "renvoi_de_id": envoi.renvoi_de_id, "motif_renvoi": envoi.motif_renvoi,
            "reexpedie_par_id": envoi.renvoi.id if envoi.renvoi is not None else None,
            "etat": envois.etat(envoi)}




class EnvoiApi(FrenchResponses, BaseApi):
    """« Envois de certificats » (Certif Pro): the paper certificates to post, the batches
    posted, and a new batch — the services of the Envois screen."""

    resource_name = "envoi"
    class_permission_name = "EnvoiCertificat"
    method_permission_name = {"a_expedier": "read", "lots": "read", "lot": "read",
                              "enregistrer": "create", "liste": "read", "retour": "update",
                              "reexpedier": "create"}
    allow_browser_login = True
    openapi_spec_tag = "Envois de certificats"
    response_400 = ScopedModelRestApi.response_400
    response_404 = ScopedModelRestApi.response_404

    @expose("/a-expedier", methods=["GET"])
    @protect()
    @safe
    def a_expedier(self):
        """Les certificats papier à poster
        ---
        get:
          summary: Lister les certificats papier demandés et jamais postés (par numéro, 50 par page)
          parameters:
          - {in: query, name: page, schema: {type: integer, minimum: 0, maximum: 100000}}
          responses:
            200:
              description: une page de certificats à poster, avec l'adresse du candidat
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count:
                        type: integer
                      page:
                        type: integer
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            id:
                              type: integer
                            numero:
                              type: string
                            candidature_id:
                              type: integer
                            date_jury:
                              type: string
                              format: date
                            adresse:
                              type: string
        """
        page = envois.page_a_expedier(request.args.get("page"))
        return self.response(200, count=page.total, page=page.number,
                             result=[_certificat_a_poster(c) for c in page.rows])

    @expose("/lots", methods=["GET"])
    @protect()
    @safe
    def lots(self):
        """Les lots postés
        ---
        get:
          summary: Lister les lots d'envoi postés (les plus récents d'abord, 20 par page)
          parameters:
          - {in: query, name: page, schema: {type: integer, minimum: 0, maximum: 100000}}
          responses:
            200:
              description: une page de lots
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count:
                        type: integer
                      page:
                        type: integer
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            id:
                              type: integer
                            date_envoi:
                              type: string
                              format: date
                            certificats:
                              type: integer
                            par:
                              type: string
                              nullable: true
        """
        page = envois.lots(request.args.get("lots", request.args.get("page")))
        return self.response(200, count=page.total, page=page.number, result=[{
            "id": lot.id, "date_envoi": lot.date_envoi.isoformat(), "certificats": nombre,
            "par": lot.par.username if lot.par else None} for lot, nombre in page.rows])

    @expose("/lots/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def lot(self, pk):
        """Un lot et ses certificats
        ---
        get:
          summary: Lire un lot d'envoi et ses certificats (avec l'adresse utilisée)
          responses:
            200:
              description: le lot
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id:
                        type: integer
                      date_envoi:
                        type: string
                        format: date
                      result:
                        type: array
                        items:
                          type: object
        """
        lot = db.session.get(LotEnvoi, perimeter.bounded_id(pk) or 0)
        if lot is None:
            return self.response_404()
        return self.response(200, id=lot.id, date_envoi=lot.date_envoi.isoformat(),
                             result=[_certificat_a_poster(c)
                                     for c in envois.certificats_du_lot(lot.id)])

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def enregistrer(self):
        """Enregistrer un lot posté
        ---
        post:
          summary: Enregistrer l'envoi d'un lot de certificats papier (date et adresses)
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [certificats, date_envoi]
                  properties:
                    certificats:
                      type: array
                      minItems: 1
                      items:
                        type: integer
                        minimum: 1
                        maximum: 2147483647
                      description: les id des certificats postés
                    date_envoi:
                      type: string
                      format: date
                      description: le jour de l'envoi (pas dans le futur)
                    suivis:
                      type: array
                      maxItems: 1000
                      description: le numéro de suivi des lettres qui en ont un
                      items:
                        type: object
                        required: [certificat, numero_suivi]
                        properties:
                          certificat:
                            type: integer
                            minimum: 1
                            maximum: 2147483647
                          numero_suivi:
                            type: string
                            minLength: 1
                            maxLength: 60
          responses:
            201:
              description: le lot enregistré
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id:
                        type: integer
                      message:
                        type: string
        """
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return self.response_400(_("Le corps de la requête doit être un objet JSON."))
        ids = data.get("certificats")
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                for i in ids):
            return refuse_field("certificats", _("Liste d'identifiants de certificats "
                                                 "attendue."))
        suivis = {str(item["certificat"]): item["numero_suivi"]
                  for item in data.get("suivis") or [] if isinstance(item, dict)}
        try:
            lot = envois.enregistrer_envois(ids, data.get("date_envoi"), actor(), suivis=suivis)
        except ServiceError as error:
            return self._refuse(error)
        return self.response(201, id=lot.id, message=_(
            "Envoi enregistré : lot n° %(lot)d du %(date)s.", lot=lot.id,
            date=lot.date_envoi.strftime("%d/%m/%Y")))


    @expose("/", methods=["GET"])
    @protect()
    @safe
    def liste(self):
        """Les lettres postées
        ---
        get:
          summary: Lister les lettres postées, les plus récentes d'abord (50 par page)
          parameters:
          - {in: query, name: page, schema: {type: integer, minimum: 0, maximum: 100000}}
          - {in: query, name: etat, schema: {type: string, enum: [envoye, retour]}, description: « retour » les lettres revenues pas encore réexpédiées}
          - {in: query, name: lot, schema: {type: integer, minimum: 1, maximum: 2147483647}}
          - {in: query, name: certificat, schema: {type: integer, minimum: 1, maximum: 2147483647}}
          responses:
            200:
              description: une page de lettres (adresse utilisée, suivi, retour, réexpédition)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count:
                        type: integer
                      page:
                        type: integer
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            id:
                              type: integer
                            lot_id:
                              type: integer
                            numero:
                              type: string
                            date_envoi:
                              type: string
                              format: date
                            numero_suivi:
                              type: string
                              nullable: true
                            retour_le:
                              type: string
                              format: date
                              nullable: true
                            retour_motif:
                              type: string
                              nullable: true
                            etat:
                              type: string
        """
        try:
            page = envois.lister(request.args, request.args.get("page"))
        except ServiceError as error:
            return self._refuse(error)
        return self.response(200, count=page.total, page=page.number,
                             result=[_envoi(e) for e in page.rows])

    @expose("/<int:pk>/retour", methods=["POST"])
    @protect()
    @safe
    def retour(self, pk):
        """Signaler le retour d'une lettre
        ---
        post:
          summary: Signaler qu'une lettre est revenue (les gestionnaires du dossier sont prévenus)
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
                      enum: [npai, adresse, refuse, non_reclame, autre]
                    detail:
                      type: string
                      maxLength: 2000
                      description: obligatoire pour « autre »
                    date_retour:
                      type: string
                      format: date
                      description: par défaut aujourd'hui
          responses:
            200:
              description: la lettre, avec son retour
              content:
                application/json:
                  schema:
                    type: object
        """
        envoi = db.session.get(EnvoiCertificat, perimeter.bounded_id(pk) or 0)
        if envoi is None:
            return self.response_404()
        try:
            envois.signaler_retour(envoi, request.get_json(silent=True) or {}, actor())
        except ServiceError as error:
            return self._refuse(error)
        return self.response(200, **_envoi(envoi))

    @expose("/<int:pk>/reexpedier", methods=["POST"])
    @protect()
    @safe
    def reexpedier(self, pk):
        """Réexpédier une lettre revenue
        ---
        post:
          summary: Réexpédier une lettre revenue, avec un motif, à l'adresse actuelle du candidat
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
                      minLength: 1
                      maxLength: 2000
                    date_envoi:
                      type: string
                      format: date
                      description: par défaut aujourd'hui
                    numero_suivi:
                      type: string
                      maxLength: 60
          responses:
            201:
              description: la nouvelle lettre
              content:
                application/json:
                  schema:
                    type: object
        """
        envoi = db.session.get(EnvoiCertificat, perimeter.bounded_id(pk) or 0)
        if envoi is None:
            return self.response_404()
        try:
            nouveau = envois.reexpedier(envoi, request.get_json(silent=True) or {}, actor())
        except ServiceError as error:
            return self._refuse(error)
        return self.response(201, **_envoi(nouveau))
