"""Shared fixtures: fresh databases cloned from a prepared template (SQLite file or a real
PostgreSQL 15 started here), the test world, and logged-in clients per user."""
from __future__ import annotations

import gc
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("CLEA_PG_BIN", "/usr/lib/postgresql/15/bin"))
REQUIRE_PG = os.environ.get("CLEA_REQUIRE_POSTGRES") == "1"
BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


# --- the cost of an application per test -----------------------------------------------

def pytest_configure(config):
    """Each test builds its own application (about 200 000 objects, 960 URL rules). With
    Python's default thresholds (a collection every 700 allocations) the collector runs
    hundreds of times per application built, and its full passes walk every live object of
    the session; collect 70 times less often: the garbage of a test (its app, cyclic) is
    still reclaimed within a few tests."""
    gc.set_threshold(50_000, 10, 10)
    _share_url_rule_builders()


def _share_url_rule_builders():
    """werkzeug compiles, for each URL rule of each new app, two Python functions from an AST
    (a third of the app's creation). Such a function depends only on the rule's parsed parts
    (its trace) when the rule has no defaults, not on the app or the Rule (it gets the rule
    as its first argument): compile each shape once per session and share it."""
    from werkzeug.routing.rules import Rule

    if getattr(Rule._compile_builder, "clea_shared", False):
        return
    compile_builder = Rule._compile_builder
    shared: dict = {}

    def _compile_builder(self, append_unknown=True):
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (tuple(self._trace), append_unknown)
        if key not in shared:
            shared[key] = compile_builder(self, append_unknown)
        return shared[key]

    _compile_builder.clea_shared = True
    Rule._compile_builder = _compile_builder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_test_app(url: str, **overrides):
    import config
    from app import create_app

    overrides = {"CLEA_SECURITY_HEADERS": False, **overrides}  # a test may turn them on
    return create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url, **overrides)


def prepare_database(url: str):
    """Schema through the real migrations, roles, référentiel, and the test world."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.security.sync import sync_roles
    from app.services.referentiel import load_referentiel
    from tests.world import build_world

    app = make_test_app(url)
    with app.app_context():
        upgrade()
        sync_roles()
        load_referentiel(app.config["CLEA_REFERENTIEL_FILE"])
        world = build_world()
        db.session.remove()
        db.engine.dispose()
    return world


# --- PostgreSQL ------------------------------------------------------------------------

class PostgresServer:
    def __init__(self, base: Path):
        self.base = base
        self.port = free_port()
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.counter = itertools.count()

    def _run(self, *args):
        subprocess.run(self.as_pg + [str(a) for a in args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self):
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.base, pg.pw_uid, pg.pw_gid)
        self._run(PG_BIN / "initdb", "-D", self.base / "data", "-U", "postgres", "-A", "trust",
                  "-E", "UTF8")
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        self._run(PG_BIN / "pg_ctl", "-D", self.base / "data", "-l", self.base / "server.log",
                  "-w", "-o", options, "start")

    def stop(self):
        self._run(PG_BIN / "pg_ctl", "-D", self.base / "data", "-m", "immediate", "-w", "stop")

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str):
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def clone(self, template: str) -> str:
        name = f"test_{next(self.counter)}"
        self.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server():
    if not (PG_BIN / "initdb").exists():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL introuvable dans {PG_BIN} (CLEA_REQUIRE_POSTGRES=1)")
        pytest.skip(f"PostgreSQL introuvable dans {PG_BIN}")
    base = Path(tempfile.mkdtemp(prefix="clea-pg-"))
    server = PostgresServer(base)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        message = f"PostgreSQL n'a pas démarré : {exc.stderr.decode(errors='replace')}"
        if REQUIRE_PG:
            pytest.fail(message)
        pytest.skip(message)
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_template(pg_server):
    pg_server.execute("CREATE DATABASE clea_template")
    world = prepare_database(pg_server.url("clea_template"))
    return "clea_template", world


# --- Redis (the shared store of several app servers, services/partage.py) ----------------

REDIS_BIN = Path(os.environ.get("CLEA_REDIS_BIN", "/usr/bin/redis-server"))
REQUIRE_REDIS = os.environ.get("CLEA_REQUIRE_REDIS") == "1"


class RedisServer:
    """A throw-away redis-server: no persistence, in its own temporary directory."""

    def __init__(self, base: Path):
        self.base = base
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        import time

        import redis

        with open(self.base / "redis.log", "wb") as log:
            self.process = subprocess.Popen(
                [str(REDIS_BIN), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.base)],
                stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError((self.base / "redis.log").read_text(errors="replace"))

    def flush(self):
        import redis

        redis.Redis.from_url(self.url).flushall()

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server():
    """A redis-server for the session (`.url`, `.flush()`); skipped when the binary is missing,
    a failure with CLEA_REQUIRE_REDIS=1 (CI)."""
    if not REDIS_BIN.exists():
        message = f"redis-server introuvable ({REDIS_BIN}) : paquet Debian redis-server"
        if REQUIRE_REDIS:
            pytest.fail(message + " (CLEA_REQUIRE_REDIS=1)")
        pytest.skip(message)
    base = Path(tempfile.mkdtemp(prefix="clea-redis-"))
    server = RedisServer(base)
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        message = f"redis-server n'a pas démarré : {exc}"
        if REQUIRE_REDIS:
            pytest.fail(message)
        pytest.skip(message)
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server):
    """The URL of an empty Redis (emptied before each test)."""
    redis_server.flush()
    return redis_server.url


# --- SQLite ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    world = prepare_database(f"sqlite:///{path}")
    return path, world


# --- apps --------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite"])
def backend(request):
    """Overridden with @pytest.mark.parametrize("backend", BACKENDS, indirect=True)."""
    return request.param


def _clone(request, backend, tmp_path):
    if backend == "postgres":
        server = request.getfixturevalue("pg_server")
        template, world = request.getfixturevalue("pg_template")
        return server.clone(template), world
    template_path, world = request.getfixturevalue("sqlite_template")
    path = tmp_path / "test.db"
    shutil.copy(template_path, path)
    return f"sqlite:///{path}", world


@pytest.fixture
def world(app):
    return app.config["TEST_WORLD"]


@pytest.fixture
def app_overrides():
    """Extra configuration for the `app` fixture (override in a test module)."""
    return {}


@pytest.fixture
def app(request, backend, tmp_path, app_overrides):
    """A fresh application on a fresh copy of the prepared database."""
    url, world = _clone(request, backend, tmp_path)
    application = make_test_app(url, TEST_WORLD=world, UPLOAD_DIR=str(tmp_path / "uploads"),
                                TEST_DATABASE_URL=url, **app_overrides)
    _isolate_requests(application)
    with application.app_context():
        yield application
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


def _isolate_requests(application):
    """Tests keep an app context pushed, which Flask reuses for requests: `g` (and the
    logged-in user cached in it) would leak from one client to the next. Clear it first."""
    from flask import g

    def reset_user():
        for key in list(vars(g)):
            g.pop(key, None)

    application.before_request_funcs.setdefault(None, []).insert(0, reset_user)


@pytest.fixture
def login(app):
    """login(username) → a test client with a logged-in session."""
    from tests.world import PASSWORD

    def _login(username: str, password: str = PASSWORD):
        client = app.test_client()
        response = client.post("/login/", data={"username": username, "password": password})
        assert response.status_code == 302, f"login failed for {username}"
        return client

    return _login


@pytest.fixture
def api_token(app):
    from tests.world import PASSWORD

    def _token(username: str, password: str = PASSWORD) -> dict:
        response = app.test_client().post("/api/v1/security/login", json={
            "username": username, "password": password, "provider": "db"})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return _token


@pytest.fixture
def count_queries(app):
    """with count_queries() as counter: ...; counter.count → SQL statements executed."""
    import contextlib

    from sqlalchemy import event

    from app.extensions import db

    @contextlib.contextmanager
    def _count():
        class Counter:
            count = 0
            statements: list = []

        def before(conn, cursor, statement, *args):
            Counter.count += 1
            Counter.statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield Counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return _count


# --- summary: how many tests ran on PostgreSQL and in Chromium ---------------------------

def pytest_terminal_summary(terminalreporter):
    def count(marker):
        passed = [r for r in terminalreporter.stats.get("passed", []) if marker in r.keywords]
        failed = [r for r in terminalreporter.stats.get("failed", []) if marker in r.keywords]
        skipped = [r for r in terminalreporter.stats.get("skipped", []) if marker in r.keywords]
        return len(passed), len(failed), len(skipped)

    pg = count("postgres")
    e2e = count("e2e")
    terminalreporter.write_line(
        f"PostgreSQL : {pg[0]} tests réussis, {pg[1]} en échec, {pg[2]} ignorés — "
        f"Chromium : {e2e[0]} tests réussis, {e2e[1]} en échec, {e2e[2]} ignorés")


# --- a fake SMTP server ------------------------------------------------------------------

class FakeSMTPHandler:
    """Accepts messages, after refusing the next `fail` ones with a temporary error."""

    def __init__(self):
        self.messages = []
        self.fail = 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail > 0:
            self.fail -= 1
            return "451 4.3.0 Service temporairement indisponible"
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    handler = FakeSMTPHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()
