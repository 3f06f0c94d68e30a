"""PostgreSQL stopped (issue 13, finding 6): every page answers a French 503 rendered without
the database, the API answers 503 JSON in French (its login too, once « Fatal error »), with
Retry-After; PostgreSQL back, the platform recovers by itself (pool_pre_ping).

The test stops a PostgreSQL server of its own, so that the session-wide one stays up."""
from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import PG_BIN, PostgresServer, make_test_app, prepare_database
from tests.world import PASSWORD

pytestmark = pytest.mark.postgres
ENGLISH = ("Internal Server Error", "Fatal error", "Service Unavailable", "Traceback",
           "OperationalError")


class StoppablePostgres(PostgresServer):
    def stop(self):
        # The throw-away servers run with synchronous_commit=off: a commit may still sit in
        # the WAL buffers for a few hundred milliseconds, and an immediate stop (the crash
        # this test stands for) would lose it — the login's session row among them. A
        # production server commits synchronously; the checkpoint stands for that here.
        import psycopg

        try:
            self.execute("CHECKPOINT")
        except psycopg.OperationalError:
            pass  # already down (a teardown after a failure)
        super().stop()

    def restart(self):
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off")
        self._run(PG_BIN / "pg_ctl", "-D", self.base / "data", "-l", self.base / "server.log",
                  "-w", "-o", options, "start")


@pytest.fixture
def own_postgres():
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL introuvable dans {PG_BIN}")
    base = Path(tempfile.mkdtemp(prefix="clea-pg-down-"))
    server = StoppablePostgres(base)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"PostgreSQL n'a pas démarré : {exc.stderr.decode(errors='replace')}")
    server.execute("CREATE DATABASE clea")
    world = prepare_database(server.url("clea"))
    yield server, world
    try:
        server.stop()
    except subprocess.CalledProcessError:
        pass  # already stopped by a failing test
    shutil.rmtree(base, ignore_errors=True)


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_database_down_answers_french_503_then_recovers(own_postgres, tmp_path):
    server, world = own_postgres
    app = make_test_app(server.url("clea"), TEST_WORLD=world,
                        UPLOAD_DIR=str(tmp_path / "uploads"))
    browser = app.test_client()
    assert browser.post("/login/", data={"username": "admin_reseau_a",
                                         "password": PASSWORD}).status_code == 302
    token = app.test_client().post("/api/v1/security/login", json={
        "username": "admin_reseau_a", "password": PASSWORD, "provider": "db"}).json
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    anonymous = app.test_client()
    user_id = world.ids["utilisateur_etablissement_a"]

    def requests():
        return {
            "accueil": browser.get("/"),
            "fiche": browser.get(f"/utilisateurview/show/{user_id}"),
            "dossier": browser.get("/candidature/1"),
            "liste": browser.get("/evaluations/"),
            "connexion": anonymous.get("/login/"),
            "connexion envoyée": anonymous.post("/login/", data={
                "username": "admin_reseau_a", "password": PASSWORD}),
            "api connexion": anonymous.post("/api/v1/security/login", json={
                "username": "admin_reseau_a", "password": PASSWORD, "provider": "db"}),
            "api liste": anonymous.get("/api/v1/utilisateur/", headers=bearer),
            "api écriture": anonymous.post(f"/api/v1/utilisateur/{user_id}/suspendre",
                                           headers=bearer),
        }

    server.stop()
    try:
        for name, response in requests().items():
            assert response.status_code == 503, (name, response.status_code, T(response)[:300])
            assert response.headers["Retry-After"].isdigit(), name
            text = T(response)
            for word in ENGLISH:
                assert word not in text, (name, word)
            if name.startswith("api"):
                assert response.json["message"].startswith("Service momentanément indisponible"), name
            else:
                assert "Service momentanément indisponible" in text, name
                assert "la base de données ne répond pas" in text, name
    finally:
        server.restart()

    after = requests()
    assert after["accueil"].status_code == 200 and "Bonjour" in T(after["accueil"])
    assert after["fiche"].status_code == 200
    assert after["connexion"].status_code == 200
    assert after["connexion envoyée"].status_code == 302
    assert after["api connexion"].status_code == 200
    assert after["api liste"].status_code == 200 and after["api liste"].json["count"] >= 1
    assert after["api écriture"].status_code == 200
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
