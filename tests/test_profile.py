"""The profile page: where you are signed in, signing out one or everywhere, changing
the password."""

import pytest

from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.services import accounts
from tests.conftest import csrf_token_from
from tests.sign_ins import (
    FIREFOX,
    audit_actions,
    new_client,
    post_form,
    sign_in_rows,
    signed_in,
    with_cookie,
)
from tests.world import PASSWORD, email


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
    sign_in_table = page.split('aria-labelledby="sign-ins-heading"', 1)[1].split("</table>")[0]
    # header, two open sign-ins (the ended one is gone)
    assert sign_in_table.count("<tr") == 1 + 2
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
