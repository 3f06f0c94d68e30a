"""Every JSON body of the API checked against the OpenAPI document before a view reads it.

The document (/api/v1/_openapi, made truthful by openapi.veridique) declares each
operation's request body: types, lengths, codes, bounds, required and unknown fields. Here,
before the view of a POST, PUT or PATCH under /api/ runs, the body is validated against
that very schema, so that what the document promises is what the server enforces, and no
value of the wrong type ever reaches a service (a list for a motive, a number for a text,
an object that is not one: each was a 500). A refusal is a French 400 naming the field
(`{"message", "field"}`); a body that is not JSON where JSON is expected is a 415; a JSON
that does not parse is a 400.

The schemas are read once per process from the document (built as its view builds it) and
kept as compiled validators. An operation without a JSON body (multipart uploads, actions
without a body) is left to its view. Requests without a user are left to the view too, so
that a missing token is answered 401 before anything about the body."""
from __future__ import annotations

import copy
import json
import threading
from typing import Any

import jsonschema
from flask import current_app, request
from flask_babel import gettext as _

from app.views.refusals import non_json, refusal, refuse_field

from .openapi import chemin

WRITES = ("POST", "PUT", "PATCH")
_lock = threading.Lock()
KEY = "clea_corps"  # app.extensions: (OpenAPI path, method) → validator, None: no JSON body
KEY_VUES = "clea_corps_vues"  # app.extensions: blueprint name → API view


def _json_schema(node: Any, components: dict, seen: tuple = ()) -> Any:
    """An OpenAPI 3.0 schema as a JSON Schema: references resolved, `nullable` as a type
    that admits null, `readOnly` properties dropped (a body never sends them)."""
    if isinstance(node, list):
        return [_json_schema(item, components, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:  # a recursive schema: not checked deeper
            return {}
        return _json_schema(components.get(name, {}), components, (*seen, name))
    out = {}
    for key, value in node.items():
        if key in ("example", "examples", "description", "title", "format", "nullable",
                   "readOnly", "writeOnly", "discriminator", "xml", "externalDocs"):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _json_schema(prop, components, seen)
                        for name, prop in value.items()
                        if not (isinstance(prop, dict) and prop.get("readOnly"))}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _json_schema(value, components, seen)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = _json_schema(value, components, seen)
        else:
            out[key] = copy.deepcopy(value)
    if node.get("nullable"):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    # what is missing is the service's to say (« Indiquez le motif de … », in the words of
    # the screens); here the values that are sent are checked
    out.pop("required", None)
    return out


def _construire() -> dict:
    """Each JSON body's validator, by (path, method), from the served document; and the API
    views by blueprint (KEY_VUES)."""
    from flask_appbuilder.api import BaseApi

    from .openapi import document

    spec = document("v1")
    components = spec.get("components", {}).get("schemas", {})
    validators = {}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method.upper() not in WRITES or not isinstance(operation, dict):
                continue
            content = (operation.get("requestBody") or {}).get("content") or {}
            schema = (content.get("application/json") or {}).get("schema")
            if schema is None:
                validators[(path, method.upper())] = None
                continue
            schema = _json_schema(schema, components)
            jsonschema.Draft7Validator.check_schema(schema)
            validators[(path, method.upper())] = jsonschema.Draft7Validator(schema)
    current_app.extensions[KEY_VUES] = {
        view.blueprint.name: view for view in current_app.appbuilder.baseviews
        if isinstance(view, BaseApi) and view.blueprint is not None}
    return validators


def _validateur(rule: str, method: str):
    validators = current_app.extensions.get(KEY)
    if validators is None:
        with _lock:
            validators = current_app.extensions.get(KEY)
            if validators is None:
                validators = current_app.extensions[KEY] = _construire()
    path = chemin(rule)
    return validators.get((path, method)) or validators.get((path.rstrip("/") or "/", method))


def _avec_utilisateur() -> bool:
    """A bearer token (the API changes state only with one: security/api_writes.py)."""
    from flask_jwt_extended import verify_jwt_in_request

    try:
        return verify_jwt_in_request(optional=True) is not None
    except Exception:  # noqa: BLE001  (a bad token: the view answers 401)
        return False


def _vue():
    """The API view (FAB BaseApi instance) and its method's name for this request."""
    if not request.endpoint or "." not in request.endpoint:
        return None, None
    blueprint, name = request.endpoint.rsplit(".", 1)
    return current_app.extensions.get(KEY_VUES, {}).get(blueprint), name


def _refus_avant(view, name: str) -> bool:
    """Whether the view itself will refuse first (so the body is not looked at): the role
    lacks the permission (403), or the row named by the path is outside the perimeter
    (404). What FAB's @protect and the views check, in the same order."""
    from flask_appbuilder.const import PERMISSION_PREFIX

    method = getattr(type(view), name, None)
    permission = getattr(method, "_permission_name", name)
    if view.method_permission_name and view.method_permission_name.get(name):
        permission = view.method_permission_name[name]
    if not current_app.appbuilder.sm.has_access(f"{PERMISSION_PREFIX}{permission}",
                                                view.class_permission_name):
        return True
    pk = (request.view_args or {}).get("pk")
    datamodel = getattr(view, "datamodel", None)
    if pk is not None and datamodel is not None:
        return datamodel.get(pk, view._base_filters) is None
    return False


def _type_attendu(kind: Any) -> str:
    """The sentence of the value expected (the words of refusals._validation_messages)."""
    names = {"string": _("Texte attendu."), "integer": _("Nombre entier attendu."),
             "number": _("Nombre attendu."), "boolean": _("Valeur oui/non attendue."),
             "array": _("Liste attendue."), "object": _("Objet JSON attendu.")}
    kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if k != "null"]
    return names.get(kinds[0] if kinds else "", _("Valeur invalide."))


def _bornes(schema: dict) -> str:
    """A number's bounds in the words of marshmallow's French refusals."""
    from app.views.refusals import _comparisons

    words = _comparisons()
    low = ("minimum", "greater than or equal to") if "minimum" in schema else (
        "exclusiveMinimum", "greater than")
    high = ("maximum", "less than or equal to") if "maximum" in schema else (
        "exclusiveMaximum", "less than")
    if low[0] in schema and high[0] in schema:
        return _("Doit être %(op_min)s %(min)s et %(op_max)s %(max)s.", op_min=words[low[1]],
                 min=schema[low[0]], op_max=words[high[1]], max=schema[high[0]])
    bound = low if low[0] in schema else high
    return _("Doit être %(op)s %(n)s.", op=words[bound[1]], n=schema.get(bound[0]))


def _raison(error: jsonschema.ValidationError) -> tuple[str, str]:
    """(field, French reason) of a validation error."""
    field = ".".join(str(p) for p in error.absolute_path)
    v, value = error.validator, error.validator_value
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return ".".join(filter(None, (field, extra[0] if extra else ""))), _(
            "Champ inconnu de cette opération (voir le document OpenAPI).")
    if v == "type":
        return field, _type_attendu(value)
    if v == "enum":
        shown = ", ".join(str(x) for x in value if x is not None)
        return field, _("Une valeur parmi : %(choices)s.", choices=shown)
    if v == "maxLength":
        return field, _("Au plus %(max)s caractères.", max=value)
    if v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        return field, _bornes(error.schema)
    if v == "minItems":
        return field, _("Au moins %(n)s élément(s).", n=value)
    if v == "maxItems":
        return field, _("Au plus %(n)s élément(s).", n=value)
    if v == "uniqueItems":
        return field, _("Chaque élément une seule fois.")
    if v == "pattern":
        return field, _("Format invalide.")
    return field, _("Valeur invalide.")


def verifier():
    """before_request: None to let the view run, or the refusal."""
    if request.method not in WRITES or not request.path.startswith("/api/") \
            or request.url_rule is None or not _avec_utilisateur():
        return None
    validator = _validateur(request.url_rule.rule, request.method)
    if validator is None:
        return None
    view, name = _vue()
    if view is None or _refus_avant(view, name):
        return None
    raw = request.get_data(cache=True)
    if not raw.strip():
        data: Any = {}
    elif not request.is_json:
        return non_json()
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return refusal(400, _("Corps de la requête illisible : un JSON bien formé est "
                                  "attendu."))
    if not isinstance(data, dict) and validator.schema.get("type") == "object":
        return refusal(400, _("Le corps de la requête doit être un objet JSON."))
    # what is missing or too short is the service's to say, in the screens' words
    errors = [e for e in validator.iter_errors(data)
              if e.validator not in ("required", "minLength")]
    error = jsonschema.exceptions.best_match(errors)
    if error is None:
        return None
    field, reason = _raison(error)
    if not field:
        return refusal(400, reason)
    details: dict[str, list[str]] = {}
    for other in errors:  # every field refused, the message naming the first
        name, why = _raison(other)
        details.setdefault(name or "body", []).append(why)
    return refuse_field(field, reason, details=details)


def install(app) -> None:
    app.before_request(verifier)
