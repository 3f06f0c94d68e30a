"""Files in step with their rows (finding 4 of issue 13), on SQLite and PostgreSQL: an upload
that fails before its commit leaves no file; a process killed between the commit and the move
leaves a row whose file the read path or the sweep puts in place; a retry with the same
idempotency key stores one document and answers its id; deleting a dossier or a document
erases the files after the commit (and keeps them when the transaction fails); the sweep
erases orphans older than an hour, keeps fresh ones, and reports rows without a file."""
from __future__ import annotations

import io
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models.candidature import Candidature
from app.models.evaluation import Document
from app.services import candidatures, documents, stockage
from app.services.errors import ConflictError
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import T, dossier, habiliter
from tests.integration.test_evaluations import PDF
from tests.world import PASSWORD, user

OF = "utilisateur_etablissement_a"
ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600


def count(*where) -> int:
    query = select(func.count()).select_from(Document)
    return db.session.execute(query.where(*where) if where else query).scalar_one()


def files() -> list[str]:
    return sorted(p.name for p in documents.storage_dir().iterdir())


@pytest.fixture
def cand(app, world):
    habiliter(world, "etab_a1")
    return candidatures.creer(dossier(world), user(OF))


@pytest.fixture
def failing_commit():
    """failing_commit(check) → every commit fails (after `check()` ran in before_commit)."""
    installed = []

    def install(check=lambda: None):
        def boom(session):
            check()
            raise RuntimeError("panne simulée pendant la validation")

        event.listen(Session, "before_commit", boom)
        installed.append(boom)

    yield install
    for listener in installed:
        event.remove(Session, "before_commit", listener)


def upload_api(app, headers, cand, content=PDF, name="piece.pdf", key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return app.test_client().post("/api/v1/document/", headers={**headers, **extra}, data={
        "candidature_id": cand.id, "fichier": (io.BytesIO(content), name)},
        content_type="multipart/form-data")


# --- (a) a failure before the commit leaves nothing ------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("where", ["after_write", "in_commit"])
def test_failure_after_the_file_is_written_leaves_no_file(app, cand, monkeypatch,
                                                          failing_commit, where):
    written = []
    real = stockage.preparer

    def preparer(session, name, content):
        path = real(session, name, content)
        written.append(stockage.temporaire(path))
        assert stockage.temporaire(path).read_bytes() == content  # really on disk
        if where == "after_write":
            raise RuntimeError("panne simulée après l'écriture du fichier")
        return path

    monkeypatch.setattr(stockage, "preparer", preparer)
    if where == "in_commit":
        failing_commit()
    with pytest.raises(RuntimeError):
        documents.enregistrer(cand, "piece.pdf", PDF, user(OF))
    assert written and not written[0].exists()
    assert count() == 0 and files() == []


# --- (b) killed after the commit, before the move ---------------------------------------------

def _die_before_the_move(monkeypatch):
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(src).name.startswith(stockage.TEMP_PREFIX):
            raise SystemExit("processus tué entre la validation et le déplacement")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return real


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("finisher", ["read", "sweep"])
def test_killed_between_commit_and_move_is_finished(app, cand, monkeypatch, login, finisher):
    real = _die_before_the_move(monkeypatch)
    with pytest.raises(SystemExit):
        documents.enregistrer(cand, "piece.pdf", PDF, user(OF))
    monkeypatch.setattr(os, "replace", real)
    db.session.remove()  # the process is gone: nothing of its session survives
    document = db.session.scalars(select(Document)).one()  # the row committed
    name = document.nom_stockage
    assert files() == [stockage.TEMP_PREFIX + name]
    if finisher == "read":
        response = login(OF).get(f"/evaluation/document/{document.id}")
        assert response.status_code == 200 and response.data == PDF
    else:
        result = app.test_cli_runner().invoke(args=["clea", "run-job", "balayer_fichiers"])
        assert "'deplacements_termines': 1" in result.output, result.output
    assert files() == [name]
    assert documents.chemin(document).read_bytes() == PDF


# --- (c) a real process killed with SIGKILL at a hook point -----------------------------------

KILLER = """
import io, os, signal, sys
from sqlalchemy import event
from sqlalchemy.orm import Session
from tests.conftest import make_test_app
from app.services import stockage

url, upload_dir, point, key, candidature_id, username, password = sys.argv[1:8]
app = make_test_app(url, UPLOAD_DIR=upload_dir)
with app.app_context():
    client = app.test_client()
    token = client.post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db"}).json["access_token"]

    def kill(session):
        if session.info.get(stockage.PENDING):  # the upload's own commit
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Session, point, kill, insert=True)  # before the move (after_commit)
    client.post("/api/v1/document/", headers={"Authorization": f"Bearer {token}",
                                              "Idempotency-Key": key},
                data={"candidature_id": candidature_id,
                      "fichier": (io.BytesIO(%r), "piece.pdf")},
                content_type="multipart/form-data")
sys.exit(3)  # not reached: killed
""" % PDF


def _killed_upload(app, cand, point, key):
    url, upload_dir = app.config["TEST_DATABASE_URL"], app.config["UPLOAD_DIR"]
    candidature_id = cand.id
    db.session.remove()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.run(
        [sys.executable, "-c", KILLER, url, upload_dir, point, key, str(candidature_id), OF,
         PASSWORD], cwd=ROOT, env=env, capture_output=True, timeout=240)
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()[-3000:]
    return db.session.get(Candidature, candidature_id)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_process_killed_after_commit_then_retried(app, cand, api_token, login):
    """The answer never reached the client, which retries with the same key: the same
    document answers, one copy is stored, and its file is put in place."""
    cand = _killed_upload(app, cand, "after_commit", "essai-0001")
    document = db.session.scalars(select(Document)).one()
    assert document.idempotency_key == "essai-0001"
    assert files() == [stockage.TEMP_PREFIX + document.nom_stockage]
    response = upload_api(app, api_token(OF), cand, key="essai-0001")
    assert response.status_code == 201 and response.json["id"] == document.id
    assert count() == 1
    download = login(OF).get(f"/evaluation/document/{document.id}")
    assert download.status_code == 200 and download.data == PDF
    assert files() == [document.nom_stockage]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_process_killed_before_commit_then_retried_and_swept(app, cand, api_token):
    cand = _killed_upload(app, cand, "before_commit", "essai-0002")
    assert count() == 0
    (temp,) = files()
    assert temp.startswith(stockage.TEMP_PREFIX)
    response = upload_api(app, api_token(OF), cand, key="essai-0002")
    assert response.status_code == 201
    assert count() == 1
    document = db.session.get(Document, response.json["id"])
    assert stockage.balayer(db.session)["temporaires_effaces"] == 0  # fresh: maybe in flight
    assert temp in files()
    later = time.time() + 2 * HOUR
    assert stockage.balayer(db.session, now=later)["temporaires_effaces"] == 1
    assert files() == [document.nom_stockage]


# --- idempotency ------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_retry_with_the_same_key_stores_one_document(app, world, cand, api_token):
    headers = api_token(OF)
    first = upload_api(app, headers, cand, key="cle-de-depot-1")
    again = upload_api(app, headers, cand, key="cle-de-depot-1")
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert count() == 1 and len(files()) == 1
    other_file = upload_api(app, headers, cand, content=PDF + b"%autre\n", key="cle-de-depot-1")
    assert other_file.status_code == 409
    assert other_file.json["message"] == ("Cette clé d'idempotence a déjà servi pour un autre "
                                          "fichier : envoyez ce fichier avec une nouvelle clé.")
    other_user = upload_api(app, api_token("admin_etablissement_a"), cand, key="cle-de-depot-1")
    assert other_user.status_code == 201 and other_user.json["id"] != first.json["id"]
    without_key = [upload_api(app, headers, cand).json["id"] for _ in range(2)]
    assert len(set(without_key)) == 2
    bad = upload_api(app, headers, cand, key="court")
    assert bad.status_code == 400 and "La clé d'idempotence doit compter" in bad.json["message"]
    assert count() == 4 and len(files()) == 4


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_form_sent_twice_stores_its_files_once(app, cand, login):
    client = login(OF)
    page = T(client.get(f"/candidature/{cand.id}"))
    keys = re.findall(r'name="idempotency_key" value="([0-9a-f]{32})"', page)
    assert len(keys) == 1
    assert keys != re.findall(r'name="idempotency_key" value="([0-9a-f]{32})"',
                              T(client.get(f"/candidature/{cand.id}")))  # one per display
    for _ in range(2):
        response = client.post(f"/candidature/{cand.id}/documents", data={
            "idempotency_key": keys[0],
            "fichier": [(io.BytesIO(PDF), "piece.pdf"), (io.BytesIO(PDF + b"%2\n"), "b.pdf")]},
            content_type="multipart/form-data", follow_redirects=True)
        assert "Fichier « piece.pdf » déposé." in T(response)
        assert "Fichier « b.pdf » déposé." in T(response)
    assert count() == 2 and len(files()) == 2


def test_same_key_for_another_dossier_is_refused(app, world, cand):
    other = candidatures.creer(dossier(world, nom_naissance="Martin"), user(OF))
    documents.enregistrer(cand, "piece.pdf", PDF, user(OF), cle="cle-unique-123")
    with pytest.raises(ConflictError):
        documents.enregistrer(other, "piece.pdf", PDF, user(OF), cle="cle-unique-123")


# --- deletions --------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_dossier_deleted_erases_its_files_after_commit(app, world, cand, failing_commit):
    from app.services import evaluations

    evaluation = evaluations.creer(cand, user(OF))
    piece = documents.enregistrer(cand, "piece.pdf", PDF, user(OF))
    signee = documents.enregistrer(cand, "matrice.pdf", PDF, user(OF), nature="matrice",
                                   evaluation_id=evaluation.id)
    paths = [documents.chemin(piece), documents.chemin(signee)]
    seen_at_commit = []
    failing_commit(lambda: seen_at_commit.append(all(p.exists() for p in paths)))
    with pytest.raises(RuntimeError):
        candidatures.supprimer(cand, user("admin_reseau_a"))
    db.session.rollback()
    assert seen_at_commit == [True]  # not before the commit
    assert all(p.exists() for p in paths) and count() == 2  # the transaction failed: kept
    assert db.session.get(Candidature, cand.id) is not None


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_dossier_deleted_with_its_document_rows_and_files(app, world, cand):
    piece = documents.enregistrer(cand, "piece.pdf", PDF, user(OF))
    path = documents.chemin(piece)
    seen_at_commit = []

    def check(session):
        seen_at_commit.append(path.exists())

    event.listen(Session, "before_commit", check)
    try:
        candidatures.supprimer(cand, user("admin_reseau_a"))
    finally:
        event.remove(Session, "before_commit", check)
    assert seen_at_commit == [True]  # erased after the commit, not before
    db.session.expire_all()
    assert count() == 0 and db.session.get(Candidature, cand.id) is None
    assert files() == []


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_document_deleted_erases_its_file_after_commit(app, cand, failing_commit):
    piece = documents.enregistrer(cand, "piece.pdf", PDF, user(OF))
    piece_id, path = piece.id, documents.chemin(piece)
    seen_at_commit = []
    failing_commit(lambda: seen_at_commit.append(path.exists()))
    with pytest.raises(RuntimeError):
        documents.supprimer(piece, user(OF))
    db.session.rollback()
    assert seen_at_commit == [True] and path.exists()
    assert db.session.get(Document, piece_id).supprime_le is None


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_document_deleted_keeps_its_row_and_erases_its_file(app, cand, login):
    piece = documents.enregistrer(cand, "piece.pdf", PDF, user(OF))
    path = documents.chemin(piece)
    response = login(OF).post(f"/candidature/document/{piece.id}/supprimer",
                              follow_redirects=True)
    assert "Le document est supprimé" in T(response)
    db.session.expire_all()
    assert db.session.get(Document, piece.id).supprime_le is not None  # the history keeps it
    assert not path.exists() and files() == []


# --- the sweep --------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_sweep_erases_old_orphans_keeps_fresh_ones_and_reports_missing_files(app, cand,
                                                                              caplog,
                                                                              monkeypatch):
    # the migrations' fileConfig (run by the fixtures) disables the loggers existing then
    monkeypatch.setattr(logging.getLogger(stockage.__name__), "disabled", False)
    directory = documents.storage_dir()
    kept = documents.enregistrer(cand, "garde.pdf", PDF, user(OF))
    missing = documents.enregistrer(cand, "perdu.pdf", PDF, user(OF))
    documents.chemin(missing).unlink()
    deleted = documents.enregistrer(cand, "retire.pdf", PDF, user(OF))
    leftover = documents.chemin(deleted).read_bytes()
    documents.supprimer(deleted, user(OF))
    documents.chemin(deleted).write_bytes(leftover)  # a crash right after the commit
    old = time.time() - 2 * HOUR
    orphans = {"old": "0" * 32 + ".pdf", "fresh": "1" * 32 + ".pdf",
               "old_temp": stockage.TEMP_PREFIX + "2" * 32 + ".pdf",
               "other": "LISEZMOI.txt"}
    for key, name in orphans.items():
        (directory / name).write_bytes(PDF)
        if key != "fresh":
            os.utime(directory / name, (old, old))
    with caplog.at_level(logging.WARNING, logger="app.services.stockage"):
        result = app.test_cli_runner().invoke(args=["clea", "run-job", "balayer_fichiers"])
    assert result.exit_code == 0
    assert ("Tâche balayer_fichiers : {'deplacements_termines': 0, 'orphelins_effaces': 2, "
            "'temporaires_effaces': 1, 'lignes_sans_fichier': 1}") in result.output
    assert files() == sorted([kept.nom_stockage, orphans["fresh"], orphans["other"]])
    assert missing.nom_stockage in caplog.text  # reported, never deleted
    db.session.expire_all()
    assert count() == 3
