"""Sessions (OWASP ASVS V3): sign-out signs out, every copy of a cookie dies with its
sign-in, sign-ins end at a fixed time, a disabled user gets nothing."""

import re
from datetime import timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import update

from helpdesk.extensions import db
from helpdesk.models import SignIn, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import accounts
from tests.conftest import csrf_token_from
from tests.sign_ins import (
    ENDED,
    new_client,
    shift_times,
    sign_in_rows,
    signed_in,
    with_cookie,
)
from tests.world import PASSWORD, email


def test_remember_cookie_is_gone_after_sign_out(app, client, auth, world):
    """Signing out with "keep me signed in" deletes the cookie; the next request is anonymous."""
    auth.login(email("agent"), remember=True)
    assert client.get_cookie("remember_token") is not None
    response = auth.logout()
    assert response.headers["Location"] == "/login"
    deletions = [c for c in response.headers.getlist("Set-Cookie")
                 if c.startswith("remember_token=")]
    assert deletions and "Expires=Thu, 01 Jan 1970" in deletions[0]
    assert client.get_cookie("remember_token") is None
    assert not signed_in(client)
    [row] = sign_in_rows(app, world.users["agent"])
    assert row.ended_at is not None


def test_copied_cookies_do_not_sign_in_after_sign_out(app, client, auth, world):
    """Copies of the session and remember cookies, taken before sign-out, die with it."""
    auth.login(email("agent"), remember=True)
    session_copy = client.get_cookie("session").value
    remember_copy = client.get_cookie("remember_token").value
    # Before sign-out each copy alone signs a fresh browser in: the test can tell.
    assert signed_in(with_cookie(app, "session", session_copy))
    assert signed_in(with_cookie(app, "remember_token", remember_copy))
    auth.logout()
    for name, value in (("session", session_copy), ("remember_token", remember_copy)):
        replay = with_cookie(app, name, value)
        response = replay.get("/tickets")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
        assert not signed_in(replay, "/portal/tickets")
    both = with_cookie(app, "session", session_copy)
    both.set_cookie("remember_token", remember_copy)
    assert not signed_in(both)


def test_sign_out_ends_only_this_sign_in(app, auth, world):
    """Signing out in one browser leaves the same user's other browsers signed in."""
    laptop, laptop_auth = new_client(app)
    phone, phone_auth = new_client(app)
    laptop_auth.login(email("agent"))
    phone_auth.login(email("agent"))
    laptop_auth.logout()
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_the_token_is_not_stored_and_not_the_user_id(app, client, auth, world):
    """The session carries a random sign-in token; the table keeps only its SHA-256."""
    auth.login(email("agent"))
    with client.session_transaction() as session:
        token = session["_user_id"]
    [row] = sign_in_rows(app, world.users["agent"])
    assert token != str(world.users["agent"]) and len(token) >= 40
    assert row.token_hash != token and len(row.token_hash) == 64
    assert token not in row.token_hash


# Fixed ends ------------------------------------------------------------------------------


def test_sign_in_ends_are_fixed_at_sign_in(app, world):
    """Plain: SESSION_MAX_HOURS after sign-in; kept signed in: REMEMBER_COOKIE_DAYS."""
    app.config.update(SESSION_MAX_HOURS=3, REMEMBER_COOKIE_DAYS=9)
    _plain, plain_auth = new_client(app)
    _kept, kept_auth = new_client(app)
    plain_auth.login(email("agent"))
    kept_auth.login(email("agent"), remember=True)
    first, second = sign_in_rows(app, world.users["agent"])
    assert (first.remember, second.remember) == (False, True)
    assert first.expires_at - first.created_at == timedelta(hours=3)
    assert second.expires_at - second.created_at == timedelta(days=9)


def test_copied_remember_cookie_stops_after_remember_cookie_days(app, client, auth, world):
    """Using a copied remember cookie never moves its end; past it, it signs no one in."""
    auth.login(email("agent"), remember=True)
    remember_copy = client.get_cookie("remember_token").value
    [before] = sign_in_rows(app, world.users["agent"])
    for _ in range(3):
        replay = with_cookie(app, "remember_token", remember_copy)
        response = replay.get("/tickets")
        assert response.status_code == 200
        # The cookie is not re-issued with a later expiry either.
        assert not [c for c in response.headers.getlist("Set-Cookie")
                    if c.startswith("remember_token=")]
    [after] = sign_in_rows(app, world.users["agent"])
    assert after.expires_at == before.expires_at
    shift_times(app, world.users["agent"], timedelta(days=app.config["REMEMBER_COOKIE_DAYS"]))
    assert not signed_in(with_cookie(app, "remember_token", remember_copy))
    assert not signed_in(client)


def test_remember_cookie_still_works_just_before_its_end(app, client, auth, world):
    """The control for the test above: a day short of the end, the cookie still signs in."""
    auth.login(email("agent"), remember=True)
    remember_copy = client.get_cookie("remember_token").value
    days = app.config["REMEMBER_COOKIE_DAYS"]
    shift_times(app, world.users["agent"], timedelta(days=days - 1))
    assert signed_in(with_cookie(app, "remember_token", remember_copy))


def test_absolute_lifetime_ends_an_active_session(app, client, auth, world):
    """However busy, a sign-in ends SESSION_MAX_HOURS after it started; the user is told
    so and, signing in again, lands where they were."""
    auth.login(email("agent"))
    assert signed_in(client)
    shift_times(app, world.users["agent"], timedelta(hours=app.config["SESSION_MAX_HOURS"]))
    with app.app_context():  # it was active a moment ago
        db.session.execute(update(SignIn).where(SignIn.user_id == world.users["agent"])
                           .values(last_seen_at=utcnow()))
        db.session.commit()
    response = client.get("/tickets?status=open")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/tickets?status=open"]
    page = client.get(response.headers["Location"])
    assert ENDED in page.text
    assert "Sign in to continue." not in page.text
    assert client.get("/login").text.count(ENDED) == 0  # said once, not on every visit
    token = csrf_token_from(page.text)
    again = client.post(response.headers["Location"], data={
        "email": email("agent"), "password": PASSWORD, "csrf_token": token})
    assert again.headers["Location"] == "/tickets?status=open"
    assert signed_in(client)


def test_kept_signed_in_also_ends_after_session_max_hours_only_if_not_kept(app, world):
    """Past SESSION_MAX_HOURS a "keep me signed in" sign-in goes on; a plain one does not."""
    plain, plain_auth = new_client(app)
    kept, kept_auth = new_client(app)
    plain_auth.login(email("agent"))
    kept_auth.login(email("agent"), remember=True)
    shift_times(app, world.users["agent"], timedelta(hours=app.config["SESSION_MAX_HOURS"]))
    assert not signed_in(plain)
    assert signed_in(kept)


def test_a_plain_visit_is_not_told_its_session_ended(client, world):
    """Only a browser whose sign-in ended hears that it ended."""
    response = client.get("/tickets", follow_redirects=True)
    assert "Sign in to continue." in response.text
    assert ENDED not in response.text


def test_the_session_cookie_is_set_at_sign_in_only(app, client, auth, world):
    """The cookie lasts as long as a plain sign-in may (SESSION_MAX_HOURS) and is not written
    again on every request: the server, not the cookie, ends an idle sign-in."""
    response = auth.login(email("agent"))
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    expires = re.search(r"Expires=([^;]+)", cookie).group(1)
    left = parsedate_to_datetime(expires) - utcnow()
    hours = app.config["SESSION_MAX_HOURS"]
    assert timedelta(hours=hours) - timedelta(minutes=1) < left <= timedelta(hours=hours)
    client.get("/tickets")  # the first page shows (and so removes) the sign-in's flash
    assert "Set-Cookie" not in client.get("/tickets").headers


def test_an_idle_sign_in_ends_unless_kept(app, world):
    """SESSION_LIFETIME_HOURS after its last request a plain sign-in has ended, and the user
    is told so; a "keep me signed in" one goes on. (Idle well before the absolute end.)"""
    app.config.update(SESSION_LIFETIME_HOURS=2, SESSION_MAX_HOURS=24)
    plain, plain_auth = new_client(app)
    kept, kept_auth = new_client(app)
    plain_auth.login(email("agent"))
    kept_auth.login(email("agent"), remember=True)
    idle = timedelta(hours=app.config["SESSION_LIFETIME_HOURS"])
    shift_times(app, world.users["agent"], idle - timedelta(minutes=1))
    assert signed_in(plain) and signed_in(kept)  # a minute short: still open (and seen now)
    shift_times(app, world.users["agent"], idle + timedelta(minutes=1))
    response = plain.get("/tickets")
    assert response.status_code == 302
    assert ENDED in plain.get(response.headers["Location"]).text
    assert signed_in(kept)


def test_last_seen_is_written_at_most_every_few_minutes(app, client, auth, world):
    """A signed-in request costs one query; the last-seen time is refreshed only when stale."""
    auth.login(email("agent"))
    shift_times(app, world.users["agent"], timedelta(minutes=10))
    [stale] = sign_in_rows(app, world.users["agent"])
    assert client.get("/").status_code == 302
    [fresh] = sign_in_rows(app, world.users["agent"])
    assert fresh.last_seen_at > stale.last_seen_at + timedelta(minutes=9)
    client.get("/")
    [same] = sign_in_rows(app, world.users["agent"])
    assert same.last_seen_at == fresh.last_seen_at


def test_a_signed_in_request_loads_its_user_in_one_query(app, client, auth, world,
                                                         count_queries):
    """The sign-in check joins the user: one statement for ``/``, which only redirects."""
    auth.login(email("agent"))
    with count_queries() as counter:
        assert client.get("/").headers["Location"] == "/tickets"
    assert counter.count == 1


def test_disabled_user_gets_nothing(app, client, auth, world):
    """Disabling ends the session and any copied remember cookie, and refuses sign-in."""
    auth.login(email("agent"), remember=True)
    remember_copy = client.get_cookie("remember_token").value
    session_copy = client.get_cookie("session").value
    with app.app_context():
        accounts.set_disabled(db.session.get(User, world.users["agent"]), disabled=True)
    assert not signed_in(client)
    assert not signed_in(with_cookie(app, "remember_token", remember_copy))
    assert not signed_in(with_cookie(app, "session", session_copy))
    assert auth.login(email("agent")).status_code == 401
    assert all(row.ended_at for row in sign_in_rows(app, world.users["agent"]))
    with app.app_context():  # re-enabled, the old cookies stay dead
        accounts.set_disabled(db.session.get(User, world.users["agent"]), disabled=False)
    assert not signed_in(with_cookie(app, "remember_token", remember_copy))


def test_ending_every_sign_in_ends_idle_ones_too(app, world):
    """A password change ends an idle sign-in as well, so raising the idle limit afterwards
    cannot bring an old copied cookie back."""
    app.config.update(SESSION_LIFETIME_HOURS=2, SESSION_MAX_HOURS=24)
    idle, idle_auth = new_client(app)
    idle_auth.login(email("agent"))
    shift_times(app, world.users["agent"], timedelta(hours=3))
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        assert accounts.sign_ins.end_all(agent) == 1
        db.session.commit()
    app.config.update(SESSION_LIFETIME_HOURS=12)
    assert not signed_in(idle)
