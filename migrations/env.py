import logging
from logging.config import fileConfig

from flask import current_app

from alembic import context

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name)
logger = logging.getLogger('alembic.env')


def get_engine():
    try:
        # this works with Flask-SQLAlchemy<3 and Alchemical
        return current_app.extensions['migrate'].db.get_engine()
    except (TypeError, AttributeError):
        # this works with Flask-SQLAlchemy>=3
        return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    # FAB's declarative base, not Flask-SQLAlchemy's db.metadata: our models and ab_* tables.
    from flask_appbuilder import Model

    import app.models  # noqa: F401  (register every table)

    return Model.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, False)
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            **conf_args
        )

        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            _report_orphans(connection)
            _sqlite_foreign_keys(connection, True)


def _sqlite_foreign_keys(connection, on):
    """SQLite rebuilds a table (batch mode) by copying it, dropping the old one and renaming
    the copy: with foreign keys enforced, the drop would delete or refuse the rows pointing
    to it. The app enforces them on every connection (app/__init__.py), so they are
    switched off for the migration and back on afterwards (outside any transaction, where
    SQLite accepts the pragma)."""
    connection.commit()
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar() != int(on):
        raise RuntimeError("SQLite did not accept PRAGMA foreign_keys (open transaction?)")


def _report_orphans(connection):
    """Rows that point to nothing (left by a version that did not enforce foreign keys on
    SQLite) are reported: the database refuses new ones, it cannot invent the missing row."""
    orphans = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    counts = {}
    for table, _rowid, parent, _fkid in orphans:
        counts[(table, parent)] = counts.get((table, parent), 0) + 1
    for (table, parent), count in sorted(counts.items()):
        logger.warning("%d row(s) of %s point to a missing %s row", count, table, parent)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
