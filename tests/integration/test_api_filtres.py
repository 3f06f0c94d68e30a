"""Issue 15, never 500: a filter of `q` whose value does not suit its column (a list for a
text, an integer past 64 bits, a text for a number) is a French 400 naming the column, on
every list; an audit filter's id past the ids' range too."""
from __future__ import annotations

import pytest

from tests.conftest import BACKENDS

CP = "certif_pro_a"


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_filter_values_that_no_column_holds_are_refused_in_french(app, world, api_token):
    client, headers = app.test_client(), api_token(CP)
    cases = [
        ("reseau", "nom", "ct", "!(1)", "attend un texte"),
        ("etablissement", "nom", "ct", "!((a:1))", "attend un texte"),
        ("candidature", "etablissement_id", "eq", "99999999999999999999",
         "attend un nombre entier"),
        ("evaluation", "candidature_id", "eq", "'abc'", "attend un nombre entier"),
        ("document", "candidature_id", "eq", "!(1,2)", "attend un nombre entier"),
        ("utilisateur", "username", "ct", "!(x)", "attend un texte"),
    ]
    for resource, col, opr, value, reason in cases:
        q = f"(filters:!((col:{col},opr:{opr},value:{value})))"
        response = client.get(f"/api/v1/{resource}/", query_string={"q": q}, headers=headers)
        assert response.status_code == 400, (resource, q, response.status_code, response.json)
        message = response.json["message"]
        # refused by the column's check, or earlier by the rison schema of `q`
        assert message == "Paramètre q invalide : objet rison ou JSON attendu." or (
            message.startswith("Filtre refusé : « " + col) and reason in message), message
    # a number for a text column is read as its digits, as the user typed them
    ok = client.get("/api/v1/etablissement/", headers=headers,
                    query_string={"q": "(filters:!((col:nom,opr:ct,value:9)))"})
    assert ok.status_code == 200 and ok.json["result"] == []
    for value in ("99999999999999999999", "-1", "abc"):
        response = client.get("/api/v1/audit/", query_string={"objet_id": value},
                              headers=headers)
        assert response.status_code == 400 and response.json["field"] == "objet_id", value


def test_an_unknown_or_incomplete_filter_is_refused_not_ignored(app, world, api_token):
    """FAB dropped a filter whose operation it did not know: every row of the perimeter."""
    client, headers = app.test_client(), api_token(CP)
    for q, expected in (
            ("(filters:!((col:nom,opr:zz,value:x)))", "l'opération « zz » n'est pas permise"),
            ("(filters:!((col:nom,value:x)))", "Paramètre q invalide"),
            ("(filters:!((col:nom,opr:ct)))", "Paramètre q invalide")):
        response = client.get("/api/v1/reseau/", query_string={"q": q}, headers=headers)
        assert response.status_code == 400, (q, response.json)
        assert expected in response.json["message"], response.json


def test_bodies_and_q_the_database_cannot_store_are_refused(app, world, api_token):
    """Found by the second review: a lone surrogate or a NUL in a text (the database refuses
    them: 500), thousands of nested brackets (the JSON parser gives up: 500), a list of a
    million ids; on the anonymous login too."""
    client, headers = app.test_client(), api_token(CP)
    bodies = ('{"nom": "A\\ud800"}', '{"nom": "A\\u0000B"}', "[" * 50_000 + "]" * 50_000,
              '{"ids": [' + ",".join(["1"] * 10_001) + "]}")
    for url, auth in (("/api/v1/reseau/", headers), ("/api/v1/security/login", {})):
        for body in bodies:
            response = client.post(url, data=body, headers={
                **auth, "Content-Type": "application/json"})
            assert response.status_code == 400, (url, body[:30], response.status_code)
            assert response.json["message"], response.json
    response = client.get("/api/v1/reseau/", headers=headers,
                          query_string={"q": '{"filters": [{"col": "nom", "opr": "ct", '
                                             '"value": "\\ud800"}]}'})
    assert response.status_code == 400
    response = client.get("/api/v1/reseau/", headers=headers, query_string={"q": "x" * 5000})
    assert response.status_code == 400


def test_a_collection_without_its_slash_says_where_in_french(app, world, api_token):
    response = app.test_client().post("/api/v1/reseau", json={}, headers=api_token(CP))
    assert response.status_code == 308 and response.headers["Location"].endswith(
        "/api/v1/reseau/")
    assert response.json["message"].startswith("Cette adresse s'écrit avec une barre finale")


def test_a_search_longer_than_its_bound_is_refused(app, world, api_token):
    response = app.test_client().get("/api/v1/recherche/", query_string={"q": "B" * 201},
                                     headers=api_token(CP))
    assert response.status_code == 400 and response.json["field"] == "q"
    assert response.json["message"] == "« q » : Au plus 200 caractères."
