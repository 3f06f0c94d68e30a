"""Issue 15, « Never 500 »: a body that names a row outside the caller's perimeter is a 404.

The services find the rows a body names with the perimeter (`perimeter.get_or_404`), which
raises NotFound; FAB's @safe turned every exception of an API view, that one included, into
« Erreur inattendue » with a 500 (found by schemathesis: POST evaluation, formation,
habilitation, candidature with another réseau's ids). The refusal now keeps its status, in
French, and nothing is written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.candidature import Candidature
from app.models.structure import Etablissement, Reseau
from app.models.evaluation import Evaluation
from app.models.evaluation import Formation
from app.models.habilitation import Habilitation
from app.services import candidatures
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import dossier, habiliter
from tests.world import user

OUTSIDE = "Introuvable ou hors de votre périmètre."


def rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def other_reseau(app, world):
    """A dossier of réseau B, out of reach of réseau A's établissement user."""
    habiliter(world, "etab_a1", "etab_b1")
    theirs = candidatures.creer(dossier(world, "etab_b1"), user("admin_reseau_b"))
    return theirs.id


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_bodies_naming_another_perimeter_are_refused_with_404(app, world, api_token,
                                                              other_reseau):
    client = app.test_client()
    etab, reseau = api_token("utilisateur_etablissement_a"), api_token("admin_reseau_a")
    cases = {
        "/api/v1/evaluation/": ({"candidature_id": other_reseau}, Evaluation, etab),
        "/api/v1/formation/": ({"candidature_id": other_reseau, "intitule": "Bureautique",
                                "date_debut": "2026-01-05", "date_fin": "2026-01-09",
                                "duree_heures": 35}, Formation, etab),
        "/api/v1/habilitation/": ({"etablissement_id": world.ids["etab_b1"]}, Habilitation,
                                  reseau),
        "/api/v1/candidature/": (dossier(world, "etab_b1"), Candidature, etab),
    }
    for url, (body, model, headers) in cases.items():
        before = rows(model)
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 404, (url, response.status_code, response.json)
        assert response.json["message"] == OUTSIDE, url
        assert rows(model) == before, url


def test_unknown_ids_in_bodies_are_404_and_the_next_request_works(app, world, api_token):
    client = app.test_client()
    headers = api_token("certif_pro_a")
    for url, body in (("/api/v1/evaluation/", {"candidature_id": 2_000_000_000}),
                      ("/api/v1/habilitation/", {"etablissement_id": 2_000_000_000})):
        response = client.post(url, json=body, headers=headers)
        assert (response.status_code, response.json["message"]) == (404, OUTSIDE), url
    # the refused request's transaction is gone: the session serves the next one
    listing = client.get("/api/v1/habilitation/", headers=headers)
    assert listing.status_code == 200 and "result" in listing.json


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_numbers_no_column_holds_are_refused_naming_the_field(app, world, api_token):
    """An integer past 32 bits reached the database, which refused it with a 500 (found by
    schemathesis: POST etablissement with organisme_id 10000000000000000001, rattachement
    with a negative one of 24 digits); NaN and the infinities, which Python's JSON accepts,
    as well."""
    client = app.test_client()
    headers = {**api_token("certif_pro_a"), "Content-Type": "application/json"}
    out_of_range = "nombre hors des limites permises (entre -2 147 483 648 et 2 147 483 647)."
    cases = (
        ("POST", "/api/v1/etablissement/",
         '{"nom": "Annexe", "siret": "x", "organisme_id": 10000000000000000001}',
         "organisme_id", out_of_range),
        ("POST", "/api/v1/rattachement/",
         '{"candidature_id": -93080170018001060364288, "motif": "x"}',
         "candidature_id", out_of_range),
        ("PUT", f"/api/v1/etablissement/{world.ids['etab_a1']}",
         '{"organisme_id": [1, 99999999999]}', "organisme_id", out_of_range),
        ("POST", "/api/v1/formation/", '{"candidature_id": 1, "duree_heures": NaN}',
         "duree_heures", "nombre invalide."),
        ("POST", "/api/v1/formation/", '{"candidature_id": 1, "duree_heures": -Infinity}',
         "duree_heures", "nombre invalide."),
    )
    before = rows(Etablissement)
    for method, url, body, field, reason in cases:
        response = client.open(url, method=method, data=body, headers=headers)
        assert response.status_code == 400, (url, response.status_code, response.json)
        assert response.json == {"field": field, "message": f"« {field} » : {reason}"}, url
    assert rows(Etablissement) == before
    # the bounds themselves are numbers like any other: the service answers
    response = client.post("/api/v1/evaluation/", json={"candidature_id": 2 ** 31 - 1},
                           headers=headers)
    assert (response.status_code, response.json["message"]) == (404, OUTSIDE)


def test_wrong_types_are_refused_before_the_service(app, world, api_token):
    """A boolean for a telephone, a number for a name, a list for an id reached the services,
    which failed with a 500 (schemathesis, negative mode): the fields the operation describes
    are checked first, and the first wrong one is named."""
    client = app.test_client()
    headers = api_token("certif_pro_a")
    before = rows(Reseau)
    response = client.post("/api/v1/reseau/", headers=headers, json={
        "nom": "Réseau Z", "contact_email": None, "contact_telephone": True})
    assert response.status_code == 400
    assert response.json["field"] == "contact_telephone"
    assert response.json["message"] == "« contact_telephone » : Texte attendu."
    assert rows(Reseau) == before
    response = client.put(f"/api/v1/etablissement/{world.ids['etab_a1']}", headers=headers,
                          json={"nom": 12})
    assert (response.status_code, response.json["message"]) == (400, "« nom » : Texte attendu.")
    assert db.session.get(Etablissement, world.ids["etab_a1"]).nom == "ETAB_A1"
    response = client.post("/api/v1/rattachement/", headers=api_token(
        "utilisateur_etablissement_a"), json={"candidature_id": [[{}], [None]], "motif": "x"})
    assert response.status_code == 400
    assert response.json["details"]["candidature_id"] == ["Nombre entier attendu."]
    # right types: the service decides, as before
    response = client.post("/api/v1/reseau/", headers=headers, json={
        "nom": "Réseau Z", "contact_telephone": "01 02 03 04 05"})
    assert response.status_code == 201 and rows(Reseau) == before + 1


def test_a_q_the_rison_decoder_chokes_on_is_a_400(app, world, api_token):
    client = app.test_client()
    headers = api_token("certif_pro_a")
    for q in ("-2.8356429470955824e+16", "1e", "((("):
        for url in ("/api/v1/candidature/", "/api/v1/reseau/"):
            response = client.get(url, query_string={"q": q}, headers=headers)
            assert response.status_code == 400, (url, q, response.status_code)
            assert response.json == {
                "message": "Paramètre q invalide : objet rison ou JSON attendu."}, (url, q)
