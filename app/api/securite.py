"""POST /api/v1/security/login: FAB's JWT login, plus the second factor. A user with
two-factor login also sends "code" (a code of the application or a recovery code); without it,
or with a wrong one, the answer is 401 in French and no token. A user who must enrol
(CLEA_2FA_REQUIRED) and has not gets no token either."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import safe
from flask_appbuilder.const import (API_SECURITY_ACCESS_TOKEN_KEY, API_SECURITY_PROVIDER_DB,
                                    API_SECURITY_REFRESH_TOKEN_KEY)
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.schemas import login_post
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_jwt_extended import create_access_token, create_refresh_token
from marshmallow import ValidationError

from app.extensions import db
from app.services import audit, deux_facteurs, tentatives
from app.services.errors import ServiceError
from app.views.refusals import french_validation, non_json, refuse_field


class CleaSecurityApi(SecurityApi):
    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        """Login endpoint for the API: returns a JWT (and optionally a refresh token)
        ---
        post:
          summary: Se connecter à l'API et recevoir un jeton (JWT)
          description: >-
            Identifiant et mot de passe ; un compte à double authentification envoie aussi
            « code » : les 6 chiffres de son application d'authentification, ou l'un de ses
            codes de secours (à usage unique). Le jeton d'accès va ensuite dans l'en-tête
            « Authorization: Bearer <jeton> ».
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    username:
                      type: string
                      description: identifiant ou adresse e-mail
                    password:
                      type: string
                    provider:
                      type: string
                      enum:
                      - db
                    refresh:
                      type: boolean
                    code:
                      description: code de la double authentification (application ou code de secours)
                      type: string
          responses:
            200:
              description: connecté ; le jeton d'accès (et de rafraîchissement si demandé)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
                      refresh_token:
                        type: string
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            500:
              $ref: '#/components/responses/500'
        """
        if request.get_data(cache=True).strip() and not request.is_json:
            return non_json()
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        payload = dict(payload)
        code = payload.pop("code", None)
        try:
            login_payload = login_post.load(payload)
        except ValidationError as error:  # the same shape as every other refused body
            details = french_validation(error.messages)
            field = next(iter(details), "")
            reason = details[field][0] if isinstance(details[field], list) else details[field]
            return refuse_field(field, str(reason), details=details)
        if login_payload["provider"] != API_SECURITY_PROVIDER_DB:
            return refuse_field("provider", _("« db » attendu : seule la connexion par mot de "
                                              "passe est possible."))
        user = self.appbuilder.sm.auth_user_db(login_payload["username"],
                                               login_payload["password"])
        if not user:
            return self.response(401, message=tentatives.login_error())
        if deux_facteurs.active(user):
            if not code or not isinstance(code, str):
                return self.response(401, message=_(
                    "Code de vérification requis : ce compte est protégé par la double "
                    "authentification ; ajoutez « code » (code de l'application ou code de "
                    "secours)."))
            if deux_facteurs.trop_d_essais(user):
                return self.response(401, message=deux_facteurs.message_trop_d_essais())
            try:
                deux_facteurs.verifier(user, code, "api")
            except ServiceError as error:
                return self.response(401, message=error.message)
        elif deux_facteurs.enrolement_requis(user):
            return self.response(401, message=_(
                "La double authentification est obligatoire pour votre rôle : activez-la "
                "depuis votre profil sur la plateforme avant d'utiliser l'API."))
        audit.record(user, "connexion", user, "api")
        db.session.commit()
        body = {API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(identity=str(user.id),
                                                                   fresh=True)}
        if login_payload.get("refresh"):
            body[API_SECURITY_REFRESH_TOKEN_KEY] = create_refresh_token(identity=str(user.id))
        return self.response(200, **body)
