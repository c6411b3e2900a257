"""Signing in and out: passwords, sessions, cookies, rate limits and CSRF."""

import pytest

from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.services import accounts
from tests.conftest import csrf_token_from
from tests.world import PASSWORD, email


@pytest.mark.parametrize(("key", "landing"), [
    ("admin", "/tickets"), ("agent", "/tickets"), ("north_reseller", "/tickets"),
    ("alice", "/portal/tickets"), ("carol", "/portal/tickets"), ("dave", "/portal/tickets"),
])
def test_each_role_lands_on_its_page(client, auth, world, key, landing):
    """Staff and resellers land on the queue, customers on the portal."""
    response = auth.login(email(key))
    assert response.status_code == 302
    assert response.headers["Location"] == landing
    assert client.get(landing).status_code == 200
    assert client.get("/").headers["Location"] == landing


def test_login_page_carries_csrf_token_in_meta_and_form(client):
    """Every page has the meta tag; the form has the hidden field."""
    html = client.get("/login").text
    token = csrf_token_from(html)
    assert 'name="csrf_token"' in html
    assert token


def test_wrong_password_shows_an_error_and_keeps_the_email(client, auth, world):
    """A failed sign-in says so, keeps what was typed in the email field, and signs no one in."""
    response = auth.login(email("alice"), password="not-the-password")
    assert response.status_code == 401
    assert "do not match an active account" in response.text
    assert f'value="{email("alice")}"' in response.text
    assert client.get("/portal/tickets").status_code == 302


def test_unknown_email_gets_the_same_answer(client, auth, world):
    """No hint whether an email has an account."""
    response = auth.login("nobody@test.example", password="whatever-it-is")
    assert response.status_code == 401
    assert "do not match an active account" in response.text


def test_empty_form_says_what_is_missing(client, auth):
    """Required fields are named beside the form."""
    token = auth.csrf_token()
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": token})
    assert response.status_code == 400
    assert "Enter your email." in response.text
    assert "Enter your password." in response.text


def test_missing_csrf_token_gets_a_clear_400_page(client, world):
    """Without the token nothing happens, and the page explains why."""
    response = client.post("/login", data={"email": email("alice"), "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.text
    assert client.get("/portal/tickets").status_code == 302


def test_csrf_token_is_accepted_from_the_htmx_header(client, auth, world):
    """htmx sends the token as X-CSRFToken instead of a form field."""
    token = auth.csrf_token()
    response = client.post(
        "/login", data={"email": email("alice"), "password": PASSWORD},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 302


def test_account_lockout_after_repeated_failures(app, client, auth, world):
    """Failures on one account are limited; the answer keeps the email and says why."""
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 15 minutes"
    for _ in range(3):
        assert auth.login(email("alice"), password="wrong-password").status_code == 401
    blocked = auth.login(email("alice"))  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts for this account" in blocked.text
    assert f'value="{email("alice")}"' in blocked.text
    assert int(blocked.headers["Retry-After"]) > 0
    # Another account from the same address is not affected.
    assert auth.login(email("bob")).status_code == 302


def test_address_lockout_across_accounts(app, client, auth, world):
    """Failures from one address across many accounts are limited too."""
    app.config["LOGIN_LIMIT_PER_IP"] = "4 per 15 minutes"
    for key in ("alice", "bob", "carol", "dave"):
        assert auth.login(email(key), password="wrong-password").status_code == 401
    blocked = auth.login(email("erin"))
    assert blocked.status_code == 429
    assert "for your network" in blocked.text


def test_successful_sign_ins_do_not_count_against_the_limit(app, client, auth, world):
    """Only failures are counted."""
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per 15 minutes"
    for _ in range(4):
        assert auth.login(email("alice")).status_code == 302
        auth.logout()


def test_session_and_remember_cookies_are_locked_down(app, client, auth, world):
    """HttpOnly and SameSite=Lax on both cookies; remember-me sets a long-lived cookie."""
    auth.login(email("agent"), remember=True)
    session_cookie = client.get_cookie("session")
    remember_cookie = client.get_cookie("remember_token")
    for cookie in (session_cookie, remember_cookie):
        assert cookie.http_only
        assert cookie.same_site == "Lax"
    assert remember_cookie.expires is not None


def test_cookies_are_secure_when_configured_for_https(app, client, auth, world):
    """Behind HTTPS (SESSION_COOKIE_SECURE) the cookies carry Secure."""
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = True
    response = auth.login(email("agent"), remember=True)
    set_cookies = response.headers.getlist("Set-Cookie")
    assert set_cookies
    assert all("Secure" in header for header in set_cookies)


def test_sign_in_starts_a_new_session(client, auth, world):
    """Whatever the session held before sign-in is gone after it."""
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    auth.login(email("alice"))
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "_user_id" in session


def test_disabled_user_loses_their_session_at_once(app, client, auth, world):
    """Disabling ends the open session on the next request, remember-me cookie included."""
    auth.login(email("agent"), remember=True)
    assert client.get("/tickets").status_code == 200
    with app.app_context():
        accounts.set_disabled(db.session.get(User, world.users["agent"]), disabled=True)
    response = client.get("/tickets")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert auth.login(email("agent")).status_code == 401


def test_re_enabling_does_not_revive_old_sessions(app, client, auth, world):
    """Disabling ended the sign-ins: a fresh sign-in is needed."""
    auth.login(email("agent"))
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        accounts.set_disabled(agent, disabled=True)
        accounts.set_disabled(agent, disabled=False)
    assert client.get("/tickets").status_code == 302
    assert auth.login(email("agent")).status_code == 302


def test_logout_needs_post_and_csrf(client, auth, world):
    """GET does not sign out; POST without the token is refused; with it, the session ends."""
    auth.login(email("alice"))
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/portal/tickets").status_code == 200
    response = auth.logout()
    assert response.headers["Location"] == "/login"
    assert client.get("/portal/tickets").status_code == 302


def test_sign_in_follows_a_local_next_only(client, auth, world):
    """``next`` may point inside the site, never elsewhere."""
    token = auth.csrf_token()
    data = {"email": email("agent"), "password": PASSWORD, "csrf_token": token}
    inside = client.post("/login?next=/tickets?status=open", data=data)
    assert inside.headers["Location"] == "/tickets?status=open"
    auth.logout()
    data["csrf_token"] = auth.csrf_token()
    outside = client.post("/login?next=https://evil.example/", data=data)
    assert outside.headers["Location"] == "/tickets"


def test_pages_need_sign_in(client):
    """Anonymous visitors are sent to the sign-in page with ``next`` kept."""
    for path in ("/tickets", "/portal/tickets", "/tickets/1", "/portal/tickets/1"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_cookies_are_secure_on_https_requests(client, world):
    """A request that came over HTTPS gets Secure cookies without any setting."""
    response = client.get("/login", base_url="https://helpdesk.example")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies)
    plain = client.get("/login").headers.getlist("Set-Cookie")
    assert all("Secure" not in cookie for cookie in plain)


def test_https_behind_a_trusted_proxy_counts(app, tmp_path):
    """With PROXY_COUNT=1, X-Forwarded-Proto: https makes cookies Secure."""
    from helpdesk import create_app

    proxied = create_app({**app.config, "PROXY_COUNT": 1, "INSTANCE_PATH": str(tmp_path)})
    response = proxied.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies)
