"""The Alembic migrations build exactly the schema the models describe (no forgotten
migration), on PostgreSQL and SQLite."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model

from app.extensions import db
from tests.conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_models_match_migrations(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, Model.metadata)
    assert diff == [], "Run `flask db migrate` and commit the migration:\n" + "\n".join(
        map(str, diff))
