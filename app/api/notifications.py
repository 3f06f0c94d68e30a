"""API: notification (list, mark read, bulk mark read) and actualite."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _

from app.models import Actualite
from app.security.perimeter import actor
from app.services import actualites, notifications

from .base import FrenchResponses, ScopedModelRestApi


def _dump(note) -> dict:
    return {"id": note.id, "rubrique": note.rubrique,
            "rubrique_libelle": notifications.rubrique_label(note.rubrique),
            "titre": note.titre, "texte": note.texte, "lien": note.lien,
            "created_on": note.created_on.isoformat(), "lu": note.lu}


class NotificationApi(FrenchResponses, BaseApi):
    resource_name = "notification"
    class_permission_name = "Notification"
    method_permission_name = {"liste": "read", "non_lues": "read", "lire": "update",
                              "lire_une": "update"}
    allow_browser_login = True
    openapi_spec_tag = "Notifications"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def liste(self):
        """Les notifications de l'utilisateur
        ---
        get:
          summary: Lister mes notifications, les plus récentes d'abord
          parameters:
          - {in: query, name: rubrique, schema: {type: string}, description: "une rubrique (certification, habilitation, rattachement…)"}
          - {in: query, name: lu, schema: {type: string, enum: [oui, non]}}
          - {in: query, name: page, schema: {type: integer, minimum: 0, maximum: 100000}}
          responses:
            200:
              description: les notifications de la page (25), et leur nombre total
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
        """
        lu = {"oui": True, "non": False}.get((request.args.get("lu") or "").lower())
        page = notifications.search(actor(), request.args.get("rubrique"), lu,
                                    request.args.get("page"), clamp=False)
        return self.response(200, count=page.total, result=[_dump(n) for n in page.rows])

    @expose("/non-lues", methods=["GET"])
    @protect()
    @safe
    def non_lues(self):
        """Nombre de notifications non lues
        ---
        get:
          summary: Compter mes notifications non lues (la cloche)
          responses:
            200:
              description: le nombre de notifications non lues
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Nombre'
        """
        return self.response(200, count=notifications.unread_count(actor()))

    @expose("/<int:pk>/lire", methods=["POST"])
    @protect()
    @safe
    def lire_une(self, pk):
        """Marquer une notification comme lue
        ---
        post:
          summary: Marquer une de mes notifications comme lue
          responses:
            200:
              description: « Notification marquée comme lue. »
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Message'
        """
        if not notifications.mark_read(actor(), [pk]):
            from app.models import Notification
            from app.extensions import db

            note = db.session.get(Notification, pk)
            if note is None or note.user_id != actor().id:
                return self.response(404, message=_("Introuvable ou hors de votre périmètre."))
        return self.response(200, message=_("Notification marquée comme lue."))

    @expose("/lire", methods=["POST"])
    @protect()
    @safe
    def lire(self):
        """Marquer des notifications comme lues
        ---
        post:
          summary: Marquer plusieurs de mes notifications comme lues (ou toutes)
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    ids:
                      type: array
                      items:
                        type: integer
                    toutes:
                      type: boolean
          responses:
            200:
              description: le nombre de notifications marquées
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Nombre'
        """
        data = request.get_json(silent=True) or {}
        if data.get("toutes"):
            count = notifications.mark_all_read(actor())
        else:
            ids = data.get("ids")
            if not isinstance(ids, list):
                return self.response(400, message=_("Indiquez « ids » (liste) ou « toutes »."))
            count = notifications.mark_read(actor(), ids)
        return self.response(200, count=count)


class ActualiteApi(ScopedModelRestApi):
    resource = "Actualite"
    datamodel = SQLAInterface(Actualite)
    list_columns = ["id", "titre", "texte", "publie_le", "expire_le"]
    show_columns = list_columns
    add_columns = ["titre", "texte", "publie_le", "expire_le"]
    edit_columns = add_columns
    base_order = ("publie_le", "desc")

    def service_create(self, data):
        return actualites.create(data, self.user)

    def service_update(self, item, data):
        return actualites.update(item, data, self.user)

    def service_delete(self, item):
        actualites.delete(item, self.user)
