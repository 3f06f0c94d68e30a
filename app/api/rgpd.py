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
        """Every personal data of the person (their dossiers inside your perimeter): a zip
        with donnees.json, LISEZMOI.txt, the documents' files and the certificate.
        ---
        get:
          responses:
            200:
              description: application/zip
            400:
              description: the person is anonymised
            404:
              description: outside your perimeter
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
        """Anonymise the person (Certif Pro): {"motif": "..."} (10 characters at least, kept
        in the audit journal). Irreversible.
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
          responses:
            200:
              description: anonymised
            400:
              description: no motive, already anonymised, or a dossier before the jury
            403:
              description: not Certif Pro
            404:
              description: unknown id
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
