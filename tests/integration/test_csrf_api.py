"""Cross-site request forgery (issue 13, finding 2; DESIGN.md §11).

The API changes state only with a bearer token: a foreign page can make the browser send the
session cookie, never an `Authorization` header. The screens change state only by POST with a
CSRF token; GET never changes anything (logout included). CSRF is on here (TestConfig turns it
off for the other tests)."""
from __future__ import annotations

import html
import re

import pytest

from app.extensions import db
from app.models import Organisme, Utilisateur
from app.services import structure
from tests.world import PASSWORD, siren

FOREIGN = {"Origin": "https://evil.example", "Referer": "https://evil.example/piege.html"}
ENGLISH = ("Bad Request", "CSRF", "Not authorized", "Unauthorized", "Missing Authorization",
           "Forbidden", "Method Not Allowed")


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def browser(app):
    """browser(username) → a client logged in through the login form, as a browser is."""
    def _login(username: str):
        client = app.test_client()
        token = token_of(client.get("/login/").get_data(as_text=True))
        response = client.post("/login/", data={"username": username, "password": PASSWORD,
                                                "csrf_token": token})
        assert response.status_code == 302, f"login failed for {username}"
        return client
    return _login


def active(user_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(Utilisateur, user_id).active


def assert_french(text: str):
    for word in ENGLISH:
        assert word not in text, f"English « {word} » in: {text[:300]}"


def test_cookie_alone_never_changes_state_through_the_api(app, world, browser):
    """The attack of finding 2: a foreign page posts to the API with the victim's cookie."""
    target = world.ids["utilisateur_etablissement_a"]
    victim = browser("admin_reseau_a")
    response = victim.post(f"/api/v1/utilisateur/{target}/suspendre", headers=FOREIGN)
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json["message"]
    assert "cookie de session du navigateur ne suffit pas" in response.json["message"]
    assert_french(response.json["message"])
    assert active(target)
    # every writing method, on a screen's resource and on a custom endpoint
    for method, path in (("put", f"/api/v1/utilisateur/{target}"),
                         ("delete", f"/api/v1/reseau/{world.ids['reseau_a']}"),
                         ("post", "/api/v1/notification/lire"),
                         ("patch", f"/api/v1/utilisateur/{target}")):
        response = getattr(victim, method)(path, json={"last_name": "Piraté"}, headers=FOREIGN)
        assert response.status_code == 401, (method, path)
        assert "jeton" in response.json["message"]
    assert db.session.get(Utilisateur, target).last_name != "Piraté"
    # reading with the cookie still works (a foreign page cannot read the answer)
    assert victim.get(f"/api/v1/utilisateur/{target}").status_code == 200


def test_bearer_token_changes_state_and_is_the_only_authority(app, world, browser,
                                                              api_token):
    target = world.ids["utilisateur_etablissement_a"]
    client = app.test_client()
    response = client.post(f"/api/v1/utilisateur/{target}/suspendre",
                           headers=api_token("admin_reseau_a"))
    assert response.status_code == 200, response.json
    assert not active(target)
    # With a token, the token's user acts, whatever cookie comes along: another réseau's user
    # token next to this réseau administrator's cookie may not reactivate the account.
    admin_cookie = browser("admin_reseau_a")
    response = admin_cookie.post(f"/api/v1/utilisateur/{target}/activer",
                                 headers=api_token("utilisateur_etablissement_b"))
    assert response.status_code in (403, 404)
    assert_french(response.json["message"])
    assert not active(target)
    # a forged or broken token: French 401, nothing changes
    response = admin_cookie.post(f"/api/v1/utilisateur/{target}/activer",
                                 headers={"Authorization": "Bearer pas-un-jeton"})
    assert response.status_code == 401
    assert response.json["message"] == "Authentification requise."
    assert not active(target)


def test_api_login_needs_no_cookie_nor_csrf_token(app):
    response = app.test_client().post("/api/v1/security/login", json={
        "username": "admin_reseau_a", "password": PASSWORD, "provider": "db"})
    assert response.status_code == 200 and response.json["access_token"]


def test_html_form_without_csrf_token_is_refused_in_french(app, world, browser):
    target = world.ids["utilisateur_etablissement_a"]
    client = browser("admin_reseau_a")
    response = client.post(f"/utilisateurview/suspendre/{target}", headers=FOREIGN)
    assert response.status_code == 400
    page = T(response)
    assert "Le formulaire a expiré ou ne vient pas de la plateforme" in page
    assert_french(page)
    assert active(target)
    # the fiche's own button carries the token and works
    fiche = client.get(f"/utilisateurview/show/{target}").get_data(as_text=True)
    response = client.post(f"/utilisateurview/suspendre/{target}",
                           data={"csrf_token": token_of(fiche)})
    assert response.status_code == 302
    assert not active(target)


def test_get_never_changes_state(app, world, browser):
    target = world.ids["utilisateur_etablissement_a"]
    client = browser("certif_pro_a")
    # an action route opened by a link: French 405, nothing done
    response = client.get(f"/utilisateurview/suspendre/{target}")
    assert response.status_code == 405
    assert "utilisez le bouton ou le formulaire de la page" in T(response)
    assert_french(T(response))
    assert active(target)
    # FAB's delete by GET is refused (French flash), the row stays; the list's bin (a POST
    # with the token) deletes it
    empty = structure.create_organisme({"raison_sociale": "SANS ETABLISSEMENT",
                                        "siren": siren(44444444),
                                        "reseau_id": world.ids["reseau_b"]}, by=None).id
    response = client.get(f"/organismeview/delete/{empty}", follow_redirects=True)
    assert "Accès refusé." in T(response)
    db.session.expire_all()
    assert db.session.get(Organisme, empty) is not None
    token = token_of(client.get("/organismeview/list/").get_data(as_text=True))
    client.post(f"/organismeview/delete/{empty}", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Organisme, empty) is None


def test_logout_is_a_post_with_a_token(app, world, browser):
    client = browser("admin_reseau_a")
    home = client.get("/")
    # the user menu's « Déconnexion » is a form posting the token, not a link
    assert re.search(r'<form method="post" action="/logout/"', home.get_data(as_text=True))
    assert 'href="/logout/"' not in home.get_data(as_text=True)
    # a foreign link (GET) only asks
    page = client.get("/logout/", headers=FOREIGN)
    assert page.status_code == 200
    assert "Se déconnecter de la plateforme ?" in T(page)
    assert client.get("/").status_code == 200  # still logged in
    # a foreign form (POST without the token) is refused
    assert client.post("/logout/", headers=FOREIGN).status_code == 400
    assert client.get("/").status_code == 200
    # the platform's button logs out
    response = client.post("/logout/", data={"csrf_token": token_of(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert "/login/" in client.get("/").headers.get("Location", "")
