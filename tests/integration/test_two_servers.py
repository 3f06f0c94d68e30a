"""Production serving (DESIGN §12): several app servers share nothing but PostgreSQL and Redis.

Two real servers, each `gunicorn -c gunicorn.conf.py run:app` (the repository's config) on
its own port, one PostgreSQL database and one Redis: a rate limit and the progressive login
delay count the requests of both servers together; a logout or a password change on one
server ends the copied session cookie on the other. In-process: with CLEA_REDIS_URL set, a
page view reads no session row (the check is one Redis read)."""
from __future__ import annotations

import html
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.world import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "utilisateur_etablissement_a"
NEW_PASSWORD = "Nouveau-Secret-2027?"
# The login form's rate limit of both servers (per address): 6 POSTs a minute
RATE_LIMIT = 6


# --- two gunicorn servers --------------------------------------------------------------------

class Server:
    def __init__(self, env: dict, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "run:app",
             "--bind", f"127.0.0.1:{self.port}", "--workers", "1"],
            cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)

    def wait_ready(self, seconds: float = 120):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.base + "/login/", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        pytest.fail("gunicorn n'a pas démarré :\n" + self.log.read_text(errors="replace"))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def servers(pg_server, pg_template, redis_server, tmp_path_factory):
    """Servers A and B: same DATABASE_URL, CLEA_REDIS_URL and SECRET_KEY (as in production),
    the production configuration (config.Config), CSRF and rate limits on."""
    template, _world = pg_template
    redis_server.flush()
    base = tmp_path_factory.mktemp("two-servers")
    env = {**os.environ,
           "DATABASE_URL": pg_server.clone(template),
           "CLEA_REDIS_URL": redis_server.url,
           "SECRET_KEY": secrets.token_hex(32),
           "CLEA_INSTANCE_DIR": str(base / "instance"),
           "UPLOAD_DIR": str(base / "uploads"),
           # The test's addresses come in X-Forwarded-For, as from a reverse proxy
           "CLEA_TRUSTED_PROXIES": "1",
           "AUTH_RATE_LIMIT": f"{RATE_LIMIT} per minute",
           # A delay once started lasts the whole test, however slow the machine
           "CLEA_LOGIN_DELAY_SECONDS": "120",
           "CLEA_THREADS": "2",
           "PYTHONPATH": str(ROOT)}
    for name in ("RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED", "MAIL_SERVER", "CLEA_BIND"):
        env.pop(name, None)
    pair = [Server(env, base / "a.log"), Server(env, base / "b.log")]
    try:
        for server in pair:
            server.wait_ready()
        yield pair
    finally:
        for server in pair:
            server.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class Browser:
    """A browser behind the proxy at address `ip`: it holds the session cookie and sends it
    to whichever server it is given (a load balancer, or someone who copied the cookie)."""

    def __init__(self, ip: str, cookie: str = ""):
        self.ip = ip
        self.cookie = cookie

    def copy(self) -> "Browser":
        return Browser(self.ip, self.cookie)

    def request(self, server: Server, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(server.base + path, data=body, headers={
            "X-Forwarded-For": self.ip, **({"Cookie": f"session={self.cookie}"}
                                          if self.cookie else {})})
        try:
            response = _OPENER.open(request, timeout=60)
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            response = error
        with response:
            text = html.unescape(response.read().decode("utf-8", errors="replace"))
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie(header)
                if "session" in jar:
                    self.cookie = jar["session"].value
            return response.status, response.headers.get("Location", ""), text

    def csrf(self, server: Server, path: str = "/login/") -> str:
        _status, _location, text = self.request(server, path)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text).group(1)

    def post_login(self, server: Server, username: str, password: str):
        return self.request(server, "/login/", {"csrf_token": self.csrf(server),
                                               "username": username, "password": password})

    def log_in(self, server: Server, username: str = USERNAME, password: str = PASSWORD):
        status, location, _text = self.post_login(server, username, password)
        assert status == 302 and "/login/" not in location, (status, location)

    def profile(self, server: Server) -> bool:
        """True when « Mon profil » opens; False when it sends the browser to the login page."""
        status, location, text = self.request(server, "/profil/")
        if status == 200:
            assert "Mes connexions" in text
            return True
        assert status == 302 and "/login/" in location, (status, location)
        return False


@pytest.mark.postgres
def test_login_rate_limit_counts_both_servers_together(servers):
    a, b = servers
    browser = Browser("203.0.113.21")
    codes = [browser.post_login((a, b)[i % 2], f"inconnu{i}", "mauvais")[0]
             for i in range(RATE_LIMIT + 1)]
    # Alternated between the two servers, the limit falls at the same total as on one:
    # each server alone has seen only 4 of the 7 attempts.
    assert codes[:RATE_LIMIT] == [302] * RATE_LIMIT
    assert codes[RATE_LIMIT] == 429
    status, _location, text = browser.post_login(a, "inconnu", "mauvais")
    assert status == 429 and "Trop de tentatives" in text
    # Another address is not affected.
    assert Browser("203.0.113.22").post_login(b, "inconnu", "mauvais")[0] == 302


@pytest.mark.postgres
def test_progressive_login_delay_counts_both_servers_together(servers):
    a, b = servers
    browser = Browser("203.0.113.31")
    for i in range(5):  # CLEA_LOGIN_FAILURES_FREE wrong passwords, alternated
        status, location, _text = browser.post_login((a, b)[i % 2], USERNAME, "mauvais")
        assert status == 302 and "/login/" in location
    # Even the right password now waits, on either server.
    status, location, _text = browser.post_login(b, USERNAME, PASSWORD)
    assert status == 302 and "/login/" in location
    _status, _location, page = browser.request(b, "/login/")
    assert "Trop de tentatives de connexion depuis votre adresse" in page
    assert not browser.profile(a)


@pytest.mark.postgres
def test_logout_on_one_server_ends_the_copied_cookie_on_the_other(servers):
    a, b = servers
    browser = Browser("203.0.113.41")
    browser.log_in(a)
    stolen = browser.copy()
    assert browser.profile(a) and stolen.profile(b)
    status, _location, _text = browser.request(a, "/logout/", {"csrf_token": browser.csrf(a, "/profil/")})
    assert status == 302
    assert not stolen.profile(b) and not stolen.profile(a)
    # Logging in again (on B) opens a new session, seen by A.
    browser.log_in(b)
    assert browser.profile(a)


@pytest.mark.postgres
def test_password_change_on_one_server_ends_the_other_sessions_on_both(servers):
    a, b = servers
    here, laptop = Browser("203.0.113.51"), Browser("203.0.113.52")
    here.log_in(a, "utilisateur_etablissement_b")
    laptop.log_in(b, "utilisateur_etablissement_b")
    assert laptop.profile(a)
    status, _location, _text = here.request(a, "/profil/mot-de-passe", {
        "csrf_token": here.csrf(a, "/profil/"), "current": PASSWORD,
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert status == 302
    assert here.profile(a) and here.profile(b)  # this browser stays connected
    assert not laptop.profile(a) and not laptop.profile(b)


# --- in-process: the session check makes no SQL statement with Redis ------------------------

@pytest.fixture
def app_overrides(request):
    if "redis_url" in request.fixturenames:
        return {"CLEA_REDIS_URL": request.getfixturevalue("redis_url")}
    return {}


def _session_statements(app, login, count_queries) -> list[str]:
    browser = login(USERNAME)
    assert browser.get("/profil/").status_code == 200
    with count_queries() as counter:
        page = browser.get("/profil/")
    assert page.status_code == 200 and "Mes connexions" in html.unescape(page.get_data(as_text=True))
    # The profile's own list of sessions reads user_session: count only the session check
    # (the statement selecting by token_hash, or any write).
    return [s for s in counter.statements
            if "user_session" in s and ("token_hash =" in s or s.lstrip().upper().startswith("UPDATE"))]


def test_page_view_checks_the_session_in_redis_without_sql(redis_url, app, login, count_queries):
    assert _session_statements(app, login, count_queries) == []


def test_without_redis_the_session_check_reads_its_row(app, login, count_queries):
    assert len(_session_statements(app, login, count_queries)) == 1


def test_logout_and_password_change_end_redis_sessions_in_process(redis_url, app, login):
    from app.services import partage

    browser = login(USERNAME)
    copy = app.test_client()
    copy.set_cookie("session", browser.get_cookie("session").value)
    assert copy.get("/profil/").status_code == 200
    browser.post("/logout/")
    assert copy.get("/profil/").status_code == 302
    # Nothing is left in Redis for that session; « Mes connexions » lists the live ones only.
    assert not [k for k in partage.client().scan_iter("clea:session:*")]
    here, other = login(USERNAME), login(USERNAME)
    assert here.post("/profil/mot-de-passe", data={
        "current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert here.get("/profil/").status_code == 200
    assert other.get("/profil/").status_code == 302
    assert len(list(partage.client().scan_iter("clea:session:*"))) == 1


# --- the scheduler's lock stays in PostgreSQL: two schedulers, each job once ----------------

@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_two_schedulers_never_both_take_a_job(app):
    """Two scheduler processes (two apps, two connections) try the same job's lock at the same
    instant, round after round: exactly one runs it each time, and once released it is free."""
    import datetime as dt
    import threading

    from app.extensions import db
    from app.jobs import locks
    from tests.conftest import make_test_app

    other = make_test_app(app.config["TEST_DATABASE_URL"])
    results: dict = {}
    barrier = threading.Barrier(2)

    def scheduler(application, owner):
        with application.app_context():
            for round_ in range(15):
                barrier.wait()
                results[(round_, owner)] = locks.acquire("envoyer_emails", dt.timedelta(minutes=5),
                                                         owner)
                barrier.wait()
                if results[(round_, owner)]:
                    locks.release("envoyer_emails", owner)
            db.session.remove()

    threads = [threading.Thread(target=scheduler, args=(application, owner))
               for application, owner in ((app, "serveur-a:1"), (other, "serveur-b:1"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with other.app_context():
        db.engine.dispose()
    assert [results[(r, "serveur-a:1")] + results[(r, "serveur-b:1")] for r in range(15)] \
        == [1] * 15
