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
    """The action of each sentence of the log, top to bottom."""
    return re.findall(r'<li data-action="([^"]+)">', html)


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
    assert 'The system</span> disabled <a href="/admin/audit?user=zed@test.example">Zed</a>' \
        in html
    assert "from 127.0.0.1" in html
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
    assert "Nobody matches" in html
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
        seen += re.findall(r"did test\.page \(n: — → (\d+)\)", html)
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


def sentences(html):
    """The log's sentences as text, top to bottom (tags dropped)."""
    items = re.findall(r'<span class="sentence">(.*?)</span><!-- /sentence -->', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in items]


def test_entries_read_as_sentences(client, auth, app, world):
    """Status changes, account changes and failed sign-ins in the help desk's words."""
    from helpdesk.models import Ticket
    from helpdesk.services import tickets

    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        admin = db.session.get(User, world.users["admin"])
        ticket = db.session.get(Ticket, world.tickets["bob"])
        tickets.change_status(ticket, "waiting_on_customer", actor=agent)
        accounts.set_disabled(db.session.get(User, world.users["bob"]), disabled=True,
                              actor=admin)
    auth.login("bob@test.example", password="wrong-password-1")
    auth.login("nobody@test.example", password="wrong-password-1")
    auth.login(email("admin"))
    html = client.get("/admin/audit").text
    said = sentences(html)
    number = f"TKT-{world.tickets['bob']}"
    assert f"Agent changed status from Open to Waiting on customer on {number}" in said
    assert "Admin disabled Bob" in said
    assert "Someone failed to sign in as bob@test.example" in said
    assert "Someone failed to sign in as nobody@test.example" in said
    assert "Admin signed in" in said
    assert f'<a href="/tickets/{world.tickets["bob"]}">{number}</a>' in html


def test_names_are_escaped_in_sentences(client, auth, app, world):
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        accounts.update_user(db.session.get(User, world.users["zed"]), actor=admin,
                             name="<script>x</script>", email=email("zed"), role="subscriber",
                             reseller=None, organisation=db.session.get(User, world.users[
                                 "zed"]).organisation, permissions=None)
    auth.login(email("admin"))
    html = client.get("/admin/audit").text
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_failed_sign_ins_are_audited_and_the_page_is_the_same(client, auth, app, world):
    """Actor none, the account when it exists, the email typed, the IP; the same answer."""
    known = auth.login(" Bob@Test.example", password="wrong-password-1")
    unknown = auth.login("ghost@test.example", password="wrong-password-1")
    assert known.status_code == unknown.status_code == 401
    assert known.text.replace(" Bob@Test.example", "X") == unknown.text.replace(
        "ghost@test.example", "X").replace('value="X"', 'value="X"')
    with app.app_context():
        first, second = entries("user.login_failed")
        assert (first.actor_id, first.subject_user_id, first.new_value, first.ip) == (
            None, world.users["bob"], "Bob@Test.example", "127.0.0.1")
        assert (second.actor_id, second.subject_user_id, second.new_value) == (
            None, None, "ghost@test.example")
    auth.login(email("admin"))
    html = client.get("/admin/audit", query_string={"user": "Bob"}).text
    assert "login_failed" in "".join(listed_actions(html))


def test_filter_by_name_and_several_matches(client, auth, app, world):
    """A whole name or part of one; several people: listed to pick from."""
    auth.login(email("admin"))
    html = client.get("/admin/audit", query_string={"user": "carol"}).text
    assert "ticket.open" in listed_actions(html) and "people match" not in html
    several = client.get("/admin/audit", query_string={"user": "North"}).text
    assert "4 people match &#39;North&#39;: pick one." in several
    for key in ("north_reseller", "north_viewer", "north_all", "north_none"):
        assert f'href="/admin/audit?user={key}%40test.example"' in several or \
            f'href="/admin/audit?user={key}@test.example"' in several
    assert listed_actions(several) == []
    nobody = client.get("/admin/audit", query_string={"user": "Nobody Atall"}).text
    assert "Nobody matches" in nobody
