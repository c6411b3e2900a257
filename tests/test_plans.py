"""PostgreSQL's plans kept across requests (helpdesk/plans.py): a request that only read ends
in a commit, so its connection keeps its prepared statements; a request that wrote and did not
commit still ends in a rollback, so nothing half-done is saved. Committed tests: the point is
what happens to real transactions on real connections."""

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import OperationalError

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.models import Ticket
from tests.world import email

pytestmark = pytest.mark.committed


@pytest.fixture
def endings(app):
    """How each transaction on the app's engine ended, in order."""
    ended = []
    with app.app_context():
        engine = db.engine

    def on_commit(_connection):
        ended.append("commit")

    def on_rollback(_connection):
        ended.append("rollback")

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    yield ended
    event.remove(engine, "commit", on_commit)
    event.remove(engine, "rollback", on_rollback)


def on_postgresql(app):
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_a_request_that_only_read_keeps_its_plans(app, world, client, auth, endings):
    """The queue, read by an agent: its transaction commits (PostgreSQL) and the connection
    holds the statements prepared after psycopg's threshold, instead of forgetting them."""
    auth.login(email("agent"))
    endings.clear()
    for _ in range(8):
        assert client.get("/tickets").status_code == 200
    if not on_postgresql(app):
        assert set(endings) == {"rollback"}  # SQLite has no plans to keep: unchanged
        return
    assert endings and set(endings) == {"commit"}, endings
    with app.app_context():
        prepared = db.session.scalars(text(
            "SELECT statement FROM pg_prepared_statements")).all()
    assert any("FROM tickets" in statement for statement in prepared), prepared


def test_a_request_that_wrote_without_committing_is_rolled_back(app, world, endings):
    """An update left uncommitted by a request that then answered normally (an error page,
    say) is rolled back, never saved by the commit that ends read-only requests."""
    ticket_id = world.tickets["alice"]
    with app.app_context():
        before = db.session.get(Ticket, ticket_id).subject
    with app.test_request_context("/tickets"):
        db.session.execute(update(Ticket).where(Ticket.id == ticket_id).values(
            subject="never saved"))
        db.session.scalar(select(Ticket.subject).where(Ticket.id == ticket_id))
    assert endings[-1] == "rollback"
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).subject == before


def test_a_request_that_failed_is_rolled_back(app, world, endings):
    """A request whose view raised ends in a rollback, read-only or not."""
    with pytest.raises(RuntimeError), app.test_request_context("/tickets"):
        db.session.scalar(select(Ticket.id).limit(1))
        raise RuntimeError("the view failed")
    assert endings[-1] == "rollback"


def test_pending_objects_are_rolled_back_not_flushed(app, world, endings):
    """An object changed in the session but never flushed is not flushed by the commit."""
    ticket_id = world.tickets["alice"]
    with app.app_context():
        before = db.session.get(Ticket, ticket_id).subject
    with app.test_request_context("/tickets"):
        db.session.get(Ticket, ticket_id).subject = "never saved either"
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).subject == before


def test_turned_off_for_pgbouncer(app, monkeypatch, tmp_path):
    """``DATABASE_PREPARED_STATEMENTS=0`` (PgBouncer before 1.22): psycopg never prepares."""
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "0")
    keep = ("TESTING", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "PASSWORD_HASH_PROFILE")
    other = create_app({**{key: app.config[key] for key in keep},
                        "INSTANCE_PATH": str(tmp_path)})
    with other.app_context():
        connection = db.session.connection().connection.driver_connection
        if db.engine.dialect.name == "postgresql":
            assert connection.prepare_threshold is None
        else:
            assert not hasattr(connection, "prepare_threshold")
        db.engine.dispose()


def test_a_failed_commit_at_the_end_leaves_the_answer_and_the_next_request(
        app, world, client, auth, monkeypatch):
    """The connection lost as a read-only request ends: the page already made is answered,
    the session is rolled back and closed, and the next request is served as usual. (SQLite
    keeps no plans: its requests never end in that commit.)"""
    auth.login(email("agent"))
    with app.app_context():
        session_class = type(db.session())
    commit = session_class.commit
    failures = []

    def lost(self):
        if not failures:
            failures.append(True)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
        return commit(self)

    monkeypatch.setattr(session_class, "commit", lost)
    assert client.get("/tickets").status_code == 200
    assert bool(failures) is on_postgresql(app)
    assert client.get("/tickets").status_code == 200
