"""Issue 15, « Every verb of the screens »: what the screens do, through the API, under the
same services — each verb by the role that has it, refused outside the perimeter (404) and
for a bad body (400 in French, naming the field). And the OpenAPI that describes them:
readable without a token, every path parameter declared, every refusal documented."""
from __future__ import annotations

import base64
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models.candidature import Candidature
from app.models.jury import EnvoiCertificat
from app.models.rattachement import Rattachement
from app.services import candidatures, certification, evaluations
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import dossier, habiliter
from tests.integration.test_jury import en_session
from tests.world import user

OF = "utilisateur_etablissement_a"
OUTSIDE = "Introuvable ou hors de votre périmètre."


@pytest.fixture
def mine(app, world):
    """A dossier of établissement A1 (réseau A), and one of réseau B."""
    habiliter(world, "etab_a1", "etab_b1")
    ours = candidatures.creer(dossier(world), user(OF))
    theirs = candidatures.creer(dossier(world, "etab_b1", nom_naissance="Lambert",
                                        prenoms="Hugo"), user("admin_reseau_b"))
    return ours.id, theirs.id


# --- PUT and DELETE /candidature/<id> ----------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_put_candidature_edits_the_dossier_as_the_pencil_does(app, world, api_token, mine):
    ours, theirs = mine
    client, headers = app.test_client(), api_token(OF)
    changed = client.put(f"/api/v1/candidature/{ours}", headers=headers, json={
        "nom_usage": "Martin", "ville": "Lyon", "objectif_pro": "Devenir cariste "
        "dans un entrepôt de la région lyonnaise."})
    assert changed.status_code == 200, changed.json
    db.session.expire_all()
    dossier_lu = db.session.get(Candidature, ours)
    assert dossier_lu.candidat.nom_usage == "Martin" and dossier_lu.candidat.ville == "Lyon"
    assert dossier_lu.objectif_pro.startswith("Devenir cariste")
    # a code the field does not take, a number for a date: 400 naming the field, nothing kept
    refused = client.put(f"/api/v1/candidature/{ours}", headers=headers,
                         json={"civilite": "Docteur"})
    assert refused.status_code == 400 and refused.json["field"] == "civilite"
    assert "civilite" in refused.json["message"]
    refused = client.put(f"/api/v1/candidature/{ours}", headers=headers,
                         json={"date_naissance": 12})
    assert refused.status_code == 400 and refused.json["field"] == "date_naissance"
    # the service's own rules: an objective too short
    refused = client.put(f"/api/v1/candidature/{ours}", headers=headers,
                         json={"objectif_pro": "Court"})
    assert refused.status_code == 400 and refused.json["field"] == "objectif_pro"
    db.session.expire_all()
    assert db.session.get(Candidature, ours).objectif_pro.startswith("Devenir cariste")
    # another réseau's dossier: 404, untouched
    outside = client.put(f"/api/v1/candidature/{theirs}", headers=headers,
                         json={"nom_usage": "Intrus"})
    assert outside.status_code == 404 and outside.json["message"] == OUTSIDE
    db.session.expire_all()
    assert db.session.get(Candidature, theirs).candidat.nom_usage != "Intrus"


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_delete_candidature_as_on_the_list(app, world, api_token, mine):
    ours, theirs = mine
    client = app.test_client()
    assert client.delete(f"/api/v1/candidature/{theirs}",
                         headers=api_token(OF)).status_code == 404
    deleted = client.delete(f"/api/v1/candidature/{ours}", headers=api_token(OF))
    assert deleted.status_code == 200, deleted.json
    assert db.session.get(Candidature, ours) is None
    assert db.session.get(Candidature, theirs) is not None


# --- the evaluation's matrice, and the dossier's rows by candidature_id -----------------

def _filtre(candidature_id: int) -> str:
    return f"?q=(filters:!((col:candidature_id,opr:eq,value:{candidature_id})))"


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_matrice_and_candidature_id_filters(app, world, api_token, mine):
    ours, theirs = mine
    autre = candidatures.creer(dossier(world, nom_naissance="Bernard", prenoms="Luc"), user(OF))
    mon_eval = evaluations.creer(db.session.get(Candidature, ours), user(OF))
    evaluations.creer(autre, user(OF))
    leur_eval = evaluations.creer(db.session.get(Candidature, theirs), user("admin_reseau_b"))
    client, headers = app.test_client(), api_token(OF)

    matrice = client.get(f"/api/v1/evaluation/{mon_eval.id}/matrice", headers=headers)
    assert matrice.status_code == 200
    assert matrice.mimetype.endswith("spreadsheetml.sheet")
    assert load_workbook(io.BytesIO(matrice.data)).sheetnames
    assert client.get(f"/api/v1/evaluation/{leur_eval.id}/matrice",
                      headers=headers).status_code == 404

    listed = client.get("/api/v1/evaluation/" + _filtre(ours), headers=headers)
    assert listed.status_code == 200, listed.json
    assert [row["candidature_id"] for row in listed.json["result"]] == [ours]
    for resource in ("formation", "document"):
        answer = client.get(f"/api/v1/{resource}/" + _filtre(ours), headers=headers)
        assert answer.status_code == 200, (resource, answer.json)
        assert all(row["candidature_id"] == ours for row in answer.json["result"])
    # another réseau's dossier: no row, never its evaluations
    assert client.get("/api/v1/evaluation/" + _filtre(theirs),
                      headers=headers).json["result"] == []


# --- a rattachement from a search hit outside the perimeter ------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_search_hit_outside_carries_an_opaque_handle_for_a_rattachement(app, world, api_token,
                                                                        mine):
    _ours, theirs = mine
    client, headers = app.test_client(), api_token(OF)
    hits = client.get("/api/v1/recherche/?q=Lambert Hugo", headers=headers).json["result"]
    (hit,) = [h for h in hits if h["nom_naissance"] == "Lambert"]
    assert hit["dans_perimetre"] is False and hit["candidature_id"] is None
    handle = hit["jeton_rattachement"]
    # encrypted: neither the text nor its base64 decoding shows what it names (the dossier's
    # and the user's ids; random ciphertext bytes may well contain « 2: » by chance, the whole
    # plain text practically never), and the same search gives another handle each time
    assert isinstance(handle, str) and len(handle) > 40
    plain = f"{theirs}:{user(OF).id}".encode()
    assert plain not in handle.encode() and plain not in base64.urlsafe_b64decode(handle)
    again = client.get("/api/v1/recherche/?q=Lambert Hugo", headers=headers).json["result"]
    assert [h["jeton_rattachement"] for h in again if h["nom_naissance"] == "Lambert"] != [handle]
    demande = {"etablissement_cible_id": world.ids["etab_a1"], "motif": "demenagement",
               "motif_texte": "Le candidat habite désormais à Paris."}
    # another user's handle, or a made-up one: refused in French, nothing asked
    other = api_token("admin_reseau_a")
    refused = client.post("/api/v1/rattachement/", headers=other, json={**demande,
                                                                        "jeton": handle})
    assert refused.status_code == 400 and refused.json["field"] == "jeton"
    assert "refaites la recherche" in refused.json["message"]
    refused = client.post("/api/v1/rattachement/", headers=headers,
                          json={**demande, "jeton": "pas-un-jeton"})
    assert refused.status_code == 400 and refused.json["field"] == "jeton"
    # the id alone never reaches a dossier outside the perimeter: the same 404 as an id
    # that names nothing, so that ids cannot be probed
    for probe in (theirs, 2_000_000_000):
        refused = client.post("/api/v1/rattachement/", headers=headers,
                              json={**demande, "candidature_id": probe})
        assert refused.status_code == 404, refused.json
        assert refused.json["message"] == "Introuvable ou hors de votre périmètre."
    assert db.session.scalars(select(Rattachement)).all() == []
    asked = client.post("/api/v1/rattachement/", headers=headers, json={**demande,
                                                                       "jeton": handle})
    assert asked.status_code == 201, asked.json
    (request_row,) = db.session.scalars(select(Rattachement)).all()
    assert request_row.candidature_id == theirs
    assert request_row.etablissement_cible_id == world.ids["etab_a1"]


# --- shipments of paper certificates (Certif Pro) ----------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_shipments_listed_recorded_and_read_back(app, world, api_token):
    habiliter(world, "etab_a1")
    _session, (c,) = en_session(world, certificat_papier=True)
    certification.decider(c, "certifiee", "", user("jury_a"))
    certificat = certification.certificat_de(c)
    client, headers = app.test_client(), api_token("certif_pro_a")

    waiting = client.get("/api/v1/envoi/a-expedier", headers=headers)
    assert waiting.status_code == 200, waiting.json
    (row,) = waiting.json["result"]
    assert row["id"] == certificat.id and row["numero"] == certificat.numero
    assert "DUPRÉ" in row["adresse"].upper() or "DUPRE" in row["adresse"].upper()

    for body, field in (({"certificats": [certificat.id]}, "date_envoi"),
                        ({"certificats": "tous", "date_envoi": "2026-01-05"}, "certificats"),
                        ({"certificats": [], "date_envoi": "2026-01-05"}, "certificats"),
                        ({"certificats": [certificat.id], "date_envoi": "2999-01-01"},
                         "date_envoi")):
        refused = client.post("/api/v1/envoi/", headers=headers, json=body)
        assert refused.status_code == 400 and refused.json["field"] == field, refused.json
    assert db.session.scalars(select(EnvoiCertificat)).all() == []

    recorded = client.post("/api/v1/envoi/", headers=headers, json={
        "certificats": [certificat.id], "date_envoi": "2026-01-05"})
    assert recorded.status_code == 201, recorded.json
    assert recorded.json["message"].startswith("Envoi enregistré : lot n°")
    lot_id = recorded.json["id"]
    assert client.get("/api/v1/envoi/a-expedier", headers=headers).json["result"] == []
    # the same certificate is not shipped twice: 409, no second lot
    again = client.post("/api/v1/envoi/", headers=headers, json={
        "certificats": [certificat.id], "date_envoi": "2026-01-06"})
    assert again.status_code == 409 and again.json["field"] == "certificats"
    assert again.json["message"] == f"Déjà envoyé (un lot le contient) : {certificat.numero}."
    assert len(db.session.scalars(select(EnvoiCertificat)).all()) == 1
    lots = client.get("/api/v1/envoi/lots", headers=headers).json["result"]
    assert lots[0]["id"] == lot_id and lots[0]["certificats"] == 1
    lot = client.get(f"/api/v1/envoi/lots/{lot_id}", headers=headers).json
    assert [r["numero"] for r in lot["result"]] == [certificat.numero]
    assert client.get("/api/v1/envoi/lots/2147483647", headers=headers).status_code == 404
    # shipments are Certif Pro's desk: an organisme's staff is refused
    for username in ("admin_reseau_a", OF):
        refused = client.get("/api/v1/envoi/a-expedier", headers=api_token(username))
        assert refused.status_code == 403, username


# --- the OpenAPI that describes them -----------------------------------------------------

def test_the_openapi_is_readable_without_a_token_and_declares_what_it_answers(app, world):
    answer = app.test_client().get("/api/v1/_openapi")
    assert answer.status_code == 200
    spec = answer.json
    assert spec["info"]["title"] == "API de la plateforme CléA"
    paths = spec["paths"]
    for path in ("/api/v1/candidature/{pk}/envoyer", "/api/v1/evaluation/{pk}/matrice",
                 "/api/v1/envoi/lots/{pk}", "/api/v1/jury/{pk}/cloturer"):
        operation = next(iter(op for m, op in paths[path].items() if m in ("get", "post")))
        (param,) = [p for p in operation["parameters"] if p["in"] == "path"]
        assert param["name"] == "pk" and param["required"] is True
        assert param["schema"]["type"] == "integer" and param["schema"]["minimum"] == 1
        assert {"400", "401", "403", "404", "500"} <= set(map(str, operation["responses"]))
        assert operation["summary"] and "Get" not in operation["summary"]
    put = paths["/api/v1/candidature/{pk}"]["put"]
    assert "409" in put["responses"] and "requestBody" in put
    body = spec["components"]["schemas"]["CandidatureApi.put"]["properties"]
    assert {"nom_naissance", "date_naissance", "objectif_pro", "ville"} <= set(body)
    assert set(body["civilite"]["enum"]) == {"M.", "Mme"}
    creation = spec["components"]["schemas"]["CandidatureApi.post"]
    assert {"etablissement_id", "nom_naissance", "prenoms"} <= set(creation["required"])
    error = spec["components"]["responses"]["404"]
    assert error["description"] == OUTSIDE
    texts = str(spec)
    for english in ("Get a list of models", "Item from Model", "Will be translated by babel"):
        assert english not in texts


# --- bodies that name no dossier, documents once deleted ---------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_body_naming_no_dossier_is_a_400_and_a_deleted_document_is_gone(app, world,
                                                                           api_token, mine):
    ours, _theirs = mine
    client, headers = app.test_client(), api_token(OF)
    for url in ("/api/v1/evaluation/", "/api/v1/formation/"):
        for body in ({}, {"candidature_id": "abc"}, {"candidature_id": 1.5},
                     {"candidature_id": None}):
            refused = client.post(url, headers=headers, json=body)
            assert refused.status_code == 400, (url, body, refused.json)
            assert refused.json["field"] == "candidature_id", (url, body, refused.json)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    refused = client.post("/api/v1/document/", headers=headers, data={
        "fichier": (io.BytesIO(pdf), "piece.pdf")}, content_type="multipart/form-data")
    assert refused.status_code == 400 and refused.json["field"] == "candidature_id"
    refused = client.post("/api/v1/document/", headers=headers, data={
        "fichier": (io.BytesIO(pdf), "piece.pdf"), "candidature_id": str(ours),
        "evaluation_id": "abc"}, content_type="multipart/form-data")
    assert refused.status_code == 400 and refused.json["field"] == "evaluation_id"
    sent = client.post("/api/v1/document/", headers=headers, data={
        "fichier": (io.BytesIO(pdf), "piece.pdf"), "candidature_id": str(ours)},
        content_type="multipart/form-data")
    assert sent.status_code == 201, sent.json
    pk = sent.json["id"]
    assert client.delete(f"/api/v1/document/{pk}", headers=headers).status_code == 200
    # gone for the API as for the screens: not read, not listed, not deleted twice
    assert client.get(f"/api/v1/document/{pk}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/document/{pk}/fichier", headers=headers).status_code == 404
    listed = client.get("/api/v1/document/", headers=headers, query_string={
        "q": f"(filters:!((col:candidature_id,opr:eq,value:{ours})))"}).json
    assert pk not in listed["ids"]
    assert client.delete(f"/api/v1/document/{pk}", headers=headers).status_code == 404
