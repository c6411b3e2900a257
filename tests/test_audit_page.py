"""The admin audit log page, and the sign-in and account events it shows."""

import re

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, User
from helpdesk.services import accounts, audit
from tests.world import email


def entries(action):
    """Audit entries of one action, oldest first."""
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    ).all()


def listed_actions(html):
    """The action column of the audit table, top to bottom."""
    return re.findall(r"<td><code>([^<]+)</code></td>", html)


def test_admin_sees_the_audit_log_newest_first(client, auth, app, world):
    """The page lists who did what to which ticket, with old → new and the IP."""
    with app.app_context():
        accounts.set_disabled(db.session.get(User, world.users["zed"]), disabled=True)
    auth.login(email("admin"))
    response = client.get("/admin/audit")
    assert response.status_code == 200
    html = response.text
    actions = listed_actions(html)
    assert actions[0] == "user.login"  # the admin's own sign-in is the newest entry
    assert "ticket.open" in actions and "reply.internal_note" in actions
    assert actions[1] == "user.disable"
    assert "active → disabled" in html
    assert "system / CLI" in html
    assert '→ <a href="/admin/audit?user=zed@test.example">Zed</a>' in html
    assert "127.0.0.1" in html
    assert f'href="/tickets/{world.tickets["alice"]}"' in html
    assert 'href="/admin/audit"' in html  # the nav link


@pytest.mark.parametrize("key", ["agent", "north_reseller", "north_all", "alice", "carol"])
def test_audit_log_is_404_for_everyone_but_admins(client, auth, world, key):
    """Agents, resellers and subscribers are told the page does not exist."""
    auth.login(email(key))
    assert client.get("/admin/audit").status_code == 404
    assert "Audit log" not in client.get("/tickets", follow_redirects=True).text


def test_audit_log_asks_anonymous_visitors_to_sign_in(client):
    """No session: the sign-in page, as everywhere else."""
    response = client.get("/admin/audit")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_filter_by_ticket(client, auth, app, world):
    """``ticket`` (id or number) keeps only that ticket's entries."""
    auth.login(email("admin"))
    for value in (str(world.tickets["dave"]), f"TKT-{world.tickets['dave']}"):
        html = client.get("/admin/audit", query_string={"ticket": value}).text
        assert set(re.findall(r'href="/tickets/(\d+)"', html)) == {str(world.tickets["dave"])}
        assert "reply.public" in listed_actions(html)
        assert "user.login" not in listed_actions(html)
    response = client.get("/admin/audit", query_string={"ticket": "abc"})
    assert response.status_code == 200
    assert "is not a ticket number" in response.text


def test_filter_by_user_id_or_email(client, auth, app, world):
    """``user`` keeps what the user did and what was done to them."""
    with app.app_context():
        bob = db.session.get(User, world.users["bob"])
        accounts.set_disabled(bob, disabled=True,
                              actor=db.session.get(User, world.users["admin"]))
    auth.login(email("admin"))
    for value in (email("bob"), str(world.users["bob"]), email("BOB").upper()):
        html = client.get("/admin/audit", query_string={"user": value}).text
        assert sorted(set(listed_actions(html))) == ["ticket.open", "user.create", "user.disable"]
    html = client.get("/admin/audit", query_string={"user": "nobody@test.example"}).text
    assert "No user matches" in html
    assert listed_actions(html) == []


def test_both_filters_together(client, auth, world):
    """Ticket and user narrow the log together."""
    auth.login(email("admin"))
    html = client.get("/admin/audit", query_string={
        "ticket": world.tickets["alice"], "user": email("agent")}).text
    assert sorted(set(listed_actions(html))) == ["reply.internal_note", "reply.public"]


def test_audit_log_pages_with_a_cursor(client, auth, app, world):
    """``before`` walks back through the log without repeats or gaps."""
    with app.app_context():
        for number in range(120):
            audit.record("test.page", actor=None, field="n", new=number)
        db.session.commit()
        total = db.session.query(AuditEntry).count()
    auth.login(email("admin"))
    seen, url = [], "/admin/audit"
    while url:
        html = client.get(url).text
        seen += re.findall(r"<td><code>test\.page</code></td>\s*<td[^>]*>.*?</td>\s*"
                           r"<td>n</td>\s*<td class=\"change\">— → (\d+)</td>", html, re.S)
        match = re.search(r'href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert [int(n) for n in seen] == list(reversed(range(120)))
    assert total > 120
    assert client.get("/admin/audit?before=junk").status_code == 404


def test_audit_log_fragment_for_htmx(client, auth, world):
    """An htmx filter request gets the table alone."""
    auth.login(email("admin"))
    response = client.get("/admin/audit?user=admin@test.example", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="audit-table">')
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_login_and_logout_are_audited_with_the_ip(client, auth, app, world):
    """Sign-in and sign-out: who, and from where."""
    auth.login(email("alice"))
    auth.logout()
    with app.app_context():
        [login] = entries("user.login")
        [logout] = entries("user.logout")
        for entry in (login, logout):
            assert entry.actor_id == entry.subject_user_id == world.users["alice"]
            assert entry.ip == "127.0.0.1"


def test_failed_login_is_not_a_login(client, auth, app, world):
    """A wrong password writes no ``user.login``."""
    auth.login(email("alice"), password="wrong-password-here")
    with app.app_context():
        assert entries("user.login") == []


def test_login_behind_a_proxy_records_the_client_address(client, auth, app, world):
    """With ``PROXY_COUNT`` set, the forwarded client address is recorded."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    token = auth.csrf_token()
    client.post("/login", data={"email": email("bob"), "password": "correct-horse-battery",
                                "csrf_token": token},
                headers={"X-Forwarded-For": "203.0.113.7"})
    with app.app_context():
        assert entries("user.login")[0].ip == "203.0.113.7"


def test_disable_and_enable_are_audited(app, world):
    """By an admin, or (actor None) from the CLI; a no-op writes nothing."""
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        admin = db.session.get(User, world.users["admin"])
        accounts.set_disabled(agent, disabled=True, actor=admin)
        accounts.set_disabled(agent, disabled=True, actor=admin)
        accounts.set_disabled(agent, disabled=False)
        [disable] = entries("user.disable")
        [enable] = entries("user.enable")
        assert (disable.actor_id, disable.subject_user_id) == (admin.id, agent.id)
        assert (disable.old_value, disable.new_value) == ("active", "disabled")
        assert (enable.actor_id, enable.subject_user_id) == (None, agent.id)
        assert (enable.old_value, enable.new_value) == ("disabled", "active")


def test_cli_disable_is_audited_without_an_actor(runner, app, world):
    """``users disable`` records ``user.disable`` with no actor (the CLI)."""
    result = runner.invoke(args=["users", "disable", "--email", email("erin")])
    assert result.exit_code == 0, result.output
    with app.app_context():
        [entry] = entries("user.disable")
        assert entry.actor_id is None and entry.subject_user_id == world.users["erin"]
