"""Application factory: `create_app()` reads like a table of contents, one init per concern."""
from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from flask import Flask

from .extensions import csrf, db, mail, migrate

log = logging.getLogger(__name__)


def create_app(config: Any = None, **overrides: Any) -> Flask:
    app = Flask(__name__, instance_path=str(_instance_dir()))
    app.config.from_object(config or "config.Config")
    app.config.update(overrides)
    from .services.passwords import fab_password_validator

    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = fab_password_validator
    init_extensions(app)
    init_appbuilder(app)
    init_refusals(app)
    init_security_headers(app)
    init_capture(app)
    init_cli(app)
    return app


def _instance_dir() -> Path:
    from config import INSTANCE_DIR

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return INSTANCE_DIR


def init_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        enforce_foreign_keys(db.engine)
    # migrations/env.py targets flask_appbuilder.Model.metadata (not db.metadata).
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"),
                     render_as_batch=True)
    mail.init_app(app)
    csrf.init_app(app)


def enforce_foreign_keys(engine) -> None:
    """SQLite checks foreign keys only when asked, on each connection: ask, so that the
    embedded database refuses to orphan rows as PostgreSQL does (ON DELETE RESTRICT)."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _foreign_keys_on(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def init_appbuilder(app: Flask) -> None:
    from flask_appbuilder import AppBuilder

    from . import models  # noqa: F401  (register every model on Model.metadata)
    from .services import audit  # noqa: F401  (the journal's session listeners)
    from .services import agregats  # noqa: F401  (the Stats aggregates' session listeners)
    from .api import register_apis
    from .api.openapi import install as install_openapi
    from .views import register_views

    with app.app_context():
        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
        register_apis(appbuilder)
        install_openapi(app)
        # The REST API changes state only with a bearer token (security/api_writes.py), which
        # no foreign page can send: CSRF tokens apply to the HTML forms only.
        for name, blueprint in app.blueprints.items():
            if name.endswith("Api") or name in ("SecurityApi", "OpenApi", "MenuApi"):
                csrf.exempt(blueprint)


def init_refusals(app: Flask) -> None:
    """French pages and JSON for every refusal of the framework, the 503 of a database
    outage, and the bearer token required by every API write (DESIGN.md §11)."""
    from .security.api_writes import init_api_writes
    from .views.refusals import init_jwt_refusals, register_refusals

    from .api.corps import install as install_corps

    register_refusals(app)
    init_api_writes(app)
    install_corps(app)  # after the checks above: a bearer token, numbers a column holds
    with app.app_context():
        init_jwt_refusals(app.appbuilder.sm.jwt_manager)


def init_security_headers(app: Flask) -> None:
    """Proxy trust, HTTPS-only cookies, HSTS, CSP and the `Server` header (see README,
    « Configuration (environment) »)."""
    init_proxies(app)
    init_https(app)
    init_server_header()
    if not app.config.get("CLEA_SECURITY_HEADERS", True):
        return
    from flask_talisman import Talisman

    Talisman(
        app,
        # HTTPS redirect and HSTS are ours (init_https): Talisman would believe any
        # client's X-Forwarded-Proto, trusted proxy or not.
        force_https=False,
        strict_transport_security=False,
        session_cookie_secure=app.config.get("SESSION_COOKIE_SECURE", False),
        frame_options="DENY",
        content_security_policy={
            "default-src": "'self'",
            "img-src": "'self' data:",
            # Bootstrap, Select2 and FAB set style attributes: inline styles stay allowed
            # (they cannot run code).
            "style-src": "'self' 'unsafe-inline'",
            # No inline script runs but FAB's own <script nonce=…> blocks (its templates put
            # the request's csp_nonce() on them); ours live in static/clea/. Event handler
            # attributes (onclick=…) and javascript: URLs are refused.
            "script-src": "'self'",
            "font-src": "'self' data:",
            "object-src": "'none'",
            "base-uri": "'self'",
            "form-action": "'self'",
            "frame-ancestors": "'none'",
        },
        content_security_policy_nonce_in=["script-src"],
        referrer_policy="same-origin",
    )


def init_proxies(app: Flask) -> None:
    """Behind CLEA_TRUSTED_PROXIES reverse proxies, believe their X-Forwarded-For, -Proto and
    -Host (client address for rate limits and the audit, https for cookies and HSTS); with
    0 (the default) every X-Forwarded-* header is ignored, as any client can send one."""
    trusted = int(app.config.get("CLEA_TRUSTED_PROXIES") or 0)
    if trusted > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted)


def init_https(app: Flask) -> None:
    """HTTPS requests (direct TLS, or a trusted proxy's X-Forwarded-Proto) get Secure cookies
    and HSTS; CLEA_FORCE_HTTPS redirects plain HTTP to HTTPS."""
    from flask import redirect, request

    app.session_interface = _https_aware(type(app.session_interface))()
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config.get("SESSION_COOKIE_SECURE", False))
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)

    @app.before_request
    def _force_https():
        if app.config.get("CLEA_FORCE_HTTPS") and not request.is_secure:
            return redirect(request.url.replace("http://", "https://", 1), code=301)
        return None

    @app.after_request
    def _hsts(response):
        max_age = int(app.config.get("CLEA_HSTS_MAX_AGE") or 0)
        if request.is_secure and max_age > 0:
            response.headers["Strict-Transport-Security"] = f"max-age={max_age}; includeSubDomains"
        return response


@functools.lru_cache(maxsize=None)
def _https_aware(interface_class: type) -> type:
    """The app's session interface (its own class kept), whose cookie is Secure on every
    HTTPS request, SESSION_COOKIE_SECURE or not."""
    from flask import has_request_context, request

    class HttpsAwareSessionInterface(interface_class):
        def get_cookie_secure(self, app: Flask) -> bool:
            return bool(super().get_cookie_secure(app)
                        or (has_request_context() and request.is_secure))

    return HttpsAwareSessionInterface


SERVER_HEADER = "CleA"


def init_server_header() -> None:
    """Werkzeug's server (`make run`, the browser tests) says « Server: CleA », not its and
    Python's versions. (gunicorn sends « Server: gunicorn », without a version.)"""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.version_string = _server_header


def _server_header(_handler) -> str:
    return SERVER_HEADER


def init_capture(app: Flask) -> None:
    """Bench-only: SQL statements counted and recorded per request (CLEA_BENCH_CAPTURE)."""
    from .capture import init_capture as _init

    _init(app)


def init_cli(app: Flask) -> None:
    from .cli import clea

    app.cli.add_command(clea)
