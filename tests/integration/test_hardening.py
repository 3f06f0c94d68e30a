"""Hardening (issue 13, finding 10): HTTPS-only cookies and HSTS behind a trusted reverse
proxy (and only then), a Content-Security-Policy that runs no inline script but FAB's
nonce-bearing ones, HTTP → HTTPS redirect on demand, and no version in `Server`."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.world import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
HTTPS = {"X-Forwarded-Proto": "https"}
HEADERS_ON = {"CLEA_SECURITY_HEADERS": True}


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def _log_in(app, headers=None):
    client = app.test_client()
    response = client.post("/login/", data={"username": "certif_pro_a", "password": PASSWORD},
                           headers=headers or {})
    assert response.status_code == 302, response.text
    return client, response


def _script_src(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    return directives["script-src"]


@pytest.mark.parametrize("app_overrides", [{**HEADERS_ON, "CLEA_TRUSTED_PROXIES": 1}])
def test_behind_one_trusted_proxy_https_gives_secure_cookie_and_hsts(app):
    client, response = _log_in(app, HTTPS)
    assert "; Secure" in _session_cookie(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    page = client.get("/", headers=HTTPS)
    assert page.status_code == 200
    assert "Strict-Transport-Security" in page.headers

    # The same proxy over plain HTTP: neither.
    _client, plain = _log_in(app, {"X-Forwarded-Proto": "http"})
    assert "Secure" not in _session_cookie(plain)
    assert "Strict-Transport-Security" not in plain.headers


def _probe(app):
    """A route that tells what the app believes of the request (address, host, scheme)."""
    seen = {}

    @app.route("/_hardening_probe")
    def probe():
        from flask import request

        seen.update(addr=request.remote_addr, host=request.host, scheme=request.scheme)
        return "ok"

    return seen


FORGED = {**HTTPS, "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "www.certificat-clea.fr"}


@pytest.mark.parametrize("app_overrides", [HEADERS_ON])
def test_without_trusted_proxy_forwarded_headers_are_ignored(app):
    """Any client can send X-Forwarded-*: with CLEA_TRUSTED_PROXIES=0 (the default) the app
    neither believes the request is HTTPS nor takes the forwarded host or address."""
    assert app.config["CLEA_TRUSTED_PROXIES"] == 0
    seen = _probe(app)
    assert app.test_client().get("/_hardening_probe", headers=FORGED).status_code == 200
    assert seen == {"addr": "127.0.0.1", "host": "localhost", "scheme": "http"}
    _client, response = _log_in(app, FORGED)
    assert "Secure" not in _session_cookie(response)
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("app_overrides", [{"CLEA_TRUSTED_PROXIES": 1}])
def test_trusted_proxy_gives_client_address_and_host(app):
    seen = _probe(app)
    assert app.test_client().get("/_hardening_probe", headers=FORGED).status_code == 200
    assert seen == {"addr": "203.0.113.9", "host": "www.certificat-clea.fr", "scheme": "https"}


@pytest.mark.parametrize("app_overrides", [{"SESSION_COOKIE_SECURE": True}])
def test_session_cookie_secure_setting_applies_to_every_response(app):
    _client, response = _log_in(app)
    assert "; Secure" in _session_cookie(response)
    assert "; HttpOnly" in _session_cookie(response)
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize("env, secure", [
    ({"CLEA_PUBLIC_URL": "https://www.certificat-clea.fr"}, "True"),
    ({"CLEA_BASE_URL": "https://plateforme.certificat-clea.fr"}, "True"),
    ({"CLEA_PUBLIC_URL": "http://localhost:8080"}, "False"),
    ({}, "False"),
    ({"CLEA_PUBLIC_URL": "https://www.certificat-clea.fr", "SESSION_COOKIE_SECURE": "0"}, "False"),
])
def test_secure_cookie_defaults_to_the_configured_address_scheme(env, secure, tmp_path):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CLEA_PUBLIC_URL", "CLEA_BASE_URL", "SESSION_COOKIE_SECURE")}
    clean.update(env, SECRET_KEY="x" * 32, CLEA_INSTANCE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c",
                          "import config; print(config.Config.SESSION_COOKIE_SECURE, "
                          "config.Config.CLEA_TRUSTED_PROXIES, config.Config.CLEA_FORCE_HTTPS)"],
                         cwd=ROOT, env=clean, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [secure, "0", "False"]


@pytest.mark.parametrize("app_overrides", [{"CLEA_FORCE_HTTPS": True, "CLEA_TRUSTED_PROXIES": 1}])
def test_force_https_redirects_plain_http(app):
    client = app.test_client()
    response = client.get("/login/?x=1")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/login/?x=1"
    assert client.get("/login/", headers=HTTPS).status_code == 200


@pytest.mark.parametrize("app_overrides", [HEADERS_ON])
@pytest.mark.parametrize("path", ["/login/", "/", "/organismeview/list/", "/utilisateurview/add",
                                  "/evaluations/", "/stats/"])
def test_csp_runs_no_inline_script_without_the_nonce(app, path):
    client, _ = _log_in(app)
    if path == "/login/":
        client = app.test_client()
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    script_src = _script_src(response)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    nonces = [s for s in script_src if s.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0][len("'nonce-"):-1]
    html = response.text
    for tag in re.findall(r"<script\b[^>]*>", html):
        if "src=" not in tag:
            assert f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "event handler attribute"
    assert "javascript:" not in html.lower()
    # Each response has its own nonce.
    again = [s for s in _script_src(client.get(path)) if s.startswith("'nonce-")]
    assert again and again != nonces


def test_dev_server_names_no_version(app):
    """The Werkzeug server of `make run` (and of the browser tests) answers « Server: CleA »,
    not « Werkzeug/3.x Python/3.11 »."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/login/") as answer:
            assert answer.status == 200
            header = answer.headers["Server"]
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert header == "CleA"
    assert not re.search(r"\d", header)
