import pytest
from tests.world import PASSWORD

def show(label, r):
    print("\n=====", label, r.status_code, r.headers.get("Content-Type"), r.headers.get("Location"))
    print(r.get_data(as_text=True)[:600])

def test_probe(app, login, api_token, world):
    c = login("admin_reseau_a")
    target = world.ids["utilisateur_etablissement_a"]
    show("cookie suspend", c.post(f"/api/v1/utilisateur/{target}/suspendre"))
    show("405", c.get(f"/utilisateur/suspendre/{target}"))
    show("400 via api?", c.post("/api/v1/utilisateur/", data="x", content_type="text/plain"))
    anon = app.test_client()
    show("anon page", anon.get("/dossiers/list/"))
    show("anon api", anon.get("/api/v1/utilisateur/"))
    show("bad login api", anon.post("/api/v1/security/login", json={"username": "x", "password": "y", "provider": "db"}))
    show("bad login api2", anon.post("/api/v1/security/login", json={"username": "x"}))
    show("bad login api3", anon.post("/api/v1/security/login", data="x"))
    show("menu", anon.get("/api/v1/menu/"))
    show("rison", c.get("/api/v1/utilisateur/?q=(((("))
    show("notfound", c.get("/api/v1/nothing"))
    show("big", c.post("/profil/enregistrer", data={"first_name": "x" * (21 * 1024 * 1024)}))
    show("big api", c.post("/api/v1/utilisateur/", data="x" * (21 * 1024 * 1024), content_type="application/json"))
    show("next", c.post("/profil/enregistrer", data={"first_name": "A", "last_name": "B", "email": "admin_reseau_a@test.fr", "next": "https://evil.example/"}))
    show("lookup_label", c.get(f"/utilisateur/add?etablissement_id={world.ids['etab_b1']}"))
    r = c.post("/utilisateur/add", data={"username": "zz", "first_name": "a", "last_name": "b", "email": "zz@test.fr", "role": "utilisateur_etablissement", "etablissement_id": world.ids["etab_b1"]})
    print(r.status_code, "ETAB_B1" in r.get_data(as_text=True))
    import re
    print(re.findall(r"help-block[^<]*<[^>]*>[^<]*|hors de votre[^<]*", r.get_data(as_text=True))[:5])
