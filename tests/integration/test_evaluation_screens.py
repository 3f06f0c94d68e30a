"""The evaluation grid over HTTP: create from the dossier, save a draft, 409 keeps the input,
upload the matrice, finalize, download a document inside the perimeter only, reopen."""
from __future__ import annotations

import html
import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models.evaluation import Document, Evaluation
from app.services import candidatures
from tests.integration.test_candidatures import dossier, habiliter
from tests.world import user


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def xlsx() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def test_grid_journey_over_http(app, world, login):
    habiliter(world, "etab_a1")
    cand = candidatures.creer(dossier(world), user("utilisateur_etablissement_a"))
    client = login("utilisateur_etablissement_a")
    page = T(client.get(f"/candidature/{cand.id}"))
    assert "Ajouter une évaluation" in page and "attestations correspondantes" in page
    response = client.post(f"/evaluation/ajouter/{cand.id}")
    ev = db.session.execute(select(Evaluation)).scalar_one()
    assert response.headers["Location"].endswith(f"/evaluation/{ev.id}")
    grid = T(client.get(f"/evaluation/{ev.id}"))
    assert grid.count('class="clea-sous-domaine"') == 28 and grid.count("<details") == 7
    assert '<span id="clea-compteur">0</span> / 28' in grid
    form = {"version": str(ev.version), "evaluateur": "Jeanne Eval",
            "date_evaluation": "2026-11-20"}
    for r in ev.resultats:
        form[f"acquis_{r.sous_domaine_id}"] = "acquis"
    response = client.post(f"/evaluation/{ev.id}/enregistrer", data=form, follow_redirects=True)
    assert "vous pourrez la reprendre plus tard" in T(response)
    assert "Continuer l'évaluation en cours" in T(client.get(f"/candidature/{cand.id}"))
    stale = client.post(f"/evaluation/{ev.id}/enregistrer",
                        data={**form, "evaluateur": "Autre Nom"})
    assert stale.status_code == 409 and 'value="Autre Nom"' in T(stale)
    matrice = client.get(f"/evaluation/{ev.id}/matrice")
    assert load_workbook(io.BytesIO(matrice.data))["Candidat"]["B4"].value == "Dupré"
    refused = client.post(f"/evaluation/{ev.id}/finaliser", follow_redirects=True)
    assert "la matrice d'évaluation complétée et signée" in T(refused)
    client.post(f"/evaluation/{ev.id}/deposer", data={
        "nature": "matrice", "fichier": (io.BytesIO(b"MZ" + b"\0" * 100), "matrice.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert db.session.execute(select(Document)).first() is None
    response = client.post(f"/evaluation/{ev.id}/deposer", data={
        "nature": "matrice", "fichier": (io.BytesIO(xlsx()), "matrice signée.xlsx")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Fichier « matrice signée.xlsx » déposé." in T(response)
    response = client.post(f"/evaluation/{ev.id}/finaliser", data={"confirme": "1"},
                           follow_redirects=True)
    assert "Évaluation finalisée : Validé." in T(response)
    db.session.refresh(cand)
    assert cand.statut == "a_envoyer"
    doc = db.session.execute(select(Document)).scalar_one()
    from app.services import documents

    assert client.get(f"/evaluation/document/{doc.id}").data == documents.chemin(doc).read_bytes()
    assert login("utilisateur_etablissement_b").get(
        f"/evaluation/document/{doc.id}").status_code == 404
    assert "Rouvrir l'évaluation" not in T(client.get(f"/evaluation/{ev.id}"))
    admin = login("admin_organisme_a")
    assert "Rouvrir l'évaluation" in T(admin.get(f"/evaluation/{ev.id}"))
    response = admin.post(f"/evaluation/{ev.id}/rouvrir", follow_redirects=True)
    assert "L'évaluation est rouverte." in T(response)
    db.session.refresh(cand)
    assert cand.statut == "attente_eval_prealable"


def test_formations_tab(app, world, login):
    habiliter(world, "etab_a1", "etab_b1")
    cand = candidatures.creer(dossier(world), user("utilisateur_etablissement_a"))
    client = login("utilisateur_etablissement_a")
    listing = T(client.get("/formations/"))
    assert f"/formations/dossier/{cand.id}" in listing and "ouvrez son onglet" in listing
    page = T(client.get(f"/formations/dossier/{cand.id}"))
    assert "Aucune formation enregistrée" in page
    bad = client.post(f"/formations/dossier/{cand.id}/ajouter", data={
        "intitule": "Numérique", "organisme_formateur": "OF", "formateur": "Paul",
        "date_debut": "2026-10-10", "date_fin": "2026-10-01", "duree_heures": "7",
        "modalite": "distanciel"})
    assert bad.status_code == 400 and "postérieure à la date de début" in T(bad)
    assert 'value="Numérique"' in T(bad)
    ok = client.post(f"/formations/dossier/{cand.id}/ajouter", data={
        "intitule": "Numérique", "organisme_formateur": "OF", "formateur": "Paul",
        "date_debut": "2026-10-01", "date_fin": "2026-10-10", "duree_heures": "7,5",
        "modalite": "distanciel"}, follow_redirects=True)
    assert "Joignez maintenant l'attestation" in T(ok) and "aucune : joignez" in T(ok)
    from app.models.evaluation import Formation

    formation = db.session.execute(select(Formation)).scalar_one()
    pdf = b"%PDF-1.4\n%%EOF\n"
    response = client.post(f"/formations/dossier/attestation/{formation.id}", data={
        "fichier": (io.BytesIO(pdf), "attestation.pdf")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "Fichier « attestation.pdf » déposé." in T(response)
    assert "aucune : joignez" not in T(response)
    other = login("utilisateur_etablissement_b")
    assert other.get(f"/formations/dossier/{cand.id}").status_code == 404
    assert other.post(f"/formations/dossier/attestation/{formation.id}").status_code == 404


def test_api_evaluation_formation_document(app, world, api_token):
    habiliter(world, "etab_a1")
    cand = candidatures.creer(dossier(world), user("utilisateur_etablissement_a"))
    client = app.test_client()
    headers = api_token("utilisateur_etablissement_a")
    created = client.post("/api/v1/evaluation/", json={"candidature_id": cand.id},
                          headers=headers)
    assert created.status_code == 201, created.json
    pk = created.json["id"]
    lines = client.get(f"/api/v1/evaluation/{pk}/resultats", headers=headers).json["result"]
    assert len(lines) == 28 and lines[0]["code"] == "1.1"
    body = {"version": 1, "evaluateur": "Jeanne", "date_evaluation": "2026-11-20",
            "resultats": {str(line["sous_domaine_id"]): {"acquis": True} for line in lines}}
    assert client.put(f"/api/v1/evaluation/{pk}", json=body, headers=headers).status_code == 200
    stale = client.put(f"/api/v1/evaluation/{pk}", json=body, headers=headers)
    assert stale.status_code == 409 and "par quelqu'un d'autre" in stale.json["message"]
    missing = client.post(f"/api/v1/evaluation/{pk}/finaliser", headers=headers)
    assert missing.status_code == 400 and "matrice" in missing.json["message"]
    big = client.post("/api/v1/document/", headers=headers, content_type="multipart/form-data",
                      data={"candidature_id": str(cand.id), "evaluation_id": str(pk),
                            "nature": "matrice",
                            "fichier": (io.BytesIO(b"%PDF-1.4" + b"0" * (4 * 1024 * 1024)),
                                        "m.pdf")})
    assert big.status_code == 413 and "4 Mo" in big.json["message"]
    up = client.post("/api/v1/document/", headers=headers, content_type="multipart/form-data",
                     data={"candidature_id": str(cand.id), "evaluation_id": str(pk),
                           "nature": "matrice", "fichier": (io.BytesIO(xlsx()), "m.xlsx")})
    assert up.status_code == 201, up.json
    downloaded = client.get(f"/api/v1/document/{up.json['id']}/fichier", headers=headers)
    assert downloaded.status_code == 200 and downloaded.data[:2] == b"PK"
    done = client.post(f"/api/v1/evaluation/{pk}/finaliser", headers=headers)
    assert done.status_code == 200 and done.json["result"]["resultat"] == "valide"
    assert client.post(f"/api/v1/evaluation/{pk}/rouvrir",
                       headers=headers).status_code == 403
    assert client.post(f"/api/v1/evaluation/{pk}/rouvrir",
                       headers=api_token("admin_organisme_a")).status_code == 200
    formation = client.post("/api/v1/formation/", headers=headers, json={
        "candidature_id": cand.id, "intitule": "Écrits", "organisme_formateur": "OF",
        "formateur": "Jeanne", "date_debut": "2026-11-01", "date_fin": "2026-11-05",
        "duree_heures": 10, "modalite": "mixte"})
    assert formation.status_code == 400 and "évaluateur" in formation.json["message"]
    other = api_token("admin_reseau_b")
    assert client.get(f"/api/v1/evaluation/{pk}", headers=other).status_code in (403, 404)
    assert client.get(f"/api/v1/document/{up.json['id']}/fichier",
                      headers=other).status_code in (403, 404)


def test_dossier_documents_and_deletion_in_history(app, world, login):
    habiliter(world, "etab_a1")
    cand = candidatures.creer(dossier(world), user("utilisateur_etablissement_a"))
    client = login("utilisateur_etablissement_a")
    response = client.post(f"/candidature/{cand.id}/documents", data={
        "fichier": [(io.BytesIO(b"%PDF-1.4\n%%EOF"), "piece-identite.pdf"),
                    (io.BytesIO(b"MZ" + b"\0" * 50), "virus.pdf")]},
        content_type="multipart/form-data", follow_redirects=True)
    page = T(response)
    assert "Fichier « piece-identite.pdf » déposé." in page
    assert "Le fichier « virus.pdf » n'est pas d'un type accepté" in page
    doc = db.session.execute(select(Document)).scalar_one()
    response = client.post(f"/candidature/document/{doc.id}/supprimer", follow_redirects=True)
    page = T(response)
    assert "sa suppression figure dans l'historique" in page
    assert "Document supprimé : piece-identite.pdf" in page
    assert client.get(f"/evaluation/document/{doc.id}").status_code == 404


def test_referentiel_for_certif_pro(app, world, login):
    page = T(login("certif_pro_a").get("/referentiel/"))
    assert "Référentiel CléA" in page and "1.1.1" in page and page.count("<details") == 7
    assert login("admin_reseau_a").get("/referentiel/").status_code == 403
