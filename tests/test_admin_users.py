"""Admins and operators on any user's sign-ins: ``/admin/users`` and ``users sign-out``."""

import html
import re

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.services import accounts
from tests.sign_ins import (
    audit_actions,
    new_client,
    post_form,
    signed_in,
    with_cookie,
)
from tests.world import email


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
    row = re.search(r"<tr>\s*<td[^>]*><a[^>]*>Carol</a></td>.*?</tr>", page, re.S).group(0)
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
