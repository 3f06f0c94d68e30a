"""Application factory: `create_app()` reads like a table of contents, one init per concern."""
from __future__ import annotations

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
    init_security_headers(app)
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
    from .api import register_apis
    from .views import register_views

    with app.app_context():
        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
        register_apis(appbuilder)
        init_jwt_messages(appbuilder.sm.jwt_manager)
        # The REST API authenticates with JWT; CSRF applies to HTML forms only.
        for name, blueprint in app.blueprints.items():
            if name.endswith("Api") or name in ("SecurityApi", "OpenApi", "MenuApi"):
                csrf.exempt(blueprint)


def init_jwt_messages(jwt_manager) -> None:
    """French JSON for missing, invalid or expired API tokens."""
    from flask import jsonify
    from flask_babel import gettext as _

    def unauthorized(*_args):
        return jsonify(message=_("Authentification requise.")), 401

    def expired(*_args):
        return jsonify(message=_("Jeton expiré : reconnectez-vous.")), 401

    jwt_manager.unauthorized_loader(unauthorized)
    jwt_manager.invalid_token_loader(unauthorized)
    jwt_manager.expired_token_loader(expired)


def init_security_headers(app: Flask) -> None:
    if not app.config.get("CLEA_SECURITY_HEADERS", True):
        return
    from flask_talisman import Talisman

    Talisman(
        app,
        force_https=False,
        session_cookie_secure=app.config.get("SESSION_COOKIE_SECURE", False),
        frame_options="DENY",
        content_security_policy={
            "default-src": "'self'",
            "img-src": "'self' data:",
            "style-src": "'self' 'unsafe-inline'",
            # FAB's templates use inline scripts; everything is still served locally.
            "script-src": "'self' 'unsafe-inline'",
            "font-src": "'self' data:",
        },
        referrer_policy="same-origin",
    )


def init_cli(app: Flask) -> None:
    from .cli import clea

    app.cli.add_command(clea)
