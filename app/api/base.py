"""REST resources: FAB ModelRestApi limited to the perimeter, with writes through services and
French JSON refusals {"message": ...} (400 rule, 403 role, 404 perimeter, 409 conflict)."""
from __future__ import annotations

import copy
import sys

import flask_appbuilder.api as fab_api
import jsonschema
from typing import Any

from flask import current_app, request
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.const import API_RESULT_RES_KEY, API_SELECT_COLUMNS_RIS_KEY
from flask_appbuilder.exceptions import FABException, InvalidColumnArgsFABException
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import INCLUDE, ValidationError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.api.labels import LIBELLES
from app.security.matrix import API_METHOD_PERMISSIONS
from app.security.perimeter import MAX_ID, PerimeterFilter, actor
from app.services import pages
from app.services.errors import ServiceError
from app.views.refusals import french_validation, refusal, refusal_message, refuse_field


class _RisonSchemas:
    """What FAB's @rison decorator calls as `jsonschema`: jsonschema.validate checks the schema
    itself against its meta-schema on every call, which was 40 % of an API list's time. The
    schemas are FAB's constants: each is checked once, and its validator kept."""
    ValidationError = jsonschema.ValidationError
    _validators: dict = {}

    @classmethod
    def validate(cls, instance, schema) -> None:
        kept = cls._validators.get(id(schema))
        if kept is None or kept[0] is not schema:
            validator_class = jsonschema.validators.validator_for(schema)
            validator_class.check_schema(schema)
            kept = cls._validators[id(schema)] = (schema, validator_class(schema))
        error = jsonschema.exceptions.best_match(kept[1].iter_errors(instance))
        if error is not None:
            raise error


fab_api.jsonschema = _RisonSchemas


def schema_for(model: type, fields: list[str]):
    """A marshmallow schema that includes foreign-key columns (FAB's converter does not)."""
    from marshmallow_sqlalchemy import SQLAlchemyAutoSchema

    from marshmallow import fields as mfields
    from sqlalchemy import Numeric

    meta = type("Meta", (), {"model": model, "include_fk": True, "load_instance": False,
                             "fields": tuple(fields)})
    # a Numeric column (hours) is a JSON number, as the document says, not Decimal's text
    nombres = {column.key: mfields.Float(allow_none=column.nullable)
               for column in model.__table__.columns
               if column.key in fields and isinstance(column.type, Numeric)}
    return type(f"{model.__name__}Schema", (SQLAlchemyAutoSchema,), {"Meta": meta,
                                                                     **nombres})()


def schema_etendu(name: str, *schemas, required: bool | None = None, **extra):
    """A schema of copies of these schemas' fields (theirs untouched), `required` forced on
    all of them when given, plus the `extra` fields: what an operation reads or answers
    beyond a model's columns."""
    from marshmallow import Schema

    declared = copy.deepcopy({key: field for schema in schemas
                              for key, field in schema.fields.items()})
    if required is not None:
        for field in declared.values():
            field.required = required
    return Schema.from_dict({**declared, **extra}, name=name)()


class FrenchResponses:
    """French JSON for FAB's own refusals (missing token, missing permission)."""

    def response_401(self):
        return self.response(401, message=_("Authentification requise."))

    def response_403(self):
        return self.response(403, message=_("Votre rôle ne permet pas cette action."))

    def _rapport(self, rapport, cle: str):
        """A bulk decision's answer (services/lots): counts and one line per request, what
        it is about under `cle` (« etablissement », « candidat »)."""
        return self.response(200, decidees=sum(r.decidee for r in rapport),
                             refusees=sum(not r.decidee for r in rapport),
                             resultats=[{"id": r.id, cle: r.nom, "decidee": r.decidee,
                                         "message": r.message} for r in rapport])

    def _refuse(self, error: ServiceError):
        """A service's refusal as French JSON; nothing of the request is kept."""
        db.session.rollback()
        body = {"message": error.message}
        if error.field:
            body["field"] = error.field
        return self.response(error.status, **body)


_CHAMP_INFO = {"type": "object", "properties": {
    "name": {"type": "string"}, "label": {"type": "string"},
    "description": {"type": "string"}, "type": {"type": "string"},
    "required": {"type": "boolean"}, "unique": {"type": "boolean"},
    "validate": {"type": "array", "items": {"type": "string"}},
    "count": {"type": "integer"}, "values": {"type": "array", "items": {"type": "object"}}}}

# What `_info` answers (FAB's own description says that add_columns and edit_columns are
# objects; they are lists, one entry per field)
INFO_SPEC = {"get": {
    "summary": "Décrire la ressource : champs de création et de modification, filtres, droits",
    "parameters": [{"in": "query", "name": "q", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/get_info_schema"}}}}],
    "responses": {"200": {"description": "Les champs, les filtres et vos droits", "content": {
        "application/json": {"schema": {"type": "object", "properties": {
            "add_columns": {"type": "array", "items": _CHAMP_INFO},
            "edit_columns": {"type": "array", "items": _CHAMP_INFO},
            "add_title": {"type": "string"}, "edit_title": {"type": "string"},
            "filters": {"type": "object", "additionalProperties": {"type": "array", "items": {
                "type": "object", "properties": {"name": {"type": "string"},
                                                 "operator": {"type": "string"}}}}},
            "permissions": {"type": "array", "items": {"type": "string"}}}}}}}}}}


class FiltreRefuse(FABException):
    """A filter of `q` whose value does not suit its column: its French reason."""


def _valeur_de_filtre(column, col: Any, opr: Any, value: Any) -> str | None:
    """Why a filter's value does not suit its column (None when it does)."""
    from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, String, Text

    values = value if isinstance(value, list) and str(opr) in ("in", "not_in") else [value]
    kind = column.type
    for one in values:
        if isinstance(kind, Integer) and not isinstance(kind, Boolean):
            try:
                number = int(one) if not isinstance(one, (bool, float, list, dict)) else None
            except (TypeError, ValueError):
                number = None
            if number is None or not -MAX_ID - 1 <= number <= MAX_ID:
                return _("Filtre refusé : « %(colonne)s » attend un nombre entier (au plus "
                         "%(max)s).", colonne=col, max="2 147 483 647")
        elif isinstance(kind, (String, Text)):
            if isinstance(one, (list, dict)) or one is None:
                return _("Filtre refusé : « %(colonne)s » attend un texte.", colonne=col)
        elif isinstance(kind, (Float, Numeric)):
            if isinstance(one, (list, dict, bool)) or one is None:
                return _("Filtre refusé : « %(colonne)s » attend un nombre.", colonne=col)
        elif isinstance(kind, (Date, DateTime, Boolean)):
            if isinstance(one, (list, dict)):
                return _("Filtre refusé : « %(colonne)s » attend une seule valeur.",
                         colonne=col)
    return None


# The resources as the titles name them (« Ajout : réseau », not « Ajout : reseau »)
NOMS_RESSOURCES = {
    "reseau": _l("réseau"), "organisme": _l("organisme"), "etablissement": _l("établissement"),
    "utilisateur": _l("utilisateur"), "habilitation": _l("habilitation"),
    "candidature": _l("dossier"), "candidat": _l("candidat"), "evaluation": _l("évaluation"),
    "formation": _l("formation"), "document": _l("document"), "jury": _l("session de jury"),
    "certificat": _l("certificat"), "rattachement": _l("demande de rattachement"),
    "actualite": _l("actualité"), "notification": _l("notification"),
}


class ScopedModelRestApi(FrenchResponses, ModelRestApi):
    resource: str = ""
    openapi_spec_methods = {"info": INFO_SPEC}
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
        # French labels and titles (FAB would make « Created On », « List Candidature Api »
        # of the names); a dict of its own per class, FAB completing it in place
        cls.label_columns = {**LIBELLES, **cls.__dict__.get("label_columns", {})}
        nom = NOMS_RESSOURCES.get(cls.resource_name or "", cls.resource_name or cls.__name__)
        for attribute, title in (("list_title", _l("Liste : %(ressource)s", ressource=nom)),
                                 ("show_title", _l("Détail : %(ressource)s", ressource=nom)),
                                 ("add_title", _l("Ajout : %(ressource)s", ressource=nom)),
                                 ("edit_title", _l("Modification : %(ressource)s",
                                                   ressource=nom))):
            if attribute not in cls.__dict__:
                setattr(cls, attribute, title)
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

    # --- the filters of `q`, checked before FAB builds them ----------------------------
    def _handle_filters_args(self, rison_args):
        """FAB hands a filter's value to SQLAlchemy as it comes: a list for a text column
        (« ct » concatenated it: 500), an integer past 64 bits (SQLite: 500), a text for a
        number (PostgreSQL: 500). Each value is checked against its column first: a French
        400 naming the column."""
        from sqlalchemy import String, Text

        table = self.datamodel.obj.__table__
        permis = getattr(self._filters, "_search_filters", {}) or {}
        for item in rison_args.get("filters") or []:
            if not isinstance(item, dict) or not {"col", "opr", "value"} <= set(item):
                raise FiltreRefuse(_("Filtre incomplet : chaque filtre a « col », « opr » et "
                                     "« value »."))
            col, opr, value = str(item["col"]), item["opr"], item["value"]
            operations = [f.arg_name for f in permis.get(col, [])]
            if operations and opr not in operations:  # FAB would ignore it: every row
                raise FiltreRefuse(_(
                    "Filtre refusé : l'opération « %(opr)s » n'est pas permise sur la colonne "
                    "« %(colonne)s » (permises : %(permises)s).", opr=str(opr)[:40],
                    colonne=col, permises=", ".join(operations)))
            column = table.c.get(col)
            if column is None:
                continue  # FAB refuses the column itself, in words of its own
            if isinstance(column.type, (String, Text)) and isinstance(value, (int, float)) \
                    and not isinstance(value, bool):
                item["value"] = value = str(value)  # rison reads « siret:123 » as a number
            refus = _valeur_de_filtre(column, col, opr, value)
            if refus:
                raise FiltreRefuse(refus)
        return super()._handle_filters_args(rison_args)

    def _nomme(self, model: type, value: Any, field: str, message: str):
        """The row a body or a query names by `field`: 400 (the French `message`, naming
        the field) when it names none (missing, not an id), 404 outside the perimeter."""
        from app.security import perimeter
        from app.services.errors import RuleError

        if perimeter.bounded_id(value) is None or isinstance(value, (bool, float)):
            raise RuleError(message, field=field)
        return perimeter.get_or_404(model, value, self.user)

    # --- French refusals ---------------------------------------------------------------
    def response_400(self, message: str | None = None):
        return self.response(400, message=message or _("Requête invalide."))

    def response_404(self):
        return self.response(404, message=_("Introuvable ou hors de votre périmètre."))

    def response_422(self, message: Any = None):
        return self.response(400, message=_("Données invalides."), details=message)

    def response_500(self, message: str | None = None):
        """FAB's @safe answers here for any exception of the view, a refusal raised under it
        included: the perimeter's NotFound when a body names a dossier outside it, an
        abort(4xx) of a service. Those keep their own status (the work of the request is
        rolled back first); only a real fault is a 500."""
        error = sys.exc_info()[1]
        if isinstance(error, HTTPException) and error.code and error.code < 500:
            db.session.rollback()
            if error.code == 404:
                return self.response_404()
            if error.code == 400:
                return self.response_400()
            return refusal(error.code, refusal_message(error.code))
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

    def _types_refused(self, schema, data: dict):
        """The body's fields that the operation describes, checked against their types and
        lengths before any service reads them (a boolean for a telephone reached the
        service, which failed with a 500): 400 naming the first wrong field, None when the
        described fields are right. Fields it does not describe are the service's to read."""
        try:
            schema.load(data, partial=True, unknown=INCLUDE)
        except ValidationError as error:
            details = french_validation(error.messages)
            field = next(iter(details), "")
            reason = details[field]
            while isinstance(reason, (list, dict)) and reason:
                reason = reason[0] if isinstance(reason, list) else next(iter(reason.values()))
            return refuse_field(field, str(reason)[:200], details=details)
        return None

    def post_headless(self):
        data = self._json()
        if data is None:
            return self.response_400(_("Le corps de la requête doit être un objet JSON."))
        refused = self._types_refused(self.add_model_schema, data)
        if refused is not None:
            return refused
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
        refused = self._types_refused(self.edit_model_schema, data)
        if refused is not None:
            return refused
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


# --- the list of a big table: keyset pages, capped counts --------------------------------

def keyset_list_spec(api_name: str, order: str, page_size: int, cap_pages: int) -> dict:
    """The OpenAPI operation of a keyset list (GET /api/v1/<resource>/): FAB's rison `q`
    still answered, the `apres` cursor, and a count capped at what a pager shows."""
    message = {"type": "object", "properties": {"message": {
        "type": "string", "description": "La raison du refus, en français."}}}

    def refusal(description: str) -> dict:
        return {"description": description,
                "content": {"application/json": {"schema": message}}}

    return {"get": {
        "summary": "Une page de la liste, les dossiers modifiés le plus récemment d'abord",
        "description": (
            f"Les lignes de votre périmètre, dans un ordre fixe : `{order}` décroissant, puis "
            "`id` décroissant (l'ordre des index de la liste). Deux façons de paginer :\n\n"
            "- **par curseur (recommandé)** : la première page sans argument, puis chaque "
            "page suivante avec `?apres=<next>`, `next` étant le curseur de la réponse "
            "précédente, jusqu'à ce que `next` soit null. Chaque ligne est rendue une fois, "
            "à toute profondeur, au coût de la première page.\n"
            "- **par numéro de page (rison de FAB)** : `?q=(page:N,page_size:M)`, N compté à "
            "partir de 0 ; une page au-delà de la fin est vide. Chaque page lit les N × M "
            "lignes qui la précèdent : préférez le curseur pour les pages lointaines.\n\n"
            f"`page_size` va de 1 au maximum du serveur (FAB_API_MAX_PAGE_SIZE), {page_size} "
            "par défaut ; une valeur plus grande est ramenée au maximum. `count` est "
            f"plafonné : les lignes sont comptées jusqu'à {cap_pages} pages au-delà de la page "
            "rendue ; `count` n'est donc le total exact que si `count_exact` est vrai, sinon "
            "il y a plus de `count` lignes (« plus de count »). `filters`, `columns` et "
            f"`keys` de `q` fonctionnent comme dans FAB ; `order_column` ne peut être que "
            f"`{order}` et `order_direction` que `desc`. `apres` ne se combine pas avec "
            "`page`."),
        "parameters": [
            {"in": "query", "name": "q", "required": False,
             "description": "Les arguments rison de FAB : page, page_size, filters, columns, "
                            "keys.",
             "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/get_list_schema"}}}},
            {"in": "query", "name": "apres", "required": False,
             "description": "Le curseur de la page à lire ensuite : `next` de la réponse "
                            "précédente (la clé de tri de sa dernière ligne). Une valeur "
                            "qui n'est pas un curseur est refusée (400).",
             "schema": {"type": "string", "example": "2026-01-05T09:00:00.123456_42"}}],
        "responses": {
            "200": {"description": "Une page de la liste", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "result": {"type": "array", "items": {
                        "$ref": f"#/components/schemas/{api_name}.get_list"}},
                    "ids": {"type": "array", "items": {"type": "integer"},
                            "description": "Les id de `result`, dans l'ordre."},
                    "count": {"type": "integer",
                              "description": "Les lignes de la liste : exact si "
                                             "`count_exact`, sinon un minimum."},
                    "count_exact": {"type": "boolean",
                                    "description": "false : il y a plus de `count` lignes "
                                                   "(non comptées, « plus de count »)."},
                    "next": {"type": "string", "nullable": True,
                             "description": "Le `apres` de la page suivante ; null sur la "
                                            "dernière page."},
                    "page": {"type": "integer", "nullable": True,
                             "description": "Le numéro de cette page (à partir de 0), quand "
                                            "sa position est connue exactement."},
                    "page_size": {"type": "integer"},
                    "list_columns": {"type": "array", "items": {"type": "string"}},
                    "label_columns": {"type": "object"},
                    "description_columns": {"type": "object"},
                    "order_columns": {"type": "array", "items": {"type": "string"}},
                    "list_title": {"type": "string"}}}}}},
            "400": refusal("Un q ou un apres mal formé, un autre ordre que celui de la "
                           "liste, une page ou un page_size négatif, apres avec page."),
            "401": refusal("Authentification requise."),
            "403": refusal("Le rôle (ou l'habilitation manquante) ne le permet pas."),
        }}}


class KeysetRestApi(ScopedModelRestApi):
    """The list of a big table (GET /api/v1/<resource>/) pages like the HTML lists
    (services/pages.keyset): in the order of `keyset_order` (columns, all descending, the
    last unique), read from the index that matches it, the next page after the `apres`
    cursor; FAB's numbered pages (rison `page`) still answered; counts capped at LOOKAHEAD
    pages from the page shown, never over the whole perimeter."""

    keyset_order: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.keyset_order and getattr(cls, "datamodel", None) is not None:
            cls.order_columns = [cls.keyset_order[0].key]
            cls.openapi_spec_methods = {**cls.openapi_spec_methods, "get_list": keyset_list_spec(
                cls.__name__, cls.keyset_order[0].key, cls.page_size, pages.LOOKAHEAD)}

    def _max_page_size(self) -> int:
        return self.max_page_size or current_app.config.get("FAB_API_MAX_PAGE_SIZE") or 100

    def get_list_headless(self, **kwargs):
        args = kwargs.get("rison") or {}
        order = self.keyset_order
        response: dict = {}
        try:
            _select, columns = self._handle_columns_args(args, self.list_select_columns,
                                                         self.list_columns)
        except InvalidColumnArgsFABException:
            return self.response_400(_("Colonne inconnue dans « columns » du paramètre q."))
        self.set_response_key_mappings(response, self.get_list, args,
                                       **{API_SELECT_COLUMNS_RIS_KEY: columns})
        schema = schema_for(self.datamodel.obj, columns) if columns else self.list_model_schema
        try:
            filters = self._handle_filters_args(args)
        except FiltreRefuse as error:
            return self.response_400(str(error))
        except FABException:
            return self.response_400(_("Filtre invalide dans « filters » du paramètre q."))
        if args.get("order_column", order[0].key) != order[0].key \
                or args.get("order_direction", "desc") != "desc":
            return self.response_400(_(
                "Cette liste est triée par %(colonne)s décroissant (puis id) : seul "
                "order_column=%(colonne)s, order_direction=desc est accepté.",
                colonne=order[0].key))
        page, size = args.get("page") or 0, args.get("page_size") or self.page_size
        if page < 0 or size < 0:
            return self.response_400(_("« page » et « page_size » sont des nombres positifs."))
        if self._max_page_size() > 0:  # FAB's -1: no maximum
            size = min(size, self._max_page_size())
        apres = request.args.get(pages.APRES)
        if apres is not None:
            if page:
                return self.response_400(_("« apres » ne se combine pas avec « page » : "
                                           "suivez le curseur « next » de la page précédente."))
            if pages.decode(apres, order) is None:
                return self.response_400(_("Curseur « apres » invalide : reprenez la valeur "
                                           "« next » de la réponse précédente."))
        query = filters.apply_all(select(self.datamodel.obj))
        found = pages.keyset(query, order, {pages.APRES: apres} if apres else {"page": page},
                             size, clamp=False)
        response[API_RESULT_RES_KEY] = schema.dump(found.rows, many=True)
        response["ids"] = [row.id for row in found.rows]
        response["count"] = found.total if found.exact else found.at_least
        response["count_exact"] = found.exact
        response["next"] = found.next_cursor if found.rows and found.more_after else None
        response["page"] = found.number
        response["page_size"] = size
        self.pre_get_list(response)
        return self.response(200, **response)
