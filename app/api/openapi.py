"""The served OpenAPI (/api/v1/_openapi) made to say what the API does (DESIGN.md §9).

FAB builds the document from each operation's docstring: an action route without a YAML
block has no path parameter (no tool could call `/candidature/{pk}/envoyer` from it), and
each operation lists only the answers its docstring thought of, in English. Here, once for
the whole document, after FAB built it:
- every path parameter of the route is declared, with the type of its converter (an id:
  an integer from 1 to 2 147 483 647);
- every operation declares the refusals it can answer (400 field refused, 401 no token,
  403 role, 404 unknown or outside the perimeter, 409 a conflict of the dossier's state,
  413 / 415 for bodies, 422, 429 too many attempts, 500), each a French JSON
  `{"message", "field"?, "details"?}` described once in the components;
- the document's title, the tags and the components read in French.
The document is readable without a token (the Public role holds `can_get` on OpenApi):
an integrator reads it before having an account."""
from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from app.security.perimeter import MAX_ID

METHODS = ("get", "put", "post", "delete", "patch")
_RULE_PARAM = re.compile(r"<(?:([^:<>()]+)(?:\([^<>]*\))?:)?([^<>]+)>")

ERREUR = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "field": {"type": "string"},
        "details": {},
    },
}


def _refusals() -> dict[str, str]:
    return {
        "400": _("Requête refusée : un champ, un paramètre ou le corps ne convient pas "
                 "(« message » dit lequel et pourquoi, « field » le nomme)."),
        "401": _("Authentification requise : jeton absent, expiré ou révoqué."),
        "403": _("Votre rôle ne permet pas cette action."),
        "404": _("Introuvable ou hors de votre périmètre."),
        "405": _("Méthode non permise sur cette adresse."),
        "409": _("L'état du dossier ou de la ressource ne permet pas cette action "
                 "(conflit)."),
        "413": _("Corps de la requête trop volumineux."),
        "415": _("Type de contenu non pris en charge."),
        "422": _("Données invalides."),
        "429": _("Trop de tentatives : réessayez plus tard."),
        "500": _("Erreur inattendue."),
        "503": _("Service momentanément indisponible."),
    }


def _parameter_schema(converter: str) -> dict:
    if converter == "int":
        return {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}
    if converter == "float":
        return {"type": "number"}
    return {"type": "string"}


def _rules() -> dict[str, dict[str, str]]:
    """OpenAPI path → {parameter: converter} of the app's /api/ routes."""
    paths = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = _RULE_PARAM.sub(lambda m: "{" + m.group(2) + "}", rule.rule)
        paths[path] = {name: converter or "default"
                       for converter, name in _RULE_PARAM.findall(rule.rule)}
    return paths


def _refusals_of(operation: dict, method: str, path: str) -> list[str]:
    """The refusals an operation can answer."""
    codes = ["400", "500", "503"]
    protected = bool(operation.get("security"))
    if protected:
        codes += ["401", "403", "404"]
    if "{" in path:
        codes.append("404")
    if method != "get":
        codes += ["409", "422"]
    if "requestBody" in operation or method in ("post", "put"):
        codes += ["413", "415"]
    if path.endswith("/security/login") or path.endswith("/security/refresh"):
        codes.append("429")
    return codes


# FAB's own English texts in the document, and what a French reader gets instead
FAB_TEXTS = {
    "Item from Model": "L'élément",
    "Items from Model": "Les éléments",
    "Item inserted": "Élément créé",
    "Item changed": "Élément modifié",
    "Item deleted": "Élément supprimé",
    "Model schema": "Le schéma de l'élément",
    "The item id": "L'identifiant de l'élément",
    "A list of columns": "Une liste de colonnes",
    "The description for the column name. Will be translated by babel":
        "La description de chaque colonne",
    "The label for the column name. Will be translated by babel": "Le libellé de chaque colonne",
    "A title to render. Will be translated by babel": "Le titre à afficher",
    "The filter name. Will be translated by babel": "Le nom du filtre",
    "The filter operation key to use on list filters":
        "La clé de l'opération du filtre (dans « filters » de q)",
    "The user permissions for this API resource": "Vos droits sur cette ressource",
    "The total record count on the backend": "Le nombre total de lignes",
    "A list of item ids, useful when you don't know the column id":
        "Les identifiants des éléments rendus, dans l'ordre",
    "A list of allowed columns to sort": "Les colonnes selon lesquelles trier",
    "The result from the get list query": "Les éléments de la page",
    "Get metadata information about this API resource":
        "Décrire la ressource : champs de création et de modification, filtres, droits",
    "Get an item model": "Lire un élément de votre périmètre",
    "Get a list of models": "Lister les éléments de votre périmètre",
    "Create a new model": "Créer un élément",
    "Update an item model": "Modifier un élément",
    "Delete an item model": "Supprimer un élément",
    "API key authentication using Bearer token": "Jeton d'accès : « Authorization: Bearer "
                                                 "<jeton> »",
    "Get the menu data structure. Returns a forest like structure with the menu the user has "
    "access to": "Le menu de l'utilisateur, en arbre",
    "Get menu data": "Lire le menu",
    "Menu items in a forest like data structure": "Les entrées du menu, en arbre",
    "Icon name to show for this menu item": "Le nom de l'icône de l'entrée",
    "Pretty name for the menu item": "Le libellé de l'entrée",
    "The internal menu item name, maps to permission_name": "Le nom interne de l'entrée",
    "The URL for the menu item": "L'adresse de l'entrée",
}


def _francais(node: Any) -> None:
    """FAB's English descriptions and summaries replaced by FAB_TEXTS, in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary", "title") and isinstance(value, str):
                node[key] = FAB_TEXTS.get(value, value)
            else:
                _francais(value)
    elif isinstance(node, list):
        for value in node:
            _francais(value)


def _ids_entiers(schema: Any) -> None:
    """FAB describes the `id` of its answers and the list's `ids` as strings: they are
    integers. Also, the `result` of a creation or a modification is the row as read (the
    `.get` schema, with its id), not the body sent (`.post`, `.put`)."""
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            if properties.get("id") == {"type": "string"}:
                properties["id"] = {"type": "integer"}
            ids = properties.get("ids")
            if isinstance(ids, dict) and ids.get("items") == {"type": "string"}:
                ids["items"] = {"type": "integer"}
            result = properties.get("result")
            if isinstance(result, dict) and re.search(r"\.(post|put)$", result.get("$ref", "")):
                result["$ref"] = re.sub(r"\.(post|put)$", ".get", result["$ref"])
        for value in schema.values():
            _ids_entiers(value)
    elif isinstance(schema, list):
        for value in schema:
            _ids_entiers(value)


def veridique(spec: dict) -> dict:
    """The document FAB built, with what it leaves unsaid (see the module)."""
    refusals = _refusals()
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Erreur"] = ERREUR
    # the answers the actions share (their docstrings name them)
    schemas["Commande"] = {"type": "object", "properties": {
        "id": {"type": "integer"},
        "result": {"type": "object", "description": _("L'élément tel qu'il est désormais.")}}}
    schemas["Message"] = {"type": "object", "properties": {"message": {"type": "string"}}}
    schemas["Nombre"] = {"type": "object", "properties": {"count": {"type": "integer"}}}
    schemas["RapportImport"] = {"type": "object", "properties": {
        "id": {"type": "string"}, "lignes": {"type": "integer"},
        "valides": {"type": "integer"}, "refusees": {"type": "integer"},
        "crees": {"type": "integer"}, "ids": {"type": "array", "items": {"type": "integer"}},
        "rapport": {"type": "array", "items": {"type": "object", "properties": {
            "ligne": {"type": "integer"}, "nom": {"type": "string"},
            "statut": {"type": "string", "enum": ["valide", "refusee"]},
            "motif": {"type": "string"},
            "champ": {"type": "string", "nullable": True,
                      "description": _("Le champ refusé, par son code.")},
            "colonne": {"type": "string",
                        "description": _("La colonne du fichier où il se trouve, par son "
                                         "en-tête.")}}}}}}
    responses = components.setdefault("responses", {})
    for code, description in refusals.items():
        responses[code] = {"description": description, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}}}
    rules = _rules()
    for path, operations in spec.get("paths", {}).items():
        converters = rules.get(path, {})
        for method, operation in operations.items():
            if method not in METHODS or not isinstance(operation, dict):
                continue
            parameters = operation.setdefault("parameters", [])
            declared = {p.get("name"): p for p in parameters
                        if isinstance(p, dict) and p.get("in") == "path"}
            for name, converter in converters.items():
                if name in declared:
                    declared[name]["required"] = True
                    if converter == "int":
                        declared[name]["schema"] = _parameter_schema(converter)
                    continue
                parameters.append({"in": "path", "name": name, "required": True,
                                   "schema": _parameter_schema(converter)})
            if not parameters:
                operation.pop("parameters")
            answers = operation.setdefault("responses", {})
            _ids_entiers(answers)
            if not any(str(code).startswith("2") for code in answers):
                answers["200"] = {"description": _("Succès.")}
            for code in _refusals_of(operation, method, path):
                if code not in answers and int(code) not in answers:
                    answers[code] = {"$ref": f"#/components/responses/{code}"}
    if (get_locale() or "fr").language == "fr":
        _francais(spec)
    spec.setdefault("info", {})["title"] = _("API de la plateforme CléA")
    spec["info"]["description"] = _(
        "L'API REST de la plateforme CléA : ce que font les écrans, aux mêmes règles et dans "
        "le même périmètre. Authentification : POST /api/v1/security/login, puis l'en-tête "
        "« Authorization: Bearer <jeton> ». Les refus sont en français : "
        "{\"message\", \"field\"?}.")
    return spec


def install(app) -> None:
    """Serve the truthful document at FAB's address (its view, then `veridique`)."""
    endpoint = "OpenApi.get"
    original = app.view_functions.get(endpoint)
    if original is None:
        return

    def get(version: str):
        response = original(version)
        if getattr(response, "status_code", None) != 200:
            return response
        spec = veridique(response.get_json())
        response.set_data(json.dumps(spec, ensure_ascii=False))
        return response

    get.__name__ = original.__name__
    app.view_functions[endpoint] = get

