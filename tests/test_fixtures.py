"""The fixtures keep their promises: each test starts from the world alone, whatever it commits."""

import threading

import pytest
from sqlalchemy import func, select, text

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.services import accounts


def counts():
    return (db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(Ticket)))


@pytest.mark.parametrize("attempt", [1, 2])
def test_every_test_starts_from_the_world_alone(app, world, attempt):
    """Whatever the tests before committed is gone; this one commits too, for the next."""
    with app.app_context():
        assert counts() == (len(world.users), len(world.tickets))
        accounts.create_user(email=f"left-behind-{attempt}@example.com", name="Left Behind",
                             role="agent", password="a-long-enough-password")  # commits
        assert counts() == (len(world.users) + 1, len(world.tickets))


def test_code_under_test_commits_and_rolls_back_as_in_production(app, world):
    """A commit survives a later rollback; a rollback undoes what came after the commit."""
    with app.app_context():
        accounts.create_user(email="kept@example.com", name="Kept", role="agent",
                             password="a-long-enough-password")  # commits
        alice = db.session.get(User, world.users["alice"])
        alice.name = "Renamed"
        db.session.flush()
        db.session.rollback()
        assert accounts.find_user("kept@example.com") is not None
        assert db.session.get(User, world.users["alice"]).name == "Alice"


def test_an_app_built_by_the_test_joins_its_transaction(app, tmp_path):
    """``create_app({**app.config, ...})`` on the same database sees the test's rows."""
    with app.app_context():
        accounts.create_user(email="seen@example.com", name="Seen", role="agent",
                             password="a-long-enough-password")
    other = create_app({**app.config, "INSTANCE_PATH": str(tmp_path / "other")})
    with other.app_context():
        assert accounts.find_user("seen@example.com") is not None


def test_savepoint_undoes_a_block_commits_included(app, world, savepoint):
    """Each block starts from the world again, as each Hypothesis example should."""
    for _ in range(2):
        with savepoint(), app.app_context():
            assert counts() == (len(world.users), len(world.tickets))
            accounts.create_user(email="again@example.com", name="Again", role="agent",
                                 password="a-long-enough-password")  # commits
            assert counts() == (len(world.users) + 1, len(world.tickets))


def test_another_thread_is_told_to_use_the_committed_path(app):
    """The rolled-back transaction belongs to the test's thread; another one gets a clear error."""
    errors = []

    def query():
        with app.app_context():
            try:
                db.session.execute(text("SELECT 1"))
            except RuntimeError as error:
                errors.append(str(error))

    thread = threading.Thread(target=query)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "@pytest.mark.committed" in errors[0]


@pytest.mark.committed
def test_committed_tests_get_an_empty_database_that_really_commits(app):
    """No world unless asked for; a second connection sees what the test committed."""
    with app.app_context():
        assert counts() == (0, 0)
        accounts.create_user(email="durable@example.com", name="Durable", role="agent",
                             password="a-long-enough-password")
        with db.engine.connect() as elsewhere:
            assert elsewhere.scalar(select(func.count()).select_from(User)) == 1
