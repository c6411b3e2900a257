"""The bench database: create it, empty it, migrate it, and step its indexes aside.

The schema always comes from the Alembic migrations, as in production. While bulk rows go in,
the secondary indexes are dropped and rebuilt afterwards from their own saved definitions
(building a GIN index once is far faster than updating it 600,000 times), so the indexes
measured are exactly the ones the migrations made.
"""

import os

import psycopg
from flask_migrate import upgrade
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench"
BULK_TABLES = ("tickets", "replies", "ticket_events", "search_documents")


def bench_database_url():
    """``BENCH_DATABASE_URL`` or the local default."""
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def plain_url(url):
    """A libpq URL (``postgresql://``) from a SQLAlchemy one."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlalchemy_url(url):
    """The SQLAlchemy URL the app expects (psycopg 3)."""
    return "postgresql+psycopg://" + plain_url(url)[len("postgresql://"):]


def connect(url, **options):
    """A psycopg connection to ``url``."""
    return psycopg.connect(plain_url(url), **options)


def _maintenance_conninfo(url):
    """Same server and user, the ``postgres`` database: where CREATE/DROP DATABASE run."""
    url = plain_url(url)
    return make_conninfo(url, dbname="postgres"), conninfo_to_dict(url)["dbname"]


def create_database(url):
    """Create the database named in ``url`` unless it exists."""
    conninfo, name = _maintenance_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url):
    """Drop the database named in ``url`` (used by the test that makes its own)."""
    conninfo, name = _maintenance_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def reset_schema(url):
    """Empty the database: drop and recreate the ``public`` schema."""
    with connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")


def migrate(app):
    """Apply every migration, as ``flask db upgrade`` does."""
    with app.app_context():
        upgrade()
        from helpdesk.extensions import db

        db.engine.dispose()


def secondary_indexes(connection):
    """``(name, definition)`` of the bulk tables' indexes that back no constraint."""
    return connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = 'public' AND tablename = ANY(%s)"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
        (list(BULK_TABLES),),
    ).fetchall()


def drop_indexes(connection, indexes):
    """Drop the given indexes (their definitions are kept by the caller)."""
    for name, _definition in indexes:
        connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))


def rebuild_indexes(connection, indexes):
    """Recreate indexes from the definitions ``secondary_indexes`` returned."""
    for _name, definition in indexes:
        connection.execute(definition)


def vacuum_analyze(url):
    """Fresh statistics and visibility maps, as autovacuum would leave a settled database."""
    with connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
