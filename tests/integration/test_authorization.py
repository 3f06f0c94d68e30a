"""Authorization, generated from the permission matrix (app/security/matrix.py): every role ×
every resource × every screen and API endpoint, inside and outside the perimeter."""
from __future__ import annotations

import pytest

from app.security import matrix
from app.security import roles as R
from tests.conftest import BACKENDS

# resource → (UI view route base, API resource, own object key, other object key)
RESOURCES = {
    "Reseau": ("reseauview", "reseau", "reseau_a", "reseau_b"),
    "Organisme": ("organismeview", "organisme", "org_a1", "org_b1"),
    "Etablissement": ("etablissementview", "etablissement", "etab_a1", "etab_b1"),
    "Utilisateur": ("utilisateurview", "utilisateur", "utilisateur_etablissement_a",
                    "utilisateur_etablissement_b"),
    "EmailEnvoye": ("emailenvoyeview", None, None, None),
    "Actualite": ("actualiteview", "actualite", None, None),
    "MotifType": ("motiftypeview", None, None, None),
    "Habilitation": ("habilitationview", "habilitation", "hab_a1", "hab_b1"),
}
# Screens a resource does not have at all (404 for everyone): decisions are not "edits".
NO_ROUTE = {("Habilitation", "edit"), ("Habilitation", "delete"), ("Habilitation", "put")}
CASES = [pytest.param(role, resource, id=f"{role.code}-{resource}")
         for role in R.ROLES for resource in RESOURCES]


def expected(role, resource, right, *, other=False, row=True):
    if not matrix.allowed(role, resource, right):
        return 403
    if other and role.scope != R.NATIONAL:
        return 404
    if row and role.scope == R.CERTIFICATEUR:  # a jury sees only its certificateur's rows
        return 404
    return 200


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("role,resource", CASES)
def test_matrix(app, world, login, api_token, role, resource):
    view, api, own_key, other_key = RESOURCES[resource]
    username = world.usernames[role.code]
    client = login(username)
    headers = api_token(username)
    ids = dict(world.ids)
    if resource == "Habilitation":  # one pending request in each réseau
        from app.services import habilitations

        for key, etab in (("hab_a1", "etab_a1"), ("hab_b1", "etab_b1")):
            ids[key] = habilitations.demander({"etablissement_id": world.ids[etab]}, None).id
    own = ids.get(own_key)
    other = ids.get(other_key)
    checks = []  # (description, expected, actual)

    def check(description, want, response):
        checks.append((description, want, response.status_code))

    read, create, update, delete = matrix.READ, matrix.CREATE, matrix.UPDATE, matrix.DELETE
    check("UI list", expected(role, resource, read, row=False),
          client.get(f"/{view}/list/"))
    if own is not None:
        check("UI show own", expected(role, resource, read), client.get(f"/{view}/show/{own}"))
        check("UI show other", expected(role, resource, read, other=True),
              client.get(f"/{view}/show/{other}"))
        if (resource, "edit") not in NO_ROUTE:
            check("UI edit own", expected(role, resource, update),
                  client.get(f"/{view}/edit/{own}"))
            check("UI edit other", expected(role, resource, update, other=True),
                  client.get(f"/{view}/edit/{other}"))
        if (resource != "Utilisateur" and role.scope != R.NATIONAL
                and (resource, "delete") not in NO_ROUTE):
            check("UI delete other", expected(role, resource, delete, other=True),
                  client.post(f"/{view}/delete/{other}"))
    if resource not in ("EmailEnvoye",):
        check("UI add form", expected(role, resource, create, row=False),
              client.get(f"/{view}/add"))
    if resource == "Utilisateur" and role.scope != R.NATIONAL:
        for action in ("suspendre", "activer", "reinitialiser"):
            check(f"UI {action} other", expected(role, resource, update, other=True),
                  client.post(f"/{view}/{action}/{other}"))
    if api:
        base = f"/api/v1/{api}/"
        client = app.test_client()  # the API with the JWT only, no session cookie
        check("API list", expected(role, resource, read, row=False),
              client.get(base, headers=headers))
        if own is not None:
            check("API get own", expected(role, resource, read),
                  client.get(f"{base}{own}", headers=headers))
            check("API get other", expected(role, resource, read, other=True),
                  client.get(f"{base}{other}", headers=headers))
        want_post = 400 if matrix.allowed(role, resource, create) else 403
        check("API post (empty body)", want_post, client.post(base, json={}, headers=headers))
        if role.scope != R.NATIONAL and other is not None and (resource, "put") not in NO_ROUTE:
            check("API put other", expected(role, resource, update, other=True),
                  client.put(f"{base}{other}", json={"nom": "x"}, headers=headers))
            if resource != "Utilisateur":
                check("API delete other", expected(role, resource, delete, other=True),
                      client.delete(f"{base}{other}", headers=headers))
            else:
                for action in ("suspendre", "activer", "reinitialiser"):
                    check(f"API {action} other", expected(role, resource, update, other=True),
                          client.post(f"{base}{other}/{action}", headers=headers))
    wrong = [c for c in checks if c[1] != c[2]]
    assert not wrong, "\n".join(f"{d}: attendu {w}, obtenu {g}" for d, w, g in wrong)


@pytest.mark.parametrize("role", R.ROLES, ids=lambda r: r.code)
def test_self_service_screens(app, world, login, role):
    """Profile pop-up and search-as-you-type lookups: every role, as the matrix says."""
    client = login(world.usernames[role.code])
    want = 200 if matrix.allowed(role, "Profil", matrix.READ) else 403
    assert client.get("/profil/").status_code == want
    assert client.get("/lookup/organisme").status_code == want
    assert client.get("/aide/").status_code == want
    want = 302 if matrix.allowed(role, "Profil", matrix.UPDATE) else 403
    response = client.post("/profil/enregistrer", data={
        "first_name": "Test", "last_name": role.code, "email": f"{role.code}_a@test.fr"})
    assert response.status_code == want
    assert client.post("/profil/notifications", data={}).status_code == want
    want = 200 if matrix.allowed(role, "Notification", matrix.READ) else 403
    assert client.get("/notifications/").status_code == want
    # Last: « Se déconnecter de tous les appareils » ends this client's session too.
    want = 302 if matrix.allowed(role, "Profil", matrix.UPDATE) else 403
    assert client.post("/profil/deconnecter-partout").status_code == want


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_anonymous_is_sent_to_login_and_api_says_401(app, resource):
    view, api, *_ = RESOURCES[resource]
    client = app.test_client()
    response = client.get(f"/{view}/list/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    if api:
        response = client.get(f"/api/v1/{api}/")
        assert response.status_code == 401
        assert response.json["message"] == "Authentification requise."


def test_refusals_are_french_json(app, world, api_token):
    headers = api_token(world.usernames["utilisateur_etablissement"])
    response = app.test_client().get(f"/api/v1/organisme/{world.ids['org_b1']}",
                                     headers=headers)
    assert response.status_code == 404
    assert response.json == {"message": "Introuvable ou hors de votre périmètre."}
    response = app.test_client().post("/api/v1/organisme/", json={}, headers=headers)
    assert response.status_code == 403
    assert response.json == {"message": "Votre rôle ne permet pas cette action."}


def test_closed_fab_routes_do_not_leak(app, world, login):
    """FAB's @action and download routes skip base_filters: they are closed here."""
    client = login(world.usernames["admin_reseau"])
    other = world.ids["org_b1"]
    assert client.get(f"/organismeview/action/anything/{other}").status_code == 404
    assert client.post("/organismeview/action_post", data={"action": "x",
                                                           "rowid": [other]}).status_code == 404
    assert client.get("/organismeview/download/secret.pdf").status_code == 404


def test_lists_show_only_the_perimeter(app, world, login):
    client = login(world.usernames["admin_reseau"])
    page = client.get("/organismeview/list/").get_data(as_text=True)
    assert "ORG_A1" in page and "ORG_A2" in page and "ORG_B1" not in page
    client = login(world.usernames["admin_etablissement"])
    page = client.get("/etablissementview/list/").get_data(as_text=True)
    assert "ETAB_A1" in page and "ETAB_B1" not in page and "ETAB_A2" not in page
    page = client.get("/utilisateurview/list/").get_data(as_text=True)
    assert "utilisateur_etablissement_a" in page and "admin_reseau_a" not in page


def test_lookup_is_scoped(app, world, login):
    client = login(world.usernames["admin_organisme"])
    names = {r["text"] for r in client.get("/lookup/etablissement").json["results"]}
    assert names == {"ETAB_A1", "ETAB_A1B"}
    assert client.get("/lookup/certificateur").json["results"] == []
    assert client.get("/lookup/nope").status_code == 404


# Two-factor login routes: (method, path, matrix resource, right, status when allowed).
# Each user's own pages are « Profil » pages; the reset of someone else's is « DeuxFacteurs ».
TWO_FACTOR_ROUTES = [
    ("get", "/profil/deux-facteurs/activer", "Profil", matrix.UPDATE, 200),
    ("get", "/profil/deux-facteurs/codes-de-secours", "Profil", matrix.READ, 302),
    ("post", "/profil/deux-facteurs/codes-notes", "Profil", matrix.UPDATE, 302),
    ("get", "/profil/deux-facteurs/regenerer", "Profil", matrix.UPDATE, 302),
    ("get", "/profil/deux-facteurs/desactiver", "Profil", matrix.UPDATE, 302),
    ("post", "/deux-facteurs/reinitialiser/{own}", "DeuxFacteurs", matrix.UPDATE, 200),
    ("post", "/deux-facteurs/reinitialiser/{other}", "DeuxFacteurs", matrix.UPDATE, 200),
]


@pytest.mark.parametrize("role", R.ROLES, ids=lambda r: r.code)
def test_two_factor_routes(app, world, login, role):
    client = login(world.usernames[role.code])
    ids = {"own": world.ids["utilisateur_etablissement_a"],
           "other": world.ids["utilisateur_etablissement_b"]}
    wrong = []
    for method, path, resource, right, allowed in TWO_FACTOR_ROUTES:
        url = path.format(**ids)
        want = allowed if matrix.allowed(role, resource, right) else 403
        if want == 200 and "{other}" in path and role.scope != R.NATIONAL:
            want = 404
        got = getattr(client, method)(url).status_code
        if got != want:
            wrong.append(f"{method.upper()} {url}: attendu {want}, obtenu {got}")
    assert not wrong, "\n".join(wrong)


def test_two_factor_routes_anonymous(app, world):
    client = app.test_client()
    for method, path, *_rest in TWO_FACTOR_ROUTES + [("get", "/connexion/code")]:
        url = path.format(own=world.ids["utilisateur_etablissement_a"],
                          other=world.ids["utilisateur_etablissement_b"])
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response.headers["Location"], url
