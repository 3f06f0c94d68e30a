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
- the ids of the answers are integers (FAB says string), the `result` of a write is the row
  as read;
- the datetimes of the answers are declared as answered: naive, in French legal time (a
  `pattern`, not RFC 3339's `date-time`, which requires an offset);
- a document's file is declared in the types an upload may have (services/documents.ALLOWED);
- the codes a service accepts for a plain string column (formation `modalite`, jury `mode`,
  habilitation `portee`, rattachement `motif`) are an `enum` (`codes_fixes`, also read by
  the French `_info`, views/refusals.french_info);
- the document's title, the tags (a French name and description for each resource), the
  summaries of FAB's generated operations (« Lister les réseaux de votre périmètre »), the
  components read in French, and FAB's English examples are gone.
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


def chemin(rule: str) -> str:
    """A Flask route as the document writes its path (`<int:pk>` → `{pk}`)."""
    return _RULE_PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def document(version: str = "v1") -> dict:
    """The document as FAB's view builds it (every API of `version`), made truthful."""
    from flask_appbuilder.api import BaseApi
    from flask_appbuilder.api.manager import OpenApi

    builder = OpenApi._create_api_spec(version)
    for view in current_app.appbuilder.baseviews:
        if isinstance(view, BaseApi) and view.version == version:
            view.add_api_spec(builder)
    return veridique(json.loads(current_app.json.dumps(builder.to_dict())))


def _rules() -> dict[str, dict[str, str]]:
    """OpenAPI path → {parameter: converter} of the app's /api/ routes."""
    paths = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = chemin(rule.rule)
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
    "Use the refresh token to get a new JWT access token":
        "Un nouveau jeton d'accès, en échange du jeton de rafraîchissement (en-tête "
        "« Authorization: Bearer <jeton de rafraîchissement> »)",
    "A new refreshed access token": "Le nouveau jeton d'accès",
    "Refresh Successful": "Jeton renouvelé",
    "Get the OpenAPI spec for a specific API version": "Ce document, pour une version de l'API",
    "The OpenAPI spec": "Le document OpenAPI",
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
            ident = properties.get("id")
            if isinstance(ident, dict) and ident.get("type") == "string":
                # FAB's item GET: {"type": "string", "description": "The item id"}; answered 1
                ident["type"] = "integer"
                ident.pop("format", None)
            ids = properties.get("ids")
            items = ids.get("items") if isinstance(ids, dict) else None
            if isinstance(items, dict) and items.get("type") == "string":
                items["type"] = "integer"
                items.pop("format", None)
            result = properties.get("result")
            if isinstance(result, dict) and re.search(r"\.(post|put)$", result.get("$ref", "")):
                result["$ref"] = re.sub(r"\.(post|put)$", ".get", result["$ref"])
        for value in schema.values():
            _ids_entiers(value)
    elif isinstance(schema, list):
        for value in schema:
            _ids_entiers(value)


# --- B: the datetimes as they are answered ------------------------------------------------

# Every DateTime column is stored and answered naive, in French legal time
# (« 2026-12-02T06:20:38.347966 »): RFC 3339's `date-time` requires an offset, so the answers
# declare this instead.
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$"


def _datetime_description() -> str:
    return _("Date et heure à l'heure locale du serveur (en production : l'heure légale "
             "française), sans décalage (AAAA-MM-JJTHH:MM:SS, fractions de seconde "
             "facultatives).")


def _refs(node: Any, found: set[str]) -> None:
    """The component schemas that `node` names, directly or through other components."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _reachable(roots: list, schemas: dict) -> set[str]:
    found: set[str] = set()
    _refs(roots, found)
    pending = list(found)
    while pending:
        more: set[str] = set()
        _refs(schemas.get(pending.pop()), more)
        for name in more - found:
            found.add(name)
            pending.append(name)
    return found


def _datetimes_naive(node: Any) -> None:
    """`format: date-time` → the pattern of what is answered, in place."""
    if isinstance(node, dict):
        if node.get("format") == "date-time" and node.get("type") == "string":
            node.pop("format")
            node["pattern"] = DATETIME_PATTERN
            node["example"] = "2026-01-05T09:30:00.123456"
            description = node.get("description")
            node["description"] = (f"{description} ({_datetime_description()})" if description
                                   else _datetime_description())
        for value in node.values():
            _datetimes_naive(value)
    elif isinstance(node, list):
        for value in node:
            _datetimes_naive(value)


def _answers_naive(spec: dict) -> None:
    """Every schema an answer uses (inline, or a component it names) declares its datetimes
    as answered; the request bodies keep `date-time` (an offset is accepted there)."""
    schemas = spec.get("components", {}).get("schemas", {})
    answers = [operation.get("responses", {})
               for operations in spec.get("paths", {}).values()
               for method, operation in operations.items()
               if method in METHODS and isinstance(operation, dict)]
    answers.append(spec.get("components", {}).get("responses", {}))
    for answer in answers:
        _datetimes_naive(answer)
    for name in _reachable(answers, schemas):
        _datetimes_naive(schemas.get(name))


# --- C: a document's file, in its own type ---------------------------------------------------

def _fichier_types(spec: dict) -> None:
    """GET /document/{pk}/fichier answers the file in the type it was checked to have on
    upload (services/documents.ALLOWED), not application/octet-stream."""
    from app.services.documents import ALLOWED

    operation = spec.get("paths", {}).get("/api/v1/document/{pk}/fichier", {}).get("get")
    answer = (operation or {}).get("responses", {}).get("200")
    if not isinstance(answer, dict):
        return
    binary = {"type": "string", "format": "binary"}
    answer["content"] = {mime: {"schema": dict(binary)} for mime in sorted(set(ALLOWED.values()))}


# --- D: tags and summaries in French ---------------------------------------------------------

FAB_EXAMPLES = ("A Nice description for the column", "A Nice label for the column",
                "List Items", "Show Item Details")
# base.INFO_SPEC's summary, the same for every resource
INFO_SUMMARY = "Décrire la ressource : champs de création et de modification, filtres, droits"


def _tags() -> list[tuple[str, str, str]]:
    """(FAB's tag: the class name or the docstring's, French name, description), in the
    order of the document's `tags`."""
    return [
        ("Security", _("Connexion"),
         _("Se connecter à l'API et renouveler le jeton d'accès (JWT).")),
        ("ReseauApi", _("Réseaux"), _("Les réseaux d'organismes de formation et leur contact.")),
        ("OrganismeApi", _("Organismes"),
         _("Les organismes de formation d'un réseau : SIREN, déclaration d'activité, adresse, "
           "contact.")),
        ("EtablissementApi", _("Établissements"),
         _("Les établissements d'un organisme : SIRET, région, adresse, contact.")),
        ("UtilisateurApi", _("Comptes utilisateurs"),
         _("Les comptes de votre périmètre et leur rôle ; suspendre, réactiver, envoyer une "
           "réinitialisation du mot de passe.")),
        ("HabilitationApi", _("Habilitations"),
         _("Les demandes d'habilitation CléA des établissements (nationale ou de branche), "
           "leur décision et leur renouvellement.")),
        ("CandidatureApi", _("Candidatures"),
         _("Les dossiers des candidats : création, modification, import en masse, abandon, "
           "envoi en certification, décision du jury.")),
        ("CandidatApi", _("Candidats"),
         _("L'identité des personnes dont un dossier est dans votre périmètre.")),
        ("RechercheApi", _("Recherche"),
         _("Rechercher une personne dans toute la plateforme avant de créer un dossier.")),
        ("RattachementApi", _("Rattachements"),
         _("Les demandes de rattachement d'un dossier à un autre établissement, et leur "
           "décision.")),
        ("EvaluationApi", _("Évaluations"),
         _("Les évaluations préalable et finale d'un dossier : la grille et ses résultats, la "
           "matrice Excel, la finalisation.")),
        ("FormationApi", _("Formations"),
         _("Les formations suivies par le candidat entre ses deux évaluations.")),
        ("DocumentApi", _("Documents"),
         _("Les fichiers d'un dossier (pièces, attestations, matrices) : dépôt, lecture, "
           "téléchargement.")),
        ("JuryApi", _("Sessions de jury"),
         _("Les sessions de jury des certificateurs : ouverture, clôture, procès-verbal.")),
        ("CertificatApi", _("Certificats"),
         _("Les certificats CléA délivrés : le PDF, le dépôt du certificat signé.")),
        ("Envois de certificats", _("Envois de certificats"),
         _("Les certificats papier à poster et les lots d'envoi postés.")),
        ("Notifications", _("Notifications"),
         _("Vos notifications : la liste, le nombre de non lues, les marquer comme lues.")),
        ("ActualiteApi", _("Actualités"),
         _("Les actualités affichées sur la page d'accueil de la plateforme.")),
        ("StatsApi", _("Statistiques"),
         _("Les indicateurs de la page Stats de votre périmètre et leurs exports Excel.")),
        ("Journal d'audit", _("Journal d'audit"),
         _("Le journal des actions faites sur la plateforme.")),
        ("DonneesPersonnellesApi", _("Données personnelles"),
         _("Le droit d'accès (l'archive des données d'une personne) et l'anonymisation.")),
        ("Menu", _("Menu"), _("Le menu des écrans auxquels votre rôle donne accès.")),
        ("OpenApi", _("Documentation"), _("Ce document OpenAPI, lisible sans jeton.")),
    ]


def _objets() -> dict[str, tuple[str, str]]:
    """The resource of a path (/api/v1/<resource>/…) → (one of them, all of them)."""
    return {
        "actualite": (_("une actualité"), _("les actualités")),
        "candidat": (_("un candidat"), _("les candidats")),
        "candidature": (_("une candidature"), _("les candidatures")),
        "certificat": (_("un certificat"), _("les certificats")),
        "document": (_("un document"), _("les documents")),
        "etablissement": (_("un établissement"), _("les établissements")),
        "evaluation": (_("une évaluation"), _("les évaluations")),
        "formation": (_("une formation"), _("les formations")),
        "habilitation": (_("une habilitation"), _("les habilitations")),
        "jury": (_("une session de jury"), _("les sessions de jury")),
        "organisme": (_("un organisme"), _("les organismes")),
        "rattachement": (_("une demande de rattachement"), _("les demandes de rattachement")),
        "reseau": (_("un réseau"), _("les réseaux")),
        "utilisateur": (_("un compte utilisateur"), _("les comptes utilisateurs")),
    }


_CRUD = re.compile(r"^/api/v1/(?P<resource>[a-z_]+)/(?P<rest>|\{pk\}|_info)$")


def _crud_summary(method: str, path: str) -> str | None:
    """The French summary of an operation that FAB generated (list, item, create, update,
    delete, _info), from its method and its resource; None for any other."""
    match = _CRUD.match(path)
    objets = _objets().get(match.group("resource")) if match else None
    if objets is None:
        return None
    un, les = objets
    rest = match.group("rest")
    if rest == "_info" and method == "get":
        return _("Décrire %(objets)s (_info) : champs de création et de modification, "
                 "filtres, vos droits", objets=les)
    if rest == "" and method == "get":
        return _("Lister %(objets)s de votre périmètre", objets=les)
    if rest == "" and method == "post":
        return _("Créer %(objet)s", objet=un)
    if rest == "{pk}":
        return {"get": _("Lire %(objet)s de votre périmètre", objet=un),
                "put": _("Modifier %(objet)s", objet=un),
                "delete": _("Supprimer %(objet)s", objet=un)}.get(method)
    return None


def _other_summaries() -> dict[tuple[str, str], str]:
    return {
        ("post", "/api/v1/security/refresh"): _("Renouveler le jeton d'accès"),
        ("get", "/api/v1/menu/"): _("Lire le menu de votre rôle"),
        ("get", "/api/{version}/_openapi"): _("Lire ce document OpenAPI"),
    }


def _titles_and_columns(answers: Any, resource: str | None) -> None:
    """FAB's English examples (« List Items », « A Nice label for the column »): the titles'
    examples are the resource's own titles, and label_columns / description_columns say what
    they are (an object: column → text) instead of a column named « column_name »."""
    if isinstance(answers, dict):
        properties = answers.get("properties")
        if isinstance(properties, dict):
            for key in ("label_columns", "description_columns"):
                value = properties.get(key)
                if isinstance(value, dict) and "column_name" in (value.get("properties") or {}):
                    column = value["properties"]["column_name"]
                    properties[key] = {"type": "object", "additionalProperties": {
                        "type": "string"}, "description": column.get("description", "")}
            for key, title in (("list_title", "Liste : %(ressource)s"),
                               ("show_title", "Détail : %(ressource)s")):
                value = properties.get(key)
                if isinstance(value, dict) and "example" in value:
                    if resource:
                        from .base import NOMS_RESSOURCES

                        value["example"] = _(title, ressource=str(NOMS_RESSOURCES.get(
                            resource, resource)))
                    else:
                        value.pop("example")
        for value in answers.values():
            _titles_and_columns(value, resource)
    elif isinstance(answers, list):
        for value in answers:
            _titles_and_columns(value, resource)


def _english_examples(node: Any) -> None:
    """Any example FAB left in English, dropped."""
    if isinstance(node, dict):
        if node.get("example") in FAB_EXAMPLES:
            node.pop("example")
        for value in node.values():
            _english_examples(value)
    elif isinstance(node, list):
        for value in node:
            _english_examples(value)


def _francais_operations(spec: dict) -> None:
    """Each operation tagged by its resource's French name, the `tags` listed once with a
    French description, and a French summary for each operation FAB generated."""
    tags = _tags()
    names = {old: new for old, new, _description in tags}
    used: list[str] = []
    others = _other_summaries()
    for path, operations in spec.get("paths", {}).items():
        match = _CRUD.match(path) or re.match(r"^/api/v1/(?P<resource>[a-z_]+)/", path)
        resource = match.group("resource") if match else None
        for method, operation in operations.items():
            if method not in METHODS or not isinstance(operation, dict):
                continue
            operation["tags"] = [names.get(tag, tag) for tag in operation.get("tags") or []]
            used += [tag for tag in operation["tags"] if tag not in used]
            summary = _crud_summary(method, path)
            generic = operation.get("summary") in (None, "", INFO_SUMMARY)
            if summary and generic:
                operation["summary"] = summary
            elif not operation.get("summary") and (method, path) in others:
                operation["summary"] = others[(method, path)]
            _titles_and_columns(operation.get("responses"), resource)
    listed = [{"name": new, "description": description} for _old, new, description in tags
              if new in used]
    known = {tag["name"] for tag in listed}
    listed += [{"name": tag} for tag in used if tag not in known]
    spec["tags"] = listed
    _english_examples(spec)


# --- H: the fields whose codes are a fixed list ----------------------------------------------

def codes_fixes() -> dict[str, dict[str, dict[str, str]]]:
    """API class → {field: {code: French label}}: the codes a service accepts (and so the only
    ones stored), for the fields whose column is a plain string."""
    from app.models.habilitation import BRANCHE, NATIONAL
    from app.services.certification import MODES
    from app.services.evaluations import MODALITES
    from app.services.rattachements import MOTIFS

    return {
        "FormationApi": {"modalite": {code: str(label) for code, label in MODALITES.items()}},
        "JuryApi": {"mode": {code: str(label) for code, label in MODES.items()}},
        "HabilitationApi": {"portee": {
            NATIONAL: _("nationale : CléA socle (Certif Pro)"),
            BRANCHE: _("de branche : socle contextualisé, avec « branche_id »")}},
        "RattachementApi": {"motif": {code: str(label) for code, label in MOTIFS.items()}},
    }


def _enums(spec: dict) -> None:
    """The fixed codes declared as `enum` in every schema of the resource (the request bodies
    and the answers), each code's meaning in the description."""
    schemas = spec.get("components", {}).get("schemas", {})
    for api, fields in codes_fixes().items():
        for name, schema in schemas.items():
            if not name.startswith(api + ".") or not isinstance(schema, dict):
                continue
            properties = schema.get("properties") or {}
            for field, codes in fields.items():
                declared = properties.get(field)
                if not isinstance(declared, dict):
                    continue
                declared["enum"] = list(codes) + ([None] if declared.get("nullable") else [])
                declared["description"] = " ; ".join(f"{code} : {label}"
                                                     for code, label in codes.items())


def _modifications_partielles(spec: dict) -> None:
    """A PUT changes the fields it sends (FAB's update is partial, the services read only
    what is given): the schemas of PUT bodies require nothing, where FAB copied the
    creation's required fields. Only the components no other operation uses."""
    def refs(node) -> list:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [r for value in node.values() for r in refs(value)]
        if isinstance(node, list):
            return [r for value in node for r in refs(value)]
        return []

    put_refs, other_refs = set(), set()
    for operations in spec.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            body = refs(operation.get("requestBody") or {})
            (put_refs if method == "put" else other_refs).update(body)
            other_refs.update(refs({k: v for k, v in operation.items() if k != "requestBody"}))
    schemas = spec.get("components", {}).get("schemas", {})
    for ref in put_refs - other_refs:
        schema = schemas.get(ref.rsplit("/", 1)[-1])
        if isinstance(schema, dict):
            schema.pop("required", None)
    for operations in spec.get("paths", {}).values():
        put = operations.get("put")
        if isinstance(put, dict):
            for media in ((put.get("requestBody") or {}).get("content") or {}).values():
                if isinstance(media.get("schema"), dict):
                    media["schema"].pop("required", None)


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
    _answers_naive(spec)
    _fichier_types(spec)
    _enums(spec)
    if (get_locale() or "fr").language == "fr":
        _francais(spec)
    _francais_operations(spec)
    spec.setdefault("info", {})["title"] = _("API de la plateforme CléA")
    spec["info"]["description"] = _(
        "L'API REST de la plateforme CléA : ce que font les écrans, aux mêmes règles et dans "
        "le même périmètre. Authentification : POST /api/v1/security/login, puis l'en-tête "
        "« Authorization: Bearer <jeton> ». Les refus sont en français : "
        "{\"message\", \"field\"?}.")
    _modifications_partielles(spec)
    for path, operations in spec.get("paths", {}).items():
        if path.endswith("/_openapi") and isinstance(operations.get("get"), dict):
            operations["get"]["security"] = []  # readable without a token (Public role)
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

