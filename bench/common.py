"""What every benchmark starts from: a throw-away PostgreSQL 15 (as the test suite starts it),
the schema through the migrations, the test world, and an application on that database."""
from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import PostgresServer, prepare_database  # noqa: E402


@contextlib.contextmanager
def bench_app(**config):
    """with bench_app() as (app, world): … inside the app's context; everything is removed
    afterwards (the server is stopped, its files deleted)."""
    base = Path(tempfile.mkdtemp(prefix="clea-bench-"))
    server = PostgresServer(base)
    server.start()
    try:
        server.execute("CREATE DATABASE clea_bench")
        url = server.url("clea_bench")
        world = prepare_database(url)
        from app import create_app
        from app.extensions import db

        app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url,
                         UPLOAD_DIR=str(base / "uploads"), **config)
        with app.app_context():
            yield app, world
            db.session.remove()
            db.engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def load(statements: str, **values) -> None:
    """Run a `;\\n`-separated SQL script (str.format'ed with `values`) and commit."""
    from sqlalchemy import text

    from app.extensions import db

    for statement in statements.format(**values).split(";\n"):
        if statement.strip():
            db.session.execute(text(statement))
    db.session.commit()
