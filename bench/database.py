"""The bench database, PostgreSQL or SQLite: create it, empty it, migrate it, step its indexes
aside.

``BENCH_DATABASE_URL`` says which: ``postgresql://...`` (the default, a local database named
``bench``) or ``sqlite:////absolute/path.db``. The schema always comes from the Alembic
migrations, as in production. While bulk rows go in, the secondary indexes are dropped and
rebuilt afterwards from their own saved definitions (building an index once is far faster than
updating it 600,000 times), so the indexes measured are exactly the ones the migrations made.
"""

import os
import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench"
BULK_TABLES = ("tickets", "replies", "ticket_events")  # ticket_search rebuilds its own
# How many tickets a run seeds when not told: the sizes the targets are set at.
DEFAULT_TICKETS = {"postgresql": 1_000_000, "sqlite": 100_000}


def bench_database_url():
    """``BENCH_DATABASE_URL`` or the local default."""
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def dialect(url):
    """``sqlite`` or ``postgresql``."""
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def sqlite_path(url):
    """The file of a ``sqlite:///`` URL."""
    return Path(make_url(url).database)


def plain_url(url):
    """A libpq URL (``postgresql://``) from a SQLAlchemy one; SQLite URLs as they are."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlalchemy_url(url):
    """The SQLAlchemy URL the app expects (psycopg 3 for PostgreSQL)."""
    if dialect(url) == "sqlite":
        return url
    return "postgresql+psycopg://" + plain_url(url)[len("postgresql://"):]


def label(url):
    """The URL without a password, for messages and the report."""
    return make_url(plain_url(url)).render_as_string(hide_password=True)


@contextmanager
def connect(url, *, autocommit=False):
    """A driver connection (psycopg or sqlite3), committed and closed when the block ends."""
    if dialect(url) == "sqlite":
        connection = sqlite3.connect(sqlite_path(url), isolation_level=None if autocommit
                                     else "DEFERRED")
    else:
        connection = psycopg.connect(plain_url(url), autocommit=autocommit)
    try:
        yield connection
        connection.commit()
    finally:
        connection.close()


def is_sqlite(connection):
    """Is this driver connection SQLite's?"""
    return isinstance(connection, sqlite3.Connection)


def stored_time(connection, moment):
    """A UTC time as the app's ``UTCDateTime`` stores it: a timestamptz on PostgreSQL, on
    SQLite the text SQLAlchemy writes (``YYYY-MM-DD HH:MM:SS.ffffff``, compared as text)."""
    if moment is None or not is_sqlite(connection):
        return moment
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def insert_rows(connection, table, columns, rows):
    """``INSERT`` many rows (tuples in ``columns`` order) with the driver's own placeholders;
    datetimes are stored as the app stores them."""
    mark = "?" if is_sqlite(connection) else "%s"
    statement = (f"INSERT INTO {table} ({', '.join(columns)})"  # noqa: S608 - names from code
                 f" VALUES ({', '.join([mark] * len(columns))})")
    rows = [tuple(stored_time(connection, v) if isinstance(v, datetime) else v for v in row)
            for row in rows]
    cursor = connection.cursor()
    cursor.executemany(statement, rows)


def _maintenance_conninfo(url):
    """Same server and user, the ``postgres`` database: where CREATE/DROP DATABASE run."""
    url = plain_url(url)
    return make_conninfo(url, dbname="postgres"), conninfo_to_dict(url)["dbname"]


def create_database(url):
    """Create the database named in ``url`` unless it exists (a SQLite file's folder)."""
    if dialect(url) == "sqlite":
        sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
        return
    conninfo, name = _maintenance_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url):
    """Drop the database named in ``url`` (used by the test that makes its own)."""
    if dialect(url) == "sqlite":
        _remove_sqlite_files(url)
        return
    conninfo, name = _maintenance_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _remove_sqlite_files(url):
    """The database file and its journals: a SQLite database is its files."""
    path = sqlite_path(url)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def reset_schema(url):
    """Empty the database: drop and recreate the ``public`` schema, or start a new file."""
    if dialect(url) == "sqlite":
        _remove_sqlite_files(url)
        return
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
    if is_sqlite(connection):
        marks = ", ".join("?" * len(BULK_TABLES))
        return connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"  # noqa: S608
            f" AND tbl_name IN ({marks}) ORDER BY name", BULK_TABLES,
        ).fetchall()
    return connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = 'public' AND tablename = ANY(%s)"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
        (list(BULK_TABLES),),
    ).fetchall()


def drop_indexes(connection, indexes):
    """Drop the given indexes (their definitions are kept by the caller)."""
    for name, _definition in indexes:
        if is_sqlite(connection):
            connection.execute(f'DROP INDEX "{name}"')
        else:
            connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))


def rebuild_indexes(connection, indexes):
    """Recreate indexes from the definitions ``secondary_indexes`` returned."""
    for _name, definition in indexes:
        connection.execute(definition)


def vacuum(url):
    """Remove the dead row versions the bulk updates left (PostgreSQL; SQLite has none to
    mind)."""
    if dialect(url) == "sqlite":
        return
    with connect(url, autocommit=True) as connection:
        for table in BULK_TABLES:
            connection.execute(sql.SQL("VACUUM {}").format(sql.Identifier(table)))


def hidden_indexes(connection):
    """Bulk-table indexes PostgreSQL hides from transactions older than their build."""
    if is_sqlite(connection):
        return []
    return [name for (name,) in connection.execute(
        "SELECT indexrelid::regclass::text FROM pg_index"
        " WHERE indcheckxmin AND indrelid::regclass::text = ANY(%s) ORDER BY 1",
        (list(BULK_TABLES),))]


def vacuum_analyze(url):
    """Fresh statistics (and on PostgreSQL visibility maps), as a settled database has them:
    autovacuum on PostgreSQL; ``ANALYZE`` on SQLite (its file is new, so no VACUUM)."""
    with connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE" if is_sqlite(connection) else "VACUUM (ANALYZE)")


def server_version(url):
    """``PostgreSQL 15.x`` or ``SQLite 3.x``, for the report."""
    if dialect(url) == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connect(url) as connection:
        return "PostgreSQL " + connection.execute("SHOW server_version").fetchone()[0]
