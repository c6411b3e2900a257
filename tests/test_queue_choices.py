"""The queue's filter choices and saved views, kept per process (helpdesk/desk/choices.py):
kept while nothing changed, read again as soon as a category, a user or a saved view did."""

import re

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import update

from helpdesk.desk import choices
from helpdesk.extensions import db
from helpdesk.models import Category, User
from helpdesk.services import accounts
from tests.conftest import AuthActions
from tests.world import email


def category_options(html):
    select = re.search(r'<select id="filter-category".*?</select>', html, re.S).group(0)
    return re.findall(r">([^<]+)</option>", select)[1:]


def assignee_options(html):
    select = re.search(r'<select id="filter-assignee".*?</select>', html, re.S).group(0)
    return re.findall(r">([^<]+)</option>", select)[3:]


@pytest.fixture
def reads(monkeypatch):
    """How many times the lists were read from the database."""
    counted = {"reads": 0}
    read = choices._read

    def counting(user):
        counted["reads"] += 1
        return read(user)

    monkeypatch.setattr(choices, "_read", counting)
    return counted


def test_kept_while_nothing_changes(client, auth, world, reads):
    auth.login(email("agent"))
    first = client.get("/tickets").text
    second = client.get("/tickets").text
    assert category_options(first) == category_options(second) != []
    assert reads["reads"] == 1


def test_a_new_category_shows_at_once(app, client, auth, world, reads):
    auth.login(email("agent"))
    assert "Fibre outages" not in category_options(client.get("/tickets").text)
    with app.app_context():
        db.session.add(Category(name="Fibre outages", position=99))
        db.session.commit()
    assert "Fibre outages" in category_options(client.get("/tickets").text)
    assert reads["reads"] == 2


def test_a_rename_in_one_statement_shows_at_once(app, client, auth, world):
    """An UPDATE run through the session (no objects flushed) renews the token too."""
    auth.login(email("agent"))
    [before, *_] = category_options(client.get("/tickets").text)
    with app.app_context():
        db.session.execute(update(Category).where(Category.name == before)
                           .values(name="Renamed in bulk"))
        db.session.commit()
    assert "Renamed in bulk" in category_options(client.get("/tickets").text)


def test_a_disabled_agent_leaves_the_staff_list(app, client, auth, world):
    auth.login(email("agent"))
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        name = admin.name
    assert name in assignee_options(client.get("/tickets").text)
    with app.app_context():  # the last admin cannot be disabled: another one first
        accounts.create_user(email="second-admin@test.example", name="Second", role="admin",
                             password="a-long-password-1")
        accounts.set_disabled(db.session.get(User, world.users["admin"]), disabled=True,
                              actor=db.session.get(User, world.users["agent"]))
    assert name not in assignee_options(client.get("/tickets").text)


def test_a_change_rolled_back_keeps_the_lists(app, client, auth, world, reads):
    auth.login(email("agent"))
    client.get("/tickets")
    with app.app_context():
        db.session.add(Category(name="Never kept", position=98))
        db.session.flush()
        db.session.rollback()
    assert "Never kept" not in category_options(client.get("/tickets").text)
    assert reads["reads"] == 1


def test_without_redis_the_lists_are_read_every_time(app, client, auth, world, reads,
                                                     monkeypatch):
    """Redis down: the page still shows, read fresh each time (nothing kept)."""
    auth.login(email("agent"))

    def down():
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(choices, "get_redis", down)
    for _ in range(2):
        assert category_options(client.get("/tickets").text)
    assert reads["reads"] == 2


def test_the_filter_form_shows_the_filters_asked_for(client, auth, world):
    """The form is kept per view of the queue: each view shows its own selections."""
    auth.login(email("agent"))
    for _ in range(2):
        plain = client.get("/tickets").text
        urgent = client.get("/tickets?priority=urgent&q=router").text
        assert 'value="urgent" selected' in urgent and 'value="router"' in urgent
        assert 'value="urgent" selected' not in plain and 'value="router"' not in plain


def test_a_sign_in_does_not_renew_the_lists(app, client, auth, world, reads):
    """Signing in writes the user's last-login time, which the lists do not show."""
    auth.login(email("agent"))
    client.get("/tickets")
    AuthActions(app.test_client()).login(email("admin"))
    client.get("/tickets")
    assert reads["reads"] == 1


def test_another_process_change_shows_within_the_interval(app, client, auth, world, reads,
                                                          monkeypatch):
    """Redis is asked at most once per interval: a token renewed by another process (here,
    written to Redis directly) is seen after the interval; a change made here, at once."""
    monkeypatch.setitem(app.config, "QUEUE_CHOICES_CHECK_SECONDS", 60)
    clock = {"now": 1000.0}
    monkeypatch.setattr(choices.time, "monotonic", lambda: clock["now"])
    monkeypatch.setitem(choices._seen, "token", None)
    auth.login(email("agent"))
    client.get("/tickets")
    with app.app_context():
        choices.get_redis().set(choices.REDIS_KEY, b"renewed-elsewhere")
    client.get("/tickets")
    assert reads["reads"] == 1  # within the interval: what this process kept
    clock["now"] += 61
    client.get("/tickets")
    assert reads["reads"] == 2  # the interval passed: Redis said the lists changed
    with app.app_context():
        db.session.add(Category(name="Made here", position=97))
        db.session.commit()
    assert "Made here" in category_options(client.get("/tickets").text)
    assert reads["reads"] == 3
