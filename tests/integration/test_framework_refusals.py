"""Every refusal the framework makes on its own reads in French, as a page on the screens and
as JSON {"message"} under /api/ (issue 13, finding 10), also with English available; the user
form never names a structure outside the perimeter (finding 9); `next` only ever leads to a
path of the platform (finding 10)."""
from __future__ import annotations

import html

import pytest

from app.extensions import db
from app.models import Utilisateur
from tests.world import PASSWORD

ENGLISH = ("Bad Request", "Not authorized", "Unauthorized", "Forbidden", "Not Found",
           "Not found", "Method Not Allowed", "Request Entity Too Large", "Fatal error",
           "Error loading the user", "Access is Denied", "Missing data for required field",
           "Request payload is not JSON", "Missing Authorization", "Internal Server Error",
           "Token has", "capacity limit")
EVIL = ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)",
        "http:evil.example", "/\t/evil.example")


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_french(text: str):
    for word in ENGLISH:
        assert word not in text, f"English « {word} » in: {text[:400]}"


def json_message(response) -> str:
    assert response.is_json, response.get_data(as_text=True)[:300]
    message = response.json["message"]
    assert isinstance(message, str)
    assert_french(str(response.json))
    return message


# --- pages -------------------------------------------------------------------------------

def test_refusal_pages_are_french(app, world, login):
    client = login("admin_reseau_a")
    target = world.ids["utilisateur_etablissement_a"]
    # 405: an action opened by a link
    response = client.get(f"/utilisateurview/suspendre/{target}")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert "utilisez le bouton ou le formulaire de la page" in T(response)
    assert_french(T(response))
    # 404
    response = client.get("/nulle-part/")
    assert response.status_code == 404 and "Page introuvable" in T(response)
    assert_french(T(response))
    # 413: more than MAX_CONTENT_LENGTH
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/profil/enregistrer", data=big,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "dépasse la taille maximale autorisée (20 Mo)" in T(response)
    assert_french(T(response))


def test_bad_request_page_is_french(app, world):
    """werkzeug's BadRequest (a malformed request that a view reads strictly)."""
    from werkzeug.exceptions import BadRequest

    from tests.conftest import make_test_app

    fresh = make_test_app(app.config["TEST_DATABASE_URL"])

    @fresh.route("/_test_bad_request")
    def _bad():
        raise BadRequest()
    response = fresh.test_client().get("/_test_bad_request")
    assert response.status_code == 400 and "Requête invalide" in T(response)
    assert_french(T(response))
    # a page needing a login, opened without one: FAB's « Access is Denied » flash, in French
    response = app.test_client().get("/utilisateurview/list/", follow_redirects=True)
    assert "Accès refusé." in T(response)
    assert_french(T(response))


def test_csrf_refusal_page_is_french(app, world):
    from tests.conftest import make_test_app

    csrf_app = make_test_app(app.config["TEST_DATABASE_URL"], WTF_CSRF_ENABLED=True)
    response = csrf_app.test_client().post("/login/", data={"username": "admin_reseau_a",
                                                            "password": PASSWORD})
    assert response.status_code == 400
    assert "Le formulaire a expiré ou ne vient pas de la plateforme" in T(response)
    assert_french(T(response))


def test_english_interface_translates_the_refusals_too(app, world, login):
    client = login("admin_reseau_a")
    client.get("/lang/en")
    response = client.get(f"/utilisateurview/suspendre/{world.ids['utilisateur_etablissement_a']}")
    assert response.status_code == 405
    assert "This action cannot be opened this way" in T(response)


# --- JSON ----------------------------------------------------------------------------------

def test_api_refusals_are_french_json(app, world, login, api_token):
    anonymous = app.test_client()
    # API login: wrong password, malformed body, not JSON
    response = anonymous.post("/api/v1/security/login", json={
        "username": "admin_reseau_a", "password": "faux", "provider": "db"})
    assert response.status_code == 401
    assert json_message(response) == "Identifiant ou mot de passe incorrect."
    response = anonymous.post("/api/v1/security/login", json={"username": "x"})
    assert response.status_code == 400
    # the same shape as every other refused body: the field named, each one in details
    assert json_message(response) == "« password » : Champ obligatoire."
    assert response.json["field"] == "password"
    assert response.json["details"] == {"password": ["Champ obligatoire."]}
    response = anonymous.post("/api/v1/security/login", data="x", content_type="text/plain")
    assert response.status_code == 415
    assert json_message(response).startswith("Type de contenu non pris en charge")
    # no token, a broken token
    response = anonymous.get("/api/v1/utilisateur/")
    assert response.status_code == 401 and json_message(response) == "Authentification requise."
    response = anonymous.get("/api/v1/utilisateur/", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401 and json_message(response) == "Authentification requise."
    # the menu API (FAB's own)
    response = anonymous.get("/api/v1/menu/")
    assert response.status_code == 401 and json_message(response)
    headers = api_token("admin_reseau_a")
    # 404, 405, a malformed q (rison), 413
    response = anonymous.get("/api/v1/utilisateur/999999", headers=headers)
    assert response.status_code == 404 and json_message(response)
    response = anonymous.delete("/api/v1/security/login", headers=headers)
    assert response.status_code == 405 and json_message(response)
    for q in ("(a:!x)", "(page:x)"):  # not rison; rison outside FAB's schema
        response = anonymous.get(f"/api/v1/utilisateur/?q={q}", headers=headers)
        assert response.status_code == 400
        assert json_message(response) == "Paramètre q invalide : objet rison ou JSON attendu."
    response = anonymous.post("/api/v1/utilisateur/", headers=headers,
                              data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                              content_type="application/json")
    assert response.status_code == 413
    assert "dépasse la taille maximale autorisée" in json_message(response)
    # a role without the right: 403
    response = anonymous.get("/api/v1/reseau/", headers=api_token("jury_a"))
    assert response.status_code == 403 and json_message(response)


def test_suspended_users_token_is_refused_in_french(app, world, api_token):
    """flask-jwt-extended's « Error loading the user 7 »."""
    headers = api_token("utilisateur_etablissement_a")
    target = db.session.get(Utilisateur, world.ids["utilisateur_etablissement_a"])
    target.active = False
    db.session.commit()
    response = app.test_client().get("/api/v1/notification/", headers=headers)
    assert response.status_code == 401
    assert json_message(response) == "Compte introuvable ou suspendu : reconnectez-vous."


def test_api_refusals_in_english_on_request(app, world):
    response = app.test_client().post("/api/v1/security/login?_l_=en", json={
        "username": "admin_reseau_a", "password": "faux", "provider": "db"})
    assert response.status_code == 401
    assert response.json["message"] == "Incorrect username or password."


# --- finding 9: the user form names only structures of the perimeter ----------------------

def test_user_form_never_names_a_structure_outside_the_perimeter(app, world, login):
    client = login("admin_reseau_a")
    data = {"username": "intrus", "first_name": "A", "last_name": "B",
            "email": "intrus@test.fr", "role": "utilisateur_etablissement"}
    for field, key, name in (("etablissement_id", "etab_b1", "ETAB_B1"),
                             ("organisme_id", "org_b1", "ORG_B1"),
                             ("reseau_id", "reseau_b", "Réseau B"),
                             ("certificateur_id", "tp_idf", "Transitions Pro Île-de-France")):
        response = client.post("/utilisateurview/add", data={**data, field: world.ids[key]})
        page = T(response)
        assert name not in page, f"{name} shown for a posted {field}"
    # the service refuses the établissement of another réseau, in French
    response = client.post("/utilisateurview/add",
                           data={**data, "etablissement_id": world.ids["etab_b1"]})
    assert "L'établissement choisi n'existe pas ou est hors de votre périmètre." in T(response)
    assert db.session.query(Utilisateur).filter_by(username="intrus").count() == 0
    # inside the perimeter the choice keeps its name
    response = client.post("/utilisateurview/add", data={**data, "role": "",
                                                         "etablissement_id": world.ids["etab_a1"]})
    assert "ETAB_A1" in T(response)
    # the search-as-you-type lookup stays inside the perimeter too
    names = [row["text"] for row in client.get("/lookup/etablissement?q=ETAB").json["results"]]
    assert "ETAB_A1" in names and "ETAB_B1" not in names
    assert client.get("/lookup/certificateur").json["results"] == []


# --- `next` only leads to the platform ---------------------------------------------------------

@pytest.mark.parametrize("target", EVIL)
def test_next_never_leaves_the_platform(app, world, login, target):
    client = login("admin_reseau_a")
    profile = {"first_name": "Test", "last_name": "admin_reseau", "telephone": "",
               "email": "admin_reseau_a@test.fr", "next": target}
    checks = [
        client.post("/profil/enregistrer", data=profile),
        client.post("/profil/notifications", data={"next": target}),
        client.post("/notifications/lire", data={"next": target}),
    ]
    anonymous = app.test_client()
    checks.append(anonymous.post(f"/login/?next={target}", data={
        "username": "admin_reseau_a", "password": PASSWORD}))
    checks.append(anonymous.get(f"/login/?next={target}"))  # already logged in
    for response in checks:
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
        assert "evil.example" not in location and "javascript" not in location


def test_next_to_a_page_of_the_platform_is_followed(app, world, login):
    client = login("admin_reseau_a")
    response = client.post("/profil/enregistrer", data={
        "first_name": "Test", "last_name": "admin_reseau", "telephone": "",
        "email": "admin_reseau_a@test.fr", "next": "/notifications/?lu=oui"})
    assert response.headers["Location"] == "/notifications/?lu=oui"
