"""OpenAPI and Swagger UI are served; the API login gives a JWT."""


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


def test_api_login_refuses_bad_password_in_json(app, world):
    response = app.test_client().post("/api/v1/security/login", json={
        "username": world.usernames["certif_pro"], "password": "faux", "provider": "db"})
    assert response.status_code == 401
