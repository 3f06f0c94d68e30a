"""API of certification (DESIGN §9): jury (sessions: create, ouvrir, cloturer, procès-verbal),
certificat (read, PDF), and the candidature's workflow verbs /envoyer, /annuler-envoi,
/completer, /decision (in api/candidatures.py). Same services as the screens."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _

from app import telechargement
from app.models.jury import Certificat, SessionJury
from app.services import audit
from app.services import certification as service
from app.services.errors import RuleError

from .base import ScopedModelRestApi


class JuryApi(ScopedModelRestApi):
    """Sessions de jury of a certificateur."""

    resource = "SessionJury"
    resource_name = "jury"
    datamodel = SQLAInterface(SessionJury)
    list_columns = ["id", "certificateur_id", "date_session", "date_limite", "mode", "lieu",
                    "statut", "close_le"]
    show_columns = list_columns
    add_columns = ["certificateur_id", "date_session", "date_limite", "mode", "lieu"]
    search_columns = ["statut", "certificateur_id", "date_session"]
    include_route_methods = {"get", "get_list", "info", "post", "ouvrir", "cloturer",
                             "proces_verbal"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name,
                              "ouvrir": "update", "cloturer": "update", "proces_verbal": "read"}

    def service_create(self, data):
        """{"certificateur_id", "date_session", "date_limite", "mode", "lieu",
        "membres": [{"nom", "college": "employeurs"|"salaries"}]}"""
        return service.creer_session(data, self.user)

    @expose("/<int:pk>/ouvrir", methods=["POST"])
    @protect()
    @safe
    def ouvrir(self, pk):
        """Open a paritaire session; waiting dossiers are assigned to it.
        ---
        post:
          responses:
            200:
              description: opened
        """
        return self._command(pk, lambda s: (service.ouvrir_session(s, self.user), s)[1])

    @expose("/<int:pk>/cloturer", methods=["POST"])
    @protect()
    @safe
    def cloturer(self, pk):
        """Close the session (every dossier decided); the procès-verbal is generated.
        ---
        post:
          responses:
            200:
              description: closed
        """
        return self._command(pk, lambda s: service.cloturer_session(s, self.user))

    @expose("/<int:pk>/proces-verbal", methods=["GET"])
    @protect()
    @safe
    def proces_verbal(self, pk):
        """The procès-verbal PDF of a closed session.
        ---
        get:
          responses:
            200:
              description: PDF
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
    include_route_methods = {"get", "get_list", "info", "pdf", "signe"}
    method_permission_name = {**ScopedModelRestApi.method_permission_name, "pdf": "read",
                              "signe": "update"}

    @expose("/<int:pk>/pdf", methods=["GET"])
    @protect()
    @safe
    def pdf(self, pk):
        """The certificate PDF (the signed one if the jury uploaded it).
        ---
        get:
          responses:
            200:
              description: PDF
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
        """Upload the signed PDF (multipart field « fichier ») replacing the generated one.
        ---
        post:
          responses:
            200:
              description: stored
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
