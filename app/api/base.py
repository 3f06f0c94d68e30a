"""REST resources: FAB ModelRestApi limited to the perimeter, with writes through services and
French JSON refusals {"message": ...} (400 rule, 403 role, 404 perimeter, 409 conflict)."""
from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import ModelRestApi
from flask_babel import gettext as _

from app.extensions import db
from app.security.matrix import API_METHOD_PERMISSIONS
from app.security.perimeter import PerimeterFilter, actor
from app.services.errors import ServiceError


def schema_for(model: type, fields: list[str]):
    """A marshmallow schema that includes foreign-key columns (FAB's converter does not)."""
    from marshmallow_sqlalchemy import SQLAlchemyAutoSchema

    meta = type("Meta", (), {"model": model, "include_fk": True, "load_instance": False,
                             "fields": tuple(fields)})
    return type(f"{model.__name__}Schema", (SQLAlchemyAutoSchema,), {"Meta": meta})()


class FrenchResponses:
    """French JSON for FAB's own refusals (missing token, missing permission)."""

    def response_401(self):
        return self.response(401, message=_("Authentification requise."))

    def response_403(self):
        return self.response(403, message=_("Votre rôle ne permet pas cette action."))

    def _refuse(self, error: ServiceError):
        """A service's refusal as French JSON; nothing of the request is kept."""
        db.session.rollback()
        body = {"message": error.message}
        if error.field:
            body["field"] = error.field
        return self.response(error.status, **body)


class ScopedModelRestApi(FrenchResponses, ModelRestApi):
    resource: str = ""
    base_filters = [["id", PerimeterFilter, lambda: None]]
    method_permission_name = API_METHOD_PERMISSIONS
    allow_browser_login = True
    page_size = 25

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.resource:
            cls.class_permission_name = cls.resource
            if "resource_name" not in cls.__dict__:
                cls.resource_name = cls.resource.lower()
        if getattr(cls, "datamodel", None) is not None and "list_columns" in cls.__dict__:
            model = cls.datamodel.obj
            cls.list_model_schema = schema_for(model, cls.list_columns)
            cls.show_model_schema = schema_for(model, cls.show_columns or cls.list_columns)
            # _info describes the add/edit fields from these schemas: without them FAB would
            # list every column of the model (relations included) and fail on `_info` (500).
            cls.add_columns = cls.add_columns or [c for c in cls.list_columns if c != "id"]
            cls.edit_columns = cls.edit_columns or cls.add_columns
            cls.add_model_schema = schema_for(model, cls.add_columns)
            cls.edit_model_schema = schema_for(model, cls.edit_columns)

    # --- French refusals ---------------------------------------------------------------
    def response_400(self, message: str | None = None):
        return self.response(400, message=message or _("Requête invalide."))

    def response_404(self):
        return self.response(404, message=_("Introuvable ou hors de votre périmètre."))

    def response_422(self, message: Any = None):
        return self.response(400, message=_("Données invalides."), details=message)

    def response_500(self, message: str | None = None):
        return self.response(500, message=_("Erreur inattendue."))

    # --- writes go through services ----------------------------------------------------
    def service_create(self, data: dict) -> Any:
        raise ServiceError(_("Création impossible par l'API."))

    def service_update(self, item: Any, data: dict) -> Any:
        raise ServiceError(_("Modification impossible par l'API."))

    def service_delete(self, item: Any) -> None:
        raise ServiceError(_("Suppression impossible par l'API."))

    def _command(self, pk, command):
        """A workflow action on one row of the perimeter: `command(item)` returns the row."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        try:
            item = command(item) or item
        except ServiceError as error:
            return self._refuse(error)
        return self.response(200, id=item.id, result=self.show_model_schema.dump(item))

    def _json(self):
        if not request.is_json or not isinstance(request.json, dict):
            return None
        return request.json

    def post_headless(self):
        data = self._json()
        if data is None:
            return self.response_400(_("Le corps de la requête doit être un objet JSON."))
        try:
            item = self.service_create(data)
        except ServiceError as error:
            return self._refuse(error)
        return self.response(201, id=item.id, result=self.show_model_schema.dump(item))

    def put_headless(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        data = self._json()
        if data is None:
            return self.response_400(_("Le corps de la requête doit être un objet JSON."))
        try:
            item = self.service_update(item, data)
        except ServiceError as error:
            return self._refuse(error)
        return self.response(200, result=self.show_model_schema.dump(item))

    def delete_headless(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        try:
            self.service_delete(item)
        except ServiceError as error:
            return self._refuse(error)
        return self.response(200, message=_("Supprimé."))

    @property
    def user(self):
        return actor()
