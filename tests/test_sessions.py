"""Sessions (OWASP ASVS V3): sign-out signs out, every copy of a cookie dies with its
sign-in, sign-ins end at a fixed time, and a user (or an admin) can end them all."""

import html
import re
from datetime import timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.models import AuditEntry, SignIn, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import accounts
from tests.conftest import AuthActions, csrf_token_from
from tests.world import PASSWORD, email

ENDED = "Your session has ended; sign in again."
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def signed_in(client, path="/tickets"):
    """Whether this client is signed in: a desk page answers 200 rather than a redirect."""
    response = client.get(path)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def new_client(app, headers=None):
    """Another browser, with its own cookie jar and the helper to sign it in."""
    client = app.test_client()
    if headers:
        client.environ_base.update(headers)
    return client, AuthActions(client)


def with_cookie(app, name, value):
    """A fresh browser holding only a copy of one cookie."""
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def sign_in_rows(app, user_id):
    """Every sign-in of a user, oldest first, read fresh from the database."""
    with app.app_context():
        return db.session.scalars(
            select(SignIn).where(SignIn.user_id == user_id).order_by(SignIn.id)).all()


def shift_times(app, user_id, delta):
    """Move a user's sign-ins back by ``delta``; done in Python so SQLite and Postgres agree."""
    with app.app_context():
        for row in db.session.scalars(select(SignIn).where(SignIn.user_id == user_id)):
            row.created_at -= delta
            row.expires_at -= delta
            row.last_seen_at -= delta
        db.session.commit()


def audit_actions(app, user_id):
    """(action, actor id) of every audit entry about a user, oldest first."""
    with app.app_context():
        return [(entry.action, entry.actor_id) for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.subject_user_id == user_id)
            .order_by(AuditEntry.id))]


def post_form(client, page, action, data=None):
    """Post a form the way a browser does: with the CSRF token of the page it is on."""
    token = csrf_token_from(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **(data or {})})


# Sign-out ---------------------------------------------------------------------------------


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


def test_the_session_cookie_still_idles_out(app, client, auth, world):
    """The sliding idle lifetime (SESSION_LIFETIME_HOURS) stays on the session cookie."""
    response = auth.login(email("agent"))
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    expires = re.search(r"Expires=([^;]+)", cookie).group(1)
    left = parsedate_to_datetime(expires) - utcnow()
    hours = app.config["SESSION_LIFETIME_HOURS"]
    assert timedelta(hours=hours) - timedelta(minutes=1) < left <= timedelta(hours=hours)


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


# The profile: sign-ins, sign out everywhere, password ----------------------------------------


@pytest.mark.parametrize("key", ["admin", "agent", "north_reseller", "alice", "carol"])
def test_every_role_has_a_profile_linked_from_the_top_bar(client, auth, world, key):
    """Customers too: the top bar links Profile, which lists this device's sign-in."""
    auth.login(email(key), follow_redirects=True)
    landing = client.get("/", follow_redirects=True).text
    assert 'href="/profile">Profile</a>' in landing
    page = client.get("/profile")
    assert page.status_code == 200
    assert "This device" in page.text
    assert "no-store" in page.headers["Cache-Control"]


def test_profile_needs_sign_in(client, world):
    """Anonymous visitors are sent to sign in, and cannot post its actions."""
    assert client.get("/profile").headers["Location"].startswith("/login?next=")
    token = csrf_token_from(client.get("/login").text)
    response = client.post("/profile/sign-out-everywhere", data={"csrf_token": token})
    assert response.headers["Location"].startswith("/login")


def test_profile_lists_every_open_sign_in_with_its_device(app, client, auth, world):
    """Device (from the user agent), address and times; ended sign-ins are not listed."""
    _firefox, firefox_auth = new_client(app, {"HTTP_USER_AGENT": FIREFOX})
    firefox_auth.login(email("agent"))
    _gone, gone_auth = new_client(app)
    gone_auth.login(email("agent"))
    gone_auth.logout()
    auth.login(email("agent"))
    page = client.get("/profile").text
    assert "Firefox on Linux" in page
    assert page.count("This device") == 1
    assert page.count("<tr") == 1 + 2  # header, two open sign-ins (the ended one is gone)
    assert "127.0.0.1" in page


def test_sign_out_one_other_device(app, client, auth, world):
    """Ending another sign-in signs that browser out and leaves this one signed in."""
    other, other_auth = new_client(app)
    other_auth.login(email("agent"), remember=True)
    remember_copy = other.get_cookie("remember_token").value
    auth.login(email("agent"))
    other_row, _this_row = sign_in_rows(app, world.users["agent"])
    response = post_form(client, "/profile", f"/profile/sign-ins/{other_row.id}/end")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    assert "Signed out" in client.get("/profile").text
    assert not signed_in(other)
    assert not signed_in(with_cookie(app, "remember_token", remember_copy))
    assert signed_in(client)
    assert ("user.sign_out", world.users["agent"]) in audit_actions(app, world.users["agent"])


def test_cannot_end_someone_elses_sign_in(app, client, auth, world):
    """Another user's sign-in id answers 404 and stays open; so do unknown and huge ids."""
    victim, victim_auth = new_client(app)
    victim_auth.login(email("admin"))
    [victim_row] = sign_in_rows(app, world.users["admin"])
    auth.login(email("agent"))
    for sign_in_id in (victim_row.id, 2**31 - 1, 2**31, 10**20):
        response = post_form(client, "/profile", f"/profile/sign-ins/{sign_in_id}/end")
        assert response.status_code == 404
    assert signed_in(victim)


def test_ending_this_devices_sign_in_from_the_list_is_a_sign_out(app, client, auth, world):
    """Posting this browser's own sign-in is the same as the Sign out button."""
    auth.login(email("agent"), remember=True)
    [row] = sign_in_rows(app, world.users["agent"])
    response = post_form(client, "/profile", f"/profile/sign-ins/{row.id}/end")
    assert response.headers["Location"] == "/login"
    assert client.get_cookie("remember_token") is None
    assert not signed_in(client)


def test_sign_out_everywhere_ends_every_browser(app, client, auth, world):
    """Every sign-in of the user ends, this one too; other users are untouched."""
    phone, phone_auth = new_client(app)
    phone_auth.login(email("agent"), remember=True)
    remember_copy = phone.get_cookie("remember_token").value
    bystander, bystander_auth = new_client(app)
    bystander_auth.login(email("admin"))
    auth.login(email("agent"), remember=True)
    response = post_form(client, "/profile", "/profile/sign-out-everywhere")
    assert response.headers["Location"] == "/login"
    assert "signed out everywhere (2 sign-ins ended)" in client.get("/login").text
    assert client.get_cookie("remember_token") is None
    assert not signed_in(client)
    assert not signed_in(phone)
    assert not signed_in(with_cookie(app, "remember_token", remember_copy))
    assert signed_in(bystander)
    assert ("user.sign_out_everywhere", world.users["agent"]) in audit_actions(
        app, world.users["agent"])


def test_sign_out_everywhere_needs_csrf(app, client, auth, world):
    """Without the token nothing ends."""
    auth.login(email("agent"))
    assert client.post("/profile/sign-out-everywhere").status_code == 400
    assert client.get("/profile/sign-out-everywhere").status_code == 405
    assert signed_in(client)


def test_change_password_ends_every_other_sign_in(app, client, auth, world):
    """The new password works, the old does not; other browsers are signed out, this not."""
    other, other_auth = new_client(app)
    other_auth.login(email("agent"), remember=True)
    remember_copy = other.get_cookie("remember_token").value
    auth.login(email("agent"))
    new_password = "a-brand-new-password"
    response = post_form(client, "/profile", "/profile/password", {
        "current_password": PASSWORD, "new_password": new_password,
        "new_password_again": new_password})
    assert response.headers["Location"] == "/profile"
    assert "Your password is changed; 1 other sign-in ended." in client.get("/profile").text
    assert signed_in(client)
    assert not signed_in(other)
    assert not signed_in(with_cookie(app, "remember_token", remember_copy))
    _fresh, fresh_auth = new_client(app)
    assert fresh_auth.login(email("agent")).status_code == 401
    assert fresh_auth.login(email("agent"), password=new_password).status_code == 302
    with app.app_context():
        user = db.session.get(User, world.users["agent"])
        assert user.password_hash.startswith("$argon2id$")
    assert ("user.password_change", world.users["agent"]) in audit_actions(
        app, world.users["agent"])


@pytest.mark.parametrize(("fields", "message"), [
    ({"current_password": "wrong-password", "new_password": "a-brand-new-password",
      "new_password_again": "a-brand-new-password"}, "That is not your current password."),
    ({"current_password": PASSWORD, "new_password": "a-brand-new-password",
      "new_password_again": "another-new-password"}, "The two new passwords are not the same."),
    ({"current_password": PASSWORD, "new_password": "short", "new_password_again": "short"},
     f"The password needs at least {accounts.MIN_PASSWORD_LENGTH} characters."),
    ({"current_password": "", "new_password": "", "new_password_again": ""},
     "Enter your current password."),
])
def test_a_refused_password_change_changes_nothing(app, client, auth, world, fields, message):
    """Wrong current password, differing or short new ones: 400, a message, nothing ends."""
    other, other_auth = new_client(app)
    other_auth.login(email("agent"))
    auth.login(email("agent"))
    response = post_form(client, "/profile", "/profile/password", fields)
    assert response.status_code == 400
    assert message in response.text
    assert signed_in(other)
    _fresh, fresh_auth = new_client(app)
    assert fresh_auth.login(email("agent")).status_code == 302  # the old password still works


def test_guessing_the_current_password_is_limited(app, client, auth, world):
    """Wrong current passwords count like failed sign-ins; then even the right one waits."""
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per 15 minutes"
    auth.login(email("agent"))
    wrong = {"current_password": "a-wrong-guess", "new_password": "a-brand-new-password",
             "new_password_again": "a-brand-new-password"}
    for _ in range(2):
        assert post_form(client, "/profile", "/profile/password", wrong).status_code == 400
    blocked = post_form(client, "/profile", "/profile/password",
                        {**wrong, "current_password": PASSWORD})
    assert blocked.status_code == 429
    assert signed_in(client)
    _fresh, fresh_auth = new_client(app)
    assert fresh_auth.login(email("agent")).status_code == 302  # the password did not change


# Admins: every user's sign-ins ---------------------------------------------------------------


def test_admin_signs_another_user_out_everywhere(app, client, auth, world):
    """The admin's button ends every sign-in of that user, audited with the admin as actor."""
    laptop, laptop_auth = new_client(app)
    laptop_auth.login(email("alice"), remember=True)
    remember_copy = laptop.get_cookie("remember_token").value
    auth.login(email("admin"))
    listing = client.get("/admin/users?q=alice")
    assert listing.status_code == 200 and email("alice") in listing.text
    assert "no-store" in listing.headers["Cache-Control"]
    response = post_form(client, "/admin/users?q=alice",
                         f"/admin/users/{world.users['alice']}/sign-out-everywhere",
                         {"back": "/admin/users?q=alice"})
    assert response.headers["Location"] == "/admin/users?q=alice"
    assert "Alice is signed out everywhere (1 sign-in ended)" in client.get("/admin/users").text
    assert not signed_in(laptop, "/portal/tickets")
    assert not signed_in(with_cookie(app, "remember_token", remember_copy), "/portal/tickets")
    assert signed_in(client)
    assert ("user.sign_out_everywhere", world.users["admin"]) in audit_actions(
        app, world.users["alice"])


def test_admin_back_link_stays_on_this_site(app, client, auth, world):
    """A forged ``back`` pointing elsewhere falls back to the users page."""
    auth.login(email("admin"))
    response = post_form(client, "/admin/users",
                         f"/admin/users/{world.users['bob']}/sign-out-everywhere",
                         {"back": "https://evil.example/"})
    assert response.headers["Location"] == "/admin/users"


def test_admin_signing_themselves_out_everywhere_lands_on_sign_in(app, client, auth, world):
    """Their own row included: this browser is signed out too, and told so."""
    auth.login(email("admin"))
    response = post_form(client, "/admin/users",
                         f"/admin/users/{world.users['admin']}/sign-out-everywhere")
    assert response.headers["Location"] == "/login"
    assert "You are signed out everywhere" in client.get("/login").text
    assert not signed_in(client)


def test_admin_users_list_counts_open_sign_ins_and_filters(app, client, auth, world):
    """Name, email, role, reseller/organisation, state and open sign-ins; text filter."""
    for _ in range(2):
        _browser, browser_auth = new_client(app)
        browser_auth.login(email("carol"))
    with app.app_context():
        accounts.set_disabled(db.session.get(User, world.users["zed"]), disabled=True)
    auth.login(email("admin"))
    page = client.get("/admin/users?q=CAROL").text
    row = re.search(r"<tr>\s*<td[^>]*>Carol</td>.*?</tr>", page, re.S).group(0)
    assert email("carol") in row and "company admin" in row and "North · Acme" in row
    assert re.search(r'<td[^>]*class="number">2</td>', row)
    assert email("alice") not in page
    zed = client.get("/admin/users?q=zed").text
    assert "disabled" in zed and "Zeta" in zed
    assert "No users match." in client.get("/admin/users?q=nobody-at-all").text
    assert "No users match." in client.get("/admin/users?q=%25").text  # % is literal
    # A NUL never reaches a query (helpdesk.request drops it): "a\x00b" searches for "ab".
    assert client.get("/admin/users?q=a%00b").status_code == 200


def test_admin_users_list_pages_by_email(app, client, auth, world):
    """Keyset paging: every user exactly once, in email order, across pages."""
    app.config["USERS_PER_PAGE"] = 4
    auth.login(email("admin"))
    with app.app_context():
        expected = db.session.scalars(select(User.email).order_by(User.email)).all()
    seen, path, pages = [], "/admin/users", 0
    while path:
        page = client.get(path).text
        pages += 1
        seen += re.findall(r'title="Audit log of this user">([^<]+)</a>', page)
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        path = html.unescape(found.group(1)) if found else None
    assert seen == expected
    assert pages == -(-len(expected) // 4)


@pytest.mark.parametrize("key", ["agent", "north_reseller", "north_all", "alice", "carol"])
def test_non_admins_get_404_on_admin_users(app, client, auth, world, key):
    """The list and the action do not exist for anyone but admins; nothing ends."""
    victim, victim_auth = new_client(app)
    victim_auth.login(email("admin"))
    auth.login(email(key))
    assert client.get("/admin/users").status_code == 404
    response = post_form(client, "/profile",
                         f"/admin/users/{world.users['admin']}/sign-out-everywhere")
    assert response.status_code == 404
    assert signed_in(victim)


def test_anonymous_visitors_are_sent_to_sign_in_from_admin_users(client, world):
    """Not 404 for anonymous visitors: they sign in first, as on the other admin pages."""
    assert client.get("/admin/users").headers["Location"].startswith("/login?next=")


def test_unknown_user_answers_404(client, auth, world):
    """Including ids past the database's integer range."""
    auth.login(email("admin"))
    for user_id in (2**31 - 1, 10**20):
        response = post_form(client, "/admin/users",
                             f"/admin/users/{user_id}/sign-out-everywhere")
        assert response.status_code == 404


def test_cli_signs_a_user_out_everywhere(app, runner, world):
    """``users sign-out --email``: every sign-in ends, audited with no actor (the CLI)."""
    browsers = []
    for remember in (False, True):
        browser, browser_auth = new_client(app)
        browser_auth.login(email("agent"), remember=remember)
        browsers.append(browser)
    result = runner.invoke(args=["users", "sign-out", "--email", email("agent").upper()])
    assert result.exit_code == 0, result.output
    assert "2 sign-ins ended" in result.output
    assert not any(signed_in(browser) for browser in browsers)
    assert ("user.sign_out_everywhere", None) in audit_actions(app, world.users["agent"])
    missing = runner.invoke(args=["users", "sign-out", "--email", "ghost@test.example"])
    assert missing.exit_code == 1 and "No user" in missing.output


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


# Caching --------------------------------------------------------------------------------------


def test_signed_in_responses_are_not_stored(app, client, auth, world):
    """Pages, redirects and fragments to a signed-in user carry no-store; static files not."""
    auth.login(email("agent"))
    ticket = world.tickets["dave"]
    for path, headers in (("/tickets", {}), (f"/tickets/{ticket}", {}),
                          (f"/tickets/{ticket}", {"HX-Request": "true"}),
                          (f"/tickets/{ticket}/live", {}), ("/", {}), ("/profile", {})):
        response = client.get(path, headers=headers)
        assert "no-store" in response.headers.get("Cache-Control", ""), path
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")
    auth.logout()
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")


# Production ----------------------------------------------------------------------------------


@pytest.fixture
def production_app(app, monkeypatch, tmp_path):
    """The production config (HELPDESK_ENV=production) on the test database."""
    monkeypatch.setenv("HELPDESK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-for-tests")
    keep = ("TESTING", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "PASSWORD_HASH_PROFILE")
    return lambda **extra: create_app({
        **{key: app.config[key] for key in keep}, "INSTANCE_PATH": str(tmp_path), **extra})


def test_production_uses_host_prefixed_secure_cookies_and_hsts(production_app, world):
    """``__Host-`` names, Secure, Path=/, no Domain; HSTS on HTTPS; sign-out deletes both."""
    client = production_app().test_client()
    https = "https://helpdesk.example"
    page = client.get("/login", base_url=https)
    assert page.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    token = csrf_token_from(page.text)
    same_site = {"Referer": https + "/login"}  # Flask-WTF checks it on HTTPS
    response = client.post("/login", base_url=https, headers=same_site, data={
        "email": email("agent"), "password": PASSWORD, "csrf_token": token, "remember": "y"})
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"__Host-session", "__Host-remember_token"}
    for cookie in cookies.values():
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"secure", "path", "httponly"} <= attributes
        assert "domain" not in attributes
        assert "Path=/;" in cookie + ";"
    signed_in_page = client.get("/tickets", base_url=https)
    assert signed_in_page.status_code == 200
    assert "no-store" in signed_in_page.headers["Cache-Control"]
    assert "Strict-Transport-Security" in signed_in_page.headers
    logout = client.post("/logout", base_url=https, headers=same_site,
                         data={"csrf_token": csrf_token_from(signed_in_page.text)})
    deleted = [c for c in logout.headers.getlist("Set-Cookie")
               if c.startswith("__Host-remember_token=")]
    assert deleted and "Expires=Thu, 01 Jan 1970" in deleted[0]
    assert client.get("/tickets", base_url=https).status_code == 302


def test_production_hsts_only_on_https(production_app, world):
    """Plain HTTP gets no HSTS (browsers ignore it there); behind a proxy, its word counts."""
    assert "Strict-Transport-Security" not in production_app().test_client().get(
        "/login").headers
    proxied = production_app(PROXY_COUNT=1).test_client()
    forwarded = proxied.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert forwarded.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert all("Secure" in c for c in forwarded.headers.getlist("Set-Cookie"))
    assert "Strict-Transport-Security" not in proxied.get(
        "/login", headers={"X-Forwarded-Proto": "http"}).headers


def test_development_has_plain_names_and_no_hsts(client, world):
    """Outside production the cookies keep their plain names and no HSTS is sent."""
    response = client.get("/login", base_url="https://helpdesk.example")
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["Set-Cookie"].startswith("session=")


def test_host_cookie_without_secure_refuses_to_start(production_app):
    """A ``__Host-`` cookie browsers would drop stops the app at start, saying why."""
    with pytest.raises(RuntimeError, match="SESSION_COOKIE_SECURE"):
        production_app(SESSION_COOKIE_SECURE=False)
    with pytest.raises(RuntimeError, match="REMEMBER_COOKIE_DOMAIN"):
        production_app(REMEMBER_COOKIE_DOMAIN="example.com")
