"""API: personal data of a candidat (services/rgpd.py): GET /api/v1/candidat/<id>/export (zip)
and POST /api/v1/candidat/<id>/anonymiser {"motif": ...} (Certif Pro)."""
from __future__ import annotations

import io

from flask import request, send_file
from flask_appbuilder.api import BaseApi, expose, protect, safe
from werkzeug.exceptions import NotFound

from app.security.perimeter import actor
from app.services import rgpd as service
from app.services.errors import ServiceError

from .base import FrenchResponses, ScopedModelRestApi


class DonneesPersonnellesApi(FrenchResponses, BaseApi):
    resource_name = "candidat"
    class_permission_name = service.RESOURCE
    method_permission_name = {"exporter": "read", "anonymiser": "update"}
    allow_browser_login = True
    response_404 = ScopedModelRestApi.response_404

    @expose("/<int:pk>/export", methods=["GET"])
    @protect()
    @safe
    def exporter(self, pk):
        """Toutes les données personnelles de la personne (ses dossiers de votre périmètre)
        ---
        get:
          summary: Exporter les données personnelles d'une personne (droit d'accès)
          description: >-
            Une archive zip : donnees.json, LISEZMOI.txt, les fichiers des documents et le
            certificat.
          responses:
            200:
              description: l'archive des données de la personne
              content:
                application/zip:
                  schema:
                    type: string
                    format: binary
            400:
              description: la personne est anonymisée
        """
        try:
            nom, contenu = service.exporter(service.candidat(pk, actor()), actor())
        except NotFound:
            return self.response_404()
        except ServiceError as error:
            return self._refuse(error)
        return send_file(io.BytesIO(contenu), as_attachment=True, download_name=nom,
                         mimetype="application/zip")

    @expose("/<int:pk>/anonymiser", methods=["POST"])
    @protect()
    @safe
    def anonymiser(self, pk):
        """Anonymiser la personne (Certif Pro), irréversible
        ---
        post:
          summary: Anonymiser une personne (Certif Pro ; irréversible)
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
                      description: la raison, gardée dans le journal d'audit
          responses:
            200:
              description: la personne est anonymisée
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id:
                        type: integer
                      message:
                        type: string
            400:
              description: motif absent, personne déjà anonymisée, ou dossier devant le jury
        """
        data = request.get_json(silent=True)
        motif = data.get("motif") if isinstance(data, dict) else None
        try:
            person = service.candidat(pk, actor())
            service.anonymiser(person, motif if isinstance(motif, str) else "", actor())
        except NotFound:
            return self.response_404()
        except ServiceError as error:
            return self._refuse(error)
        return self.response(200, id=person.id, message=str(service.MESSAGE_ANONYMISE))
