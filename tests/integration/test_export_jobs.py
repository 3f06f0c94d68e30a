"""Exports off the request (services/exports.py): the Stats buttons and the API queue an
export (« en attente »), the worker (`flask clea exports`, as the scheduler process runs it)
prepares it (« prête », progress = total, notification « Export prêt »), its owner downloads
the .xlsx (read back here, rows = the dossiers of the perimeter), anyone else gets 404; a
failure reads in French; a ready export expires and its file goes; the rows are read in one
statement for their ids, then one per batch."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditLog, ExportJob, Notification
from app.services import exports, stats
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import T, dossier
from tests.integration.test_stats import OF_A, jeu  # noqa: F401,F811  (the fixture)
from tests.world import user


def run_worker(app) -> str:
    result = app.test_cli_runner().invoke(args=["clea", "exports"])
    assert result.exit_code == 0, result.output
    return result.output


def job_of(username: str) -> ExportJob:
    db.session.expire_all()
    return db.session.scalars(select(ExportJob).where(
        ExportJob.user_id == user(username).id).order_by(ExportJob.id.desc())).first()


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_queued_prepared_notified_downloaded_by_its_owner_only(app, jeu, login, api_token):
    client = login("admin_reseau_a")
    asked = client.post("/stats/export?type_public=", follow_redirects=True)
    page = T(asked)
    assert asked.request.path == "/exports/" and "Mes exports" in page
    assert "Export demandé" in page and "En attente" in page
    job = job_of("admin_reseau_a")
    assert (job.statut, job.kind, job.lignes_faites) == ("en_attente", "parcours", 0)
    assert client.get(f"/exports/{job.id}/etat").json["statut"] == "en_attente"

    assert "1 prêt(s), 0 en échec" in run_worker(app)
    job = job_of("admin_reseau_a")
    assert job.statut == "prete" and job.lignes_faites == job.lignes_total == 4
    etat = client.get(f"/exports/{job.id}/etat").json
    assert etat["pret"] is True and etat["pourcentage"] == 100
    assert etat["statut_libelle"] == "Prête"
    note = db.session.scalars(select(Notification).where(
        Notification.user_id == user("admin_reseau_a").id,
        Notification.titre == "Export prêt")).one()
    assert note.lien == "/exports/" and "Parcours des dossiers" in note.texte
    assert "Télécharger" in T(client.get("/exports/"))

    download = client.get(f"/exports/{job.id}/fichier")
    assert download.status_code == 200
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    book = load_workbook(io.BytesIO(download.data))
    assert book.sheetnames == ["Export", "Parcours", "Indicateurs"]
    garde = dict(r[:2] for r in book["Export"].iter_rows(min_row=2, values_only=True))
    assert garde["Export"] == "Parcours des dossiers"
    assert garde["Établi pour"] == "Test admin_reseau (admin_reseau_a)"
    assert isinstance(garde["Le"], dt.datetime)
    sheet = book["Parcours"]
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], {int(r[0]): r for r in rows[1:]}
    assert header[:4] == ("N° de dossier", "Nom de naissance", "Nom d'usage", "Prénom(s)")
    assert len(header) == 21 + 28
    assert set(data) == {jeu[k].id for k in ("d1", "d2", "d3", "d4")}  # never d5 (réseau B)
    col = {name: i for i, name in enumerate(header)}
    d1 = data[jeu["d1"].id]
    assert d1[col["Nom de naissance"]] == "UN" and d1[col["Statut"]] == "Certifiée"
    assert d1[21:] == ("Acquis",) * 28
    assert isinstance(d1[col["Création"]], dt.datetime)  # a date, not a text
    assert d1[col["Création"]].date() == jeu["d1"].created_on.date()
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert db.session.scalars(select(AuditLog.action).where(
        AuditLog.user_id == user("admin_reseau_a").id).order_by(AuditLog.id.desc())
    ).first() == "exporter_parcours"

    # someone else: the export does not exist for them, on the screens and the API
    other = login("admin_reseau_b")
    assert other.get(f"/exports/{job.id}/fichier").status_code == 404
    assert other.get(f"/exports/{job.id}/etat").status_code == 404
    assert "Parcours des dossiers" not in T(other.get("/exports/"))
    headers = api_token("admin_organisme_a")
    assert app.test_client().get(f"/api/v1/stats/export/{job.id}/fichier",
                                 headers=headers).status_code == 404


def test_api_queue_status_and_file(app, jeu, api_token):
    headers = api_token("admin_reseau_a")
    api = app.test_client()
    asked = api.post("/api/v1/stats/export?type_public=salarie", headers=headers)
    assert asked.status_code == 202 and asked.json["statut"] == "en_attente"
    status_url, file_url = asked.json["statut_url"], asked.json["fichier_url"]
    assert api.get(status_url, headers=headers).json["statut"] == "en_attente"
    assert api.get(file_url, headers=headers).status_code == 404  # not ready yet
    run_worker(app)
    assert api.get(status_url, headers=headers).json["pret"] is True
    rows = list(load_workbook(io.BytesIO(api.get(file_url, headers=headers).data))
                ["Parcours"].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == jeu["d2"].id
    refused = api.post("/api/v1/stats/export", json={"type": "registre"}, headers=headers)
    assert refused.status_code == 403
    assert refused.json["message"] == "Cet export est réservé à Certif Pro."
    unknown = api.post("/api/v1/stats/export", json={"type": "tout"}, headers=headers)
    assert unknown.status_code == 400 and unknown.json["message"] == "« type » : Une valeur parmi : parcours, facturation, registre."


def test_certif_pro_exports_through_the_queue(app, jeu, login):
    client = login("certif_pro_a")
    client.post("/stats/facturation")
    client.post("/stats/registre")
    assert "2 prêt(s)" in run_worker(app)
    jobs = {j.kind: j for j in db.session.scalars(select(ExportJob))}
    fact = load_workbook(io.BytesIO(client.get(f"/exports/{jobs['facturation'].id}/fichier")
                                    .data))["Facturation"]
    rows = list(fact.iter_rows(values_only=True))
    assert rows[0][0].startswith("Période : ")
    assert {r[1]: (r[2], r[4]) for r in rows[2:] if r[0] != "Total"} == {
        "ORG_A1": (2, 1), "ORG_B1": (1, 0)}
    reg = list(load_workbook(io.BytesIO(client.get(f"/exports/{jobs['registre'].id}/fichier")
                                        .data))["Titulaires"].iter_rows(values_only=True))
    assert len(reg) == 2 and reg[1][2] == "UN"
    refused = T(login("admin_reseau_a").post("/stats/registre", follow_redirects=True))
    assert "Cet export est réservé à Certif Pro." in refused


def test_failure_reads_in_french(app, jeu, login, monkeypatch):
    client = login("admin_reseau_a")
    client.post("/stats/export")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setitem(exports.WRITERS, "parcours", broken)
    assert "0 prêt(s), 1 en échec" in run_worker(app)
    job = job_of("admin_reseau_a")
    assert job.statut == "echouee" and job.fichier is None
    message = "L'export n'a pas pu être préparé. Réessayez ; si l'échec se répète, " \
              "contactez le support."
    assert job.erreur == message
    page = T(client.get("/exports/"))
    assert "Échouée" in page and message in page
    assert client.get(f"/exports/{job.id}/fichier").status_code == 404
    # a rule refused when the export runs (the role changed meanwhile): its French message
    db.session.add(ExportJob(user_id=user("admin_reseau_a").id, kind="registre",
                             filtres="{}", statut="en_attente", lignes_faites=0))
    db.session.commit()
    run_worker(app)
    assert job_of("admin_reseau_a").erreur == "Cet export est réservé à Certif Pro."


def test_ready_export_expires_and_its_file_goes(app, jeu, login):
    client = login("admin_reseau_a")
    client.post("/stats/export")
    run_worker(app)
    job = job_of("admin_reseau_a")
    path = exports.stockage.chemin(job.fichier)
    assert path.exists()
    db.session.execute(update(ExportJob).where(ExportJob.id == job.id).values(
        expire_le=dt.datetime.now() - dt.timedelta(minutes=1)))
    db.session.commit()
    assert "1 expiré(s)" in run_worker(app)
    job = job_of("admin_reseau_a")
    assert job.statut == "expiree" and job.fichier is None and not path.exists()
    assert "Expirée" in T(client.get("/exports/"))
    assert client.get(f"/exports/{job.id}/fichier").status_code == 404


def test_a_claimed_export_runs_once_and_an_interrupted_one_fails(app, jeu):
    job = exports.demander(user("admin_reseau_a"), "parcours", stats.Filtres())
    assert exports._prendre(job.id) is True
    assert exports._prendre(job.id) is False  # a second process does not get it
    db.session.execute(update(ExportJob).where(ExportJob.id == job.id).values(
        updated_on=dt.datetime.now() - dt.timedelta(hours=1)))
    db.session.commit()
    assert exports.balayer()["interrompues"] == 1
    db.session.expire_all()
    assert db.session.get(ExportJob, job.id).statut == "echouee"


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_rows_are_read_in_one_statement_per_batch(app, world, jeu, count_queries,
                                                   monkeypatch):
    from app.services import candidatures

    for i in range(6):
        candidatures.creer(dossier(world, nom_naissance=f"Extra{i}"), user(OF_A), True)
    admin, f = user("admin_reseau_a"), stats.Filtres()
    sous_domaines = exports._sous_domaines()

    def reads(counter):  # the user's role, loaded once for the perimeter, is not a read
        return [s for s in counter.statements if "ab_role" not in s]

    with count_queries() as one_batch:
        rows = list(exports.lignes_parcours(admin, f, sous_domaines))
    assert len(rows) == 10 and len(reads(one_batch)) == 2  # the ids, the batch's rows
    monkeypatch.setattr(exports, "BATCH", 3)
    with count_queries() as batches:
        again = list(exports.lignes_parcours(admin, f, sous_domaines))
    assert again == rows
    # the ids once, then 4 batches of at most 3 rows: for each, its rows with their
    # evaluation's results, named by their ids (no OFFSET, no repeated perimeter subquery)
    assert not any("OFFSET" in s for s in reads(batches))
    assert len(reads(batches)) == 1 + 4


@pytest.fixture
def app_overrides(request):
    if "redis_url" in request.fixturenames:
        # an interval no test waits for: only the wake-up can start the export in time
        return {"CLEA_REDIS_URL": request.getfixturevalue("redis_url"),
                "CLEA_EXPORT_INTERVAL_SECONDS": 3600}
    return {}


def test_a_queued_export_wakes_the_resident_worker(redis_url, app, jeu, login):
    """The exports worker (a thread of `flask clea scheduler`, or `flask clea exports
    --continu`) sleeps on Redis between exports: the export asked on the Stats page wakes it
    and is prepared at once — not at its next look, an hour away here; a stop request ends
    the worker after its current wait."""
    import threading

    from app.jobs.scheduler import boucle_exports
    from app.services import partage

    stop = threading.Event()
    worker = threading.Thread(target=boucle_exports, args=(app, stop), daemon=True)
    worker.start()
    try:
        client = login("admin_reseau_a")
        client.post("/stats/export?type_public=")
        for _ in range(600):  # up to a minute, far below the interval
            if job_of("admin_reseau_a").statut == exports.PRETE:
                break
            db.session.remove()
            stop.wait(0.1)
        job = job_of("admin_reseau_a")
        assert job.statut == exports.PRETE and job.lignes_faites == 4
        assert "Prête" in T(client.get("/exports/"))
    finally:
        stop.set()
        with app.app_context():
            partage.reveiller(exports.FILE)  # the worker's wait ends at once
        worker.join(timeout=30)
    assert not worker.is_alive()


def test_the_resident_worker_command_without_redis(app, jeu, login, monkeypatch):
    """Without Redis, `flask clea exports --continu` runs the same loop and looks every
    CLEA_EXPORT_INTERVAL_SECONDS: here its first look prepares the waiting export, then Ctrl+C
    ends it."""
    from app.jobs import scheduler

    login("admin_reseau_a").post("/stats/export?type_public=")
    real, interval = scheduler.JOBS["exports"]

    def then_interrupt():
        real()
        raise KeyboardInterrupt  # Ctrl+C
    monkeypatch.setitem(scheduler.JOBS, "exports", (then_interrupt, interval))
    result = app.test_cli_runner().invoke(args=["clea", "exports", "--continu"])
    assert result.exit_code == 0, result.output
    assert "Processus des exports en service" in result.output
    assert job_of("admin_reseau_a").statut == exports.PRETE
