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
    response = client.post(f"/evaluation/{ev.id}/finaliser", follow_redirects=True)
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
