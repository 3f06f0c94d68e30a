"""OpenAPI and Swagger UI are served; the API login gives a JWT; the served document says what
the API answers, in French, and the API's refusals of the framework are French.

The document (GET /api/v1/_openapi, no token) against what the API answers: ids are integers
(A), datetimes are declared as they are answered, naive (B), a document's file in its own
type (C), French tags, summaries, labels, no English example (D), `_info` readable (E), the
refusals of a body keep the numbers and the choices (F), FAB's refusals of `q` and of an
unreadable body in French (G), the fixed codes of plain string columns as `enum` (H)."""
from __future__ import annotations

import io
import re

import pytest
import schemathesis

from app.api.labels import LIBELLES
from app.services.documents import ALLOWED
from tests.integration.test_candidatures import dossier, habiliter
from tests.integration.test_evaluations import PDF

METHODS = ("get", "put", "post", "delete", "patch")
OF = "utilisateur_etablissement_a"
NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")


def test_openapi_and_swagger(app, world, login, api_token):
    client = app.test_client()
    spec = client.get("/api/v1/_openapi", headers=api_token(world.usernames["admin_etablissement"]))
    assert spec.status_code == 200
    paths = spec.json["paths"]
    for resource in ("reseau", "organisme", "etablissement", "utilisateur"):
        assert f"/api/v1/{resource}/" in paths
    assert any(p.endswith("/suspendre") for p in paths)
    swagger = login(world.usernames["certif_pro"]).get("/swagger/v1")
    assert swagger.status_code == 200
    # readable without an account, like the document it shows (its assets are served here)
    anonymous = app.test_client().get("/swagger/v1")
    assert anonymous.status_code == 200 and "swagger-ui-bundle.js" in anonymous.get_data(
        as_text=True)


def test_api_login_refuses_bad_password_in_json(app, world):
    response = app.test_client().post("/api/v1/security/login", json={
        "username": world.usernames["certif_pro"], "password": "faux", "provider": "db"})
    assert response.status_code == 401


# --- helpers -------------------------------------------------------------------------------

def document(app) -> dict:
    answer = app.test_client().get("/api/v1/_openapi")
    assert answer.status_code == 200
    return answer.json


def operations(spec):
    for path, operations_ in spec["paths"].items():
        for method, operation in operations_.items():
            if method in METHODS:
                yield method, path, operation


def nodes(spec, node, seen=None):
    """Every schema object under `node`, the components it names followed (each once)."""
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            if ref not in seen:
                seen.add(ref)
                _, kind, name = ref[2:].split("/", 2)
                yield from nodes(spec, spec["components"][kind][name], seen)
            return
        yield node
        for value in node.values():
            yield from nodes(spec, value, seen)
    elif isinstance(node, list):
        for value in node:
            yield from nodes(spec, value, seen)


def answer_schemas(spec):
    """Every schema object an answer of the document uses."""
    seen: set = set()
    for _method, _path, operation in operations(spec):
        yield from nodes(spec, operation.get("responses", {}), seen)


def conforms(spec, path: str, method: str, response) -> None:
    """schemathesis's own check of an answer (status, content type, schema with formats),
    as tests/integration/test_api_fuzz.py does for generated requests."""
    schema = schemathesis.openapi.from_dict(spec)
    schema[path][method.upper()].validate_response(response)


@pytest.fixture
def dossier_id(app, world, api_token):
    habiliter(world, "etab_a1")
    created = app.test_client().post("/api/v1/candidature/", json=dossier(world),
                                     headers=api_token(OF))
    assert created.status_code == 201, created.json
    return created.json["id"]


# --- A: the ids are integers ---------------------------------------------------------------

def test_every_id_of_an_answer_is_an_integer(app, world, api_token):
    spec = document(app)
    for schema in answer_schemas(spec):
        properties = schema.get("properties") or {}
        if properties is spec["components"]["schemas"]["RapportImport"]["properties"]:
            continue  # an import's id is its token (/candidature/import/{ident}), a string
        if "id" in properties:
            assert properties["id"].get("type") == "integer", properties["id"]
        if "ids" in properties:
            assert properties["ids"]["items"].get("type") == "integer", properties["ids"]
    item = spec["paths"]["/api/v1/reseau/{pk}"]["get"]["responses"]["200"]
    declared = item["content"]["application/json"]["schema"]["properties"]["id"]
    assert declared == {"type": "integer", "description": "L'identifiant de l'élément"}
    headers = api_token(world.usernames["certif_pro"])
    answer = app.test_client().get(f"/api/v1/reseau/{world.ids['reseau_a']}", headers=headers)
    assert answer.status_code == 200 and answer.json["id"] == world.ids["reseau_a"]
    conforms(spec, "/api/v1/reseau/{pk}", "get", answer)


# --- B: the datetimes as answered (naive, French legal time) --------------------------------

def test_datetimes_are_declared_as_they_are_answered(app, world, api_token, dossier_id):
    spec = document(app)
    datetimes = 0
    for schema in answer_schemas(spec):
        assert schema.get("format") != "date-time", schema
        if schema.get("pattern") == NAIVE.pattern:
            datetimes += 1
            assert "heure locale du serveur" in schema["description"]
    assert datetimes >= 20  # candidature, certificat, document, habilitation, jury…
    created_on = spec["components"]["schemas"]["CandidatureApi.get"]["properties"]["created_on"]
    assert created_on["type"] == "string" and created_on["pattern"] == NAIVE.pattern
    client, headers = app.test_client(), api_token(OF)
    answer = client.get(f"/api/v1/candidature/{dossier_id}", headers=headers)
    assert answer.status_code == 200
    assert NAIVE.match(answer.json["result"]["created_on"]), answer.json["result"]
    conforms(spec, "/api/v1/candidature/{pk}", "get", answer)
    conforms(spec, "/api/v1/candidature/", "get", client.get("/api/v1/candidature/",
                                                             headers=headers))
    # a `format: date` answered as such (AAAA-MM-JJ), with datetimes beside it
    certif = api_token(world.usernames["certif_pro"])
    habilitations = client.get("/api/v1/habilitation/", headers=certif)
    row = habilitations.json["result"][0]
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", row["date_debut"]) and NAIVE.match(row["decide_le"])
    conforms(spec, "/api/v1/habilitation/", "get", habilitations)
    conforms(spec, "/api/v1/habilitation/{pk}", "get",
             client.get(f"/api/v1/habilitation/{row['id']}", headers=certif))


# --- C: a document's file, in its own type --------------------------------------------------

def test_a_document_file_is_declared_in_the_types_it_can_have(app, world, api_token,
                                                            dossier_id):
    spec = document(app)
    answer = spec["paths"]["/api/v1/document/{pk}/fichier"]["get"]["responses"]["200"]
    assert set(answer["content"]) == set(ALLOWED.values())
    assert {"application/pdf", "image/png", "image/jpeg"} <= set(answer["content"])
    client, headers = app.test_client(), api_token(OF)
    up = client.post("/api/v1/document/", headers=headers, content_type="multipart/form-data",
                     data={"candidature_id": str(dossier_id),
                           "fichier": (io.BytesIO(PDF), "piece.pdf")})
    assert up.status_code == 201, up.json
    conforms(spec, "/api/v1/document/{pk}", "get",
             client.get(f"/api/v1/document/{up.json['id']}", headers=headers))
    downloaded = client.get(f"/api/v1/document/{up.json['id']}/fichier", headers=headers)
    assert downloaded.status_code == 200 and downloaded.mimetype == "application/pdf"
    conforms(spec, "/api/v1/document/{pk}/fichier", "get", downloaded)


# --- D: French tags, summaries, labels; no English left --------------------------------------

ENGLISH = re.compile(r"\b(the|The|Get|Item|Items|Model|model|column|Nice|Successful|"
                     r"refreshed|Details|List)\b")


def test_the_document_reads_in_french(app):
    spec = document(app)
    texts = [(key, value) for node in nodes(spec, spec) for key, value in node.items()
             if key in ("description", "summary", "title", "example") and isinstance(value, str)]
    english = [text for text in texts if ENGLISH.search(text[1])]
    assert not english, english
    for example in ("A Nice description for the column", "A Nice label for the column",
                    "List Items", "Show Item Details"):
        assert example not in str(spec)
    tags = {tag["name"]: tag for tag in spec["tags"]}
    assert all(tag.get("description") for tag in tags.values()), spec["tags"]
    for method, path, operation in operations(spec):
        assert operation.get("summary"), (method, path)
        assert operation["tags"] and set(operation["tags"]) <= set(tags), (method, path)
        assert not any(tag.endswith("Api") or tag == "Security" for tag in operation["tags"])
    paths = spec["paths"]
    assert paths["/api/v1/candidature/{pk}"]["put"]["tags"] == ["Candidatures"]
    assert paths["/api/v1/stats/"]["get"]["tags"] == ["Statistiques"]
    assert {path: {method: operation["summary"] for method, operation in paths[path].items()}
            for path in ("/api/v1/reseau/", "/api/v1/reseau/{pk}", "/api/v1/reseau/_info")} == {
        "/api/v1/reseau/": {"get": "Lister les réseaux de votre périmètre",
                            "post": "Créer un réseau"},
        "/api/v1/reseau/{pk}": {"get": "Lire un réseau de votre périmètre",
                                "put": "Modifier un réseau", "delete": "Supprimer un réseau"},
        "/api/v1/reseau/_info": {"get": "Décrire les réseaux (_info) : champs de création et "
                                        "de modification, filtres, vos droits"}}
    assert paths["/api/v1/jury/{pk}"]["get"]["summary"] == \
        "Lire une session de jury de votre périmètre"
    assert paths["/api/v1/security/refresh"]["post"]["summary"] == "Renouveler le jeton d'accès"
    item = paths["/api/v1/reseau/{pk}"]["get"]["responses"]["200"]["content"]
    properties = item["application/json"]["schema"]["properties"]
    assert properties["show_title"]["example"] == "Détail : réseau"
    assert properties["label_columns"]["additionalProperties"] == {"type": "string"}


def test_the_labels_are_french(app, world, api_token):
    client, headers = app.test_client(), api_token(world.usernames["certif_pro"])
    for resource in ("reseau", "organisme", "etablissement"):
        listed = client.get(f"/api/v1/{resource}/", headers=headers).json["label_columns"]
        info = client.get(f"/api/v1/{resource}/_info", headers=headers).json
        labels = {**listed, **{c["name"]: c["label"] for c in info["add_columns"]}}
        assert labels["contact_email"] == "E-mail du contact"
        assert labels["contact_nom"] == "Nom du contact"
        assert labels["contact_telephone"] == "Téléphone du contact"
        generated = {name: label for name, label in labels.items()
                     if label == name.replace("_", " ").title() and name not in LIBELLES}
        assert not generated, (resource, generated)
    jury = client.get("/api/v1/jury/", headers=headers).json["label_columns"]
    assert jury["close_le"] == "Clôturée le"


# --- E: `_info` readable, in French -----------------------------------------------------------

def test_info_says_its_constraints_in_french(app, world, api_token):
    habiliter(world, "etab_a1")
    spec = document(app)
    client = app.test_client()
    answer = client.get("/api/v1/candidature/_info", headers=api_token(OF))
    assert answer.status_code == 200
    conforms(spec, "/api/v1/candidature/_info", "get", answer)  # base.INFO_SPEC's shape
    fields = {c["name"]: c for c in answer.json["add_columns"]}
    assert fields["civilite"]["validate"] == ["Une valeur parmi : M., Mme"]
    assert fields["nom_naissance"]["validate"] == ["Longueur : au plus 100 caractères"]
    assert fields["etablissement_id"]["validate"] == ["Valeur : au moins 1, au plus 2147483647"]
    assert fields["date_naissance"]["description"] == "Date, au format AAAA-MM-JJ."
    certif = api_token(world.usernames["certif_pro"])
    for resource in ("candidature", "reseau", "jury", "formation", "habilitation",
                     "rattachement", "utilisateur", "document", "evaluation"):
        info = client.get(f"/api/v1/{resource}/_info",
                          headers=api_token(OF) if resource == "candidature" else certif).json
        for column in info["add_columns"] + info["edit_columns"]:
            assert column["description"], (resource, column)
            for sentence in column.get("validate", []):
                assert "<" not in sentence and "error=" not in sentence, (resource, column)
                assert not ENGLISH.search(sentence), (resource, column)
    formation = client.get("/api/v1/formation/_info", headers=certif).json
    modalite = next(c for c in formation["add_columns"] if c["name"] == "modalite")
    assert "Une valeur parmi : presentiel, distanciel, mixte" in modalite["validate"]


# --- F: a refused body keeps the numbers and the choices --------------------------------------

def test_a_refused_field_says_its_bound_or_its_choices(app, world, api_token, dossier_id):
    client = app.test_client()
    certif = api_token(world.usernames["certif_pro"])
    too_long = client.post("/api/v1/reseau/", json={"nom": "x" * 201}, headers=certif)
    assert too_long.status_code == 400
    assert too_long.json["message"] == "« nom » : Au plus 200 caractères."
    assert too_long.json["field"] == "nom"
    headers = api_token(OF)
    choice = client.put(f"/api/v1/candidature/{dossier_id}", json={"civilite": "Mx"},
                        headers=headers)
    assert choice.status_code == 400
    assert choice.json["message"] == "« civilite » : Une valeur parmi : M., Mme."
    bound = client.post("/api/v1/candidature/", json=dossier(world, etablissement_id=0),
                        headers=headers)
    assert bound.status_code == 400
    assert bound.json["details"]["etablissement_id"] == [
        "Doit être supérieur ou égal à 1 et inférieur ou égal à 2147483647."]
    from app.views.refusals import french_validation

    assert french_validation({
        "a": ["Shorter than minimum length 10."], "b": ["Length must be between 8 and 100."],
        "c": ["Length must be 5."], "d": ["Must be greater than or equal to 0."],
        "e": ["Must be less than 3."], "f": ["Not a valid email address."],
        "g": ["Must be one of: presentiel, distanciel."], "h": ["Something else."]}) == {
        "a": ["Au moins 10 caractères."], "b": ["Entre 8 et 100 caractères."],
        "c": ["Exactement 5 caractères."], "d": ["Doit être supérieur ou égal à 0."],
        "e": ["Doit être strictement inférieur à 3."], "f": ["Adresse e-mail invalide."],
        "g": ["Une valeur parmi : presentiel, distanciel."], "h": ["Valeur invalide."]}


# --- G: FAB's refusals of `q` and of an unreadable body, in French ----------------------------

@pytest.mark.parametrize("url, message", [
    ("/api/v1/evaluation/?q=(filters:!((col:foo,opr:eq,value:1)))",
     "Filtre refusé : la colonne « foo » ne peut pas servir de filtre."),
    ("/api/v1/reseau/?q=(order_column:foo)",
     "Tri refusé : la colonne « foo » ne peut pas servir au tri."),
    ("/api/v1/reseau/?q=(filters:!((col:nom,opr:gt,value:1)))",
     "Filtre refusé : l'opération « gt » n'est pas permise sur la colonne « nom » (permises : "
     "sw, ew, ct, eq, nsw, new, nct, neq, in, not_in)."),
    ("/api/v1/reseau/?q=(filters:!((col:foo,opr:zz,value:1)))",
     "Filtre refusé : l'opération « zz » n'est pas permise sur la colonne « foo »."),
    ("/api/v1/reseau/?q=(columns:!(nom),select_columns:!(nom))",
     "Paramètre q invalide : « columns » et « select_columns » ne se combinent pas."),
])
def test_fab_refusals_of_q_are_french(app, world, api_token, url, message):
    answer = app.test_client().get(url, headers=api_token(world.usernames["certif_pro"]))
    assert answer.status_code == 400
    assert answer.json == {"message": message}


def test_an_unreadable_json_body_is_refused_in_french(app, world, api_token):
    client = app.test_client()
    headers = {**api_token(world.usernames["certif_pro"]), "Content-Type": "application/json"}
    unreadable = "Corps de la requête illisible : un JSON bien formé est attendu."
    for method, url in (("post", "/api/v1/reseau/"),
                        ("put", f"/api/v1/reseau/{world.ids['reseau_a']}"),
                        ("post", "/api/v1/habilitation/")):
        answer = getattr(client, method)(url, data='{"nom":', headers=headers)
        assert answer.status_code == 400, (method, url)
        assert answer.json == {"message": unreadable}, (method, url, answer.json)


# --- H: the fixed codes of plain string columns ------------------------------------------------

def test_fixed_codes_are_declared_as_enums(app, world, api_token):
    spec = document(app)
    schemas = spec["components"]["schemas"]
    expected = {"FormationApi": ("modalite", {"presentiel", "distanciel", "mixte"}),
                "JuryApi": ("mode", {"presentiel", "distanciel"}),
                "HabilitationApi": ("portee", {"national", "branche"}),
                "RattachementApi": ("motif", {"demenagement", "fermeture", "choix_beneficiaire",
                                              "autre"})}
    for api, (field, codes) in expected.items():
        for kind in ("get", "get_list", "post", "put"):
            declared = schemas[f"{api}.{kind}"]["properties"][field]
            assert set(declared["enum"]) - {None} == codes, (api, kind)
            assert (None in declared["enum"]) == bool(declared.get("nullable")), (api, kind)
    habiliter(world, "etab_a1")
    certif = api_token(world.usernames["certif_pro"])
    habilitations = app.test_client().get("/api/v1/habilitation/", headers=certif)
    assert habilitations.json["result"][0]["portee"] == "national"
    conforms(spec, "/api/v1/habilitation/", "get", habilitations)


def test_a_put_body_requires_nothing_as_the_server_updates_what_is_sent(app, world,
                                                                        api_token):
    """FAB copied the creation's required fields into the PUT schemas, while a PUT changes
    only the fields it sends (the reviewer's « PUT utilisateur {telephone} » answered 200)."""
    spec = app.test_client().get("/api/v1/_openapi").json
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        put = operations.get("put")
        if not put or "application/json" not in put.get("requestBody", {}).get("content", {}):
            continue
        schema = put["requestBody"]["content"]["application/json"]["schema"]
        post = spec["paths"].get(path.rsplit("/", 1)[0] + "/", {}).get("post", {})
        if "$ref" in schema:
            if schema == post.get("requestBody", {}).get("content", {}).get(
                    "application/json", {}).get("schema"):
                continue  # one schema for both (a full replacement, as the service reads it)
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        assert not schema.get("required"), path
    utilisateur = spec["paths"]["/api/v1/utilisateur/{pk}"]["put"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert not schemas[utilisateur["$ref"].rsplit("/", 1)[-1]].get("required")
    client = app.test_client()
    headers = api_token("certif_pro_a")
    target = client.get("/api/v1/utilisateur/", headers=headers).json["ids"][0]
    changed = client.put(f"/api/v1/utilisateur/{target}", headers=headers,
                         json={"telephone": "01 02 03 04 05"})
    assert changed.status_code == 200, changed.json
    assert changed.json["result"]["telephone"] == "01 02 03 04 05"
    assert changed.json["result"]["role"]  # the role is answered, not null
    unknown = client.put(f"/api/v1/utilisateur/{target}", headers=headers,
                         json={"statut": "x"})
    assert unknown.status_code == 400 and unknown.json["field"] == "statut"


def test_second_review_small_truths(app, world, api_token):
    """The document says it needs no token; an import naming no établissement is a 400; the
    login of a user is not offered to PUT (the server keeps it)."""
    client = app.test_client()
    spec = client.get("/api/v1/_openapi").json
    (openapi,) = [ops["get"] for path, ops in spec["paths"].items() if path.endswith("/_openapi")]
    assert openapi["security"] == []
    from tests.integration.test_candidatures import habiliter

    habiliter(world, "etab_a1")
    headers = api_token("utilisateur_etablissement_a")
    for value in ("", "abc", "99999999999"):
        response = client.get("/api/v1/candidature/import/modele",
                              query_string={"etablissement_id": value}, headers=headers)
        assert response.status_code == 400 and response.json["field"] == "etablissement_id"
    cp = api_token("certif_pro_a")
    target = client.get("/api/v1/utilisateur/", headers=cp).json["ids"][0]
    refused = client.put(f"/api/v1/utilisateur/{target}", headers=cp, json={"username": "x"})
    assert refused.status_code == 400 and refused.json["field"] == "username"
