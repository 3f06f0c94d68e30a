"""Evaluations, formations, documents and the matrice (services; the screens come next)."""
from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models.evaluation import Document, Evaluation
from app.services import candidatures, documents, evaluations, matrice
from app.services.errors import ConflictError, ForbiddenError, RuleError
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import dossier, habiliter
from tests.world import user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TODAY = dt.date.today()


@pytest.fixture
def cand(app, world):
    habiliter(world, "etab_a1")
    return candidatures.creer(dossier(world), user("utilisateur_etablissement_a"))


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def remplir(evaluation, acquis_sauf=0, by="utilisateur_etablissement_a", evaluateur="Jeanne Eval"):
    resultats = {}
    for i, r in enumerate(sorted(evaluation.resultats, key=lambda r: r.sous_domaine.code)):
        resultats[r.sous_domaine_id] = {"acquis": i >= acquis_sauf, "commentaire": ""}
    return evaluations.enregistrer(evaluation, {"version": evaluation.version,
                                                "evaluateur": evaluateur,
                                                "date_evaluation": TODAY.isoformat(),
                                                "resultats": resultats}, user(by))


def matrice_deposee(evaluation, by="utilisateur_etablissement_a"):
    documents.enregistrer(evaluation.candidature, "matrice.xlsx", xlsx_bytes(), user(by),
                          nature="matrice", evaluation_id=evaluation.id)
    db.session.refresh(evaluation)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_28_of_28_is_valide_and_dossier_goes_to_a_envoyer(app, cand):
    ev = evaluations.creer(cand, user("utilisateur_etablissement_a"))
    assert ev.type == "prealable" and len(ev.resultats) == 28
    remplir(ev)
    matrice_deposee(ev)
    evaluations.finaliser(ev, user("utilisateur_etablissement_a"))
    assert ev.resultat == "valide"
    db.session.refresh(cand)
    assert cand.statut == "a_envoyer" and cand.date_prealable == TODAY
    assert "Validé (28 / 28 acquis)" in cand.historique[-1].motif


def test_27_of_28_is_non_valide_then_new_evaluation_needs_formation_and_attestation(app, cand):
    ev = evaluations.creer(cand, user("utilisateur_etablissement_a"))
    remplir(ev, acquis_sauf=1)
    matrice_deposee(ev)
    evaluations.finaliser(ev, user("utilisateur_etablissement_a"))
    assert ev.resultat == "non_valide"
    db.session.refresh(cand)
    assert cand.statut == "attente_eval_finale"
    assert len(evaluations.sous_domaines_non_acquis(cand)) == 1
    with pytest.raises(RuleError, match="Formations CléA"):
        evaluations.creer(cand, user("utilisateur_etablissement_a"))
    db.session.rollback()
    formation = evaluations.ajouter_formation(cand, {
        "intitule": "Calcul", "organisme_formateur": "FORMAPLUS", "formateur": "Paul Form",
        "date_debut": TODAY.isoformat(), "date_fin": TODAY.isoformat(), "duree_heures": "14",
        "modalite": "presentiel", "sous_domaines": evaluations.sous_domaines_non_acquis(cand)},
        user("utilisateur_etablissement_a"))
    with pytest.raises(RuleError, match="Formations CléA"):  # no attestation yet
        evaluations.creer(cand, user("utilisateur_etablissement_a"))
    db.session.rollback()
    documents.enregistrer(cand, "attestation.pdf", PDF, user("utilisateur_etablissement_a"),
                          nature="attestation", formation_id=formation.id)
    finale = evaluations.creer(cand, user("utilisateur_etablissement_a"))
    assert finale.type == "finale"
    # The evaluator of the dossier cannot be one of its trainers.
    remplir(finale, evaluateur="PAUL form")
    matrice_deposee(finale)
    with pytest.raises(RuleError, match="formateur"):
        evaluations.finaliser(finale, user("utilisateur_etablissement_a"))


def test_finalize_lists_what_is_missing(app, cand):
    ev = evaluations.creer(cand, user("utilisateur_etablissement_a"))
    with pytest.raises(RuleError) as info:
        evaluations.finaliser(ev, user("utilisateur_etablissement_a"))
    message = info.value.message
    for part in ("1.1", "7.", "le nom de l'évaluateur", "la date de l'évaluation",
                 "la matrice d'évaluation"):
        assert part in message
    db.session.rollback()
    with pytest.raises(ConflictError, match="déjà en cours"):
        evaluations.creer(cand, user("utilisateur_etablissement_a"))


@pytest.mark.parametrize("role_user,allowed", [
    ("utilisateur_etablissement_a", False), ("admin_etablissement_a", False),
    ("utilisateur_organisme_a", False), ("admin_organisme_a", True), ("admin_reseau_a", True),
    ("certif_pro_a", True)])
def test_reopen_by_role(app, cand, role_user, allowed):
    ev = evaluations.creer(cand, user("utilisateur_etablissement_a"))
    remplir(ev)
    matrice_deposee(ev)
    evaluations.finaliser(ev, user("utilisateur_etablissement_a"))
    if allowed:
        evaluations.rouvrir(ev, user(role_user))
        db.session.refresh(cand)
        assert ev.statut == "en_cours" and cand.statut == "attente_eval_prealable"
    else:
        with pytest.raises(ForbiddenError, match="administrateur organisme"):
            evaluations.rouvrir(ev, user(role_user))


def test_reopen_refused_once_sent(app, cand):
    ev = evaluations.creer(cand, user("utilisateur_etablissement_a"))
    remplir(ev)
    matrice_deposee(ev)
    evaluations.finaliser(ev, user("utilisateur_etablissement_a"))
    candidatures.transition(cand, "attente_jury", None)
    db.session.commit()
    with pytest.raises(RuleError, match="envoyé en certification"):
        evaluations.rouvrir(ev, user("admin_organisme_a"))


def test_stale_draft_save_gets_409(app, cand):
    ev = evaluations.creer(cand, user("utilisateur_etablissement_a"))
    version = ev.version
    evaluations.enregistrer(ev, {"version": version, "evaluateur": "A"},
                            user("utilisateur_etablissement_a"))
    with pytest.raises(ConflictError, match="par quelqu'un d'autre"):
        evaluations.enregistrer(ev, {"version": version, "evaluateur": "B"},
                                user("admin_etablissement_a"))
    db.session.rollback()
    db.session.refresh(ev)
    assert ev.evaluateur == "A"


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_concurrent_draft_saves_give_one_409(app, cand):
    ev = evaluations.creer(cand, user("utilisateur_etablissement_a"))
    version, pk = ev.version, ev.id
    barrier, outcomes = threading.Barrier(2), []

    def save(name):
        with app.app_context():
            evaluation = db.session.get(Evaluation, pk)
            barrier.wait()
            try:
                evaluations.enregistrer(evaluation, {"version": version, "evaluateur": name},
                                        user("utilisateur_etablissement_a"))
                outcomes.append("ok")
            except ConflictError:
                outcomes.append("409")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(n,)) for n in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409", "ok"]


def test_documents_size_type_and_name(app, cand):
    by = user("utilisateur_etablissement_a")
    limit = documents.MAX_BYTES
    ok = documents.enregistrer(cand, "plein.pdf", PDF + b"0" * (limit - len(PDF)), by)
    assert ok.taille == 4 * 1024 * 1024
    before = db.session.execute(select(func.count()).select_from(Document)).scalar_one()
    with pytest.raises(documents.FileTooLarge, match="dépasse la taille maximale de 4 Mo") as e:
        documents.enregistrer(cand, "trop.pdf", PDF + b"0" * (limit + 1 - len(PDF)), by)
    assert e.value.status == 413
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
    with pytest.raises(RuleError, match="n'est pas d'un type accepté"):
        documents.enregistrer(cand, "facture.pdf", exe, by)
    assert db.session.execute(select(func.count()).select_from(Document)).scalar_one() == before
    stored = documents.enregistrer(cand, "../../etc/passwd.pdf", PDF, by)
    assert stored.nom_original == "passwd.pdf" and "/" not in stored.nom_stockage
    path = documents.chemin(stored)
    assert path.parent == documents.storage_dir() and path.read_bytes() == PDF
    assert len(list(documents.storage_dir().iterdir())) == 2  # nothing left by refusals


def test_matrice_read_back(app, cand):
    ev = evaluations.creer(cand, user("utilisateur_etablissement_a"))
    wb = load_workbook(io.BytesIO(matrice.generer(ev)))
    ident = wb["Candidat"]
    values = {ident.cell(row=r, column=1).value: ident.cell(row=r, column=2).value
              for r in range(1, ident.max_row + 1)}
    assert values["Nom de naissance"] == "Dupré" and values["Prénom(s)"] == "Élodie Marie"
    assert values["Date de naissance"] == "12/04/1985"
    criteres = 0
    for ws in wb.worksheets[1:]:
        assert ws.print_area and ws.page_setup.orientation == "landscape"
        criteres += sum(1 for row in ws.iter_rows(min_row=3, values_only=True) if row[1])
    assert len(wb.worksheets) == 8 and criteres == 107
