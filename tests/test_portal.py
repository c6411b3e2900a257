"""The subscriber portal: the list with status pills, opening a ticket, reading it, scope."""

import re

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Category, Reply, Ticket, User
from helpdesk.services import handoff, replies, tickets
from tests.conftest import csrf_token_from
from tests.test_access import ALL, VISIBLE
from tests.world import email

CUSTOMERS = ("alice", "bob", "carol", "dave", "zed")
STAFF = ("agent", "north_reseller")
HTMX = {"HX-Request": "true"}
SCRIPT = "<script>alert('x')</script>"


def token(client):
    """A CSRF token from a page the signed-in user may load."""
    return csrf_token_from(client.get("/login", follow_redirects=True).text)


def subjects_in(html, world):
    """Which world tickets a page lists, by their subjects."""
    return {key for key in world.tickets if f"{key} ticket<" in html}


def set_status(app, ticket_id, status):
    """Put a ticket straight into ``status`` (the test's shortcut past the services)."""
    with app.app_context():
        db.session.get(Ticket, ticket_id).status = status
        db.session.commit()


def staff_reply(app, world, key, *, status, body="Fixed on our side."):
    """The agent answers ticket ``key`` publicly and moves it to ``status``."""
    with app.app_context():
        replies.add_reply(db.session.get(Ticket, world.tickets[key]),
                          author=db.session.get(User, world.users["agent"]), body=body,
                          status=status)


def load(app, ticket_id):
    """A detached snapshot of a ticket's interesting columns."""
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        return {
            "status": ticket.status, "rating": ticket.rating, "comment": ticket.rating_comment,
            "replies": db.session.scalar(select(func.count(Reply.id)).where(
                Reply.ticket_id == ticket_id)),
        }


# --- the list -------------------------------------------------------------------------------

def test_pills_filter_the_list(app, client, auth, world):
    """Each pill shows its statuses; vendor and on-hold count as "In progress"."""
    for key, status in (("carol", "open"), ("dave", "waiting_on_vendor"),
                        ("erin", "waiting_on_customer")):
        set_status(app, world.tickets[key], status)
    auth.login(email("carol"))
    expected = {
        "": {"carol", "dave", "erin"}, "open": {"carol"}, "in_progress": {"dave"},
        "waiting_on_customer": {"erin"}, "resolved": set(), "closed": set(),
        "bogus": {"carol", "dave", "erin"},
    }
    for status, keys in expected.items():
        html = client.get(f"/portal/tickets?status={status}").text
        assert subjects_in(html, world) == keys, status
    set_status(app, world.tickets["dave"], "on_hold")
    assert subjects_in(client.get("/portal/tickets?status=in_progress").text, world) == {"dave"}
    assert "No tickets under “Closed”." in client.get("/portal/tickets?status=closed").text


def test_pills_are_links_that_htmx_swaps(client, auth, world):
    """A pill is a plain link with hx-get and push-url; htmx gets the list fragment alone."""
    auth.login(email("alice"))
    page = client.get("/portal/tickets").text
    for label, query in (("All", ""), ("Open", "?status=open"),
                         ("In progress", "?status=in_progress"),
                         ("Waiting on you", "?status=waiting_on_customer"),
                         ("Resolved", "?status=resolved"), ("Closed", "?status=closed")):
        link = re.search(rf'<a href="/portal/tickets{re.escape(query)}"[^>]*>{label}</a>', page,
                         re.S)
        assert link, label
        assert 'hx-push-url="true"' in link.group(0) and 'hx-target="#ticket-list"' in link.group(0)
    fragment = client.get("/portal/tickets?status=open", headers=HTMX)
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="ticket-list">')
    assert re.search(r'class="pill active"[^>]*aria-current="page"[^>]*>Open<', fragment.text,
                     re.S)
    assert "HX-Request" in fragment.headers["Vary"]


def test_company_admin_sees_who_opened_each_ticket(client, auth, world):
    """Carol's list names her colleagues; a regular user's list names nobody."""
    auth.login(email("carol"))
    html = client.get("/portal/tickets").text
    assert "Opened by Dave" in html and "Opened by Erin" in html and "Opened by you" in html
    auth.logout()
    auth.login(email("dave"))
    assert "Opened by" not in client.get("/portal/tickets").text


def test_list_query_count_does_not_grow_with_rows(app, client, auth, world, count_queries):
    """Session user, one page of tickets and the count of those waiting on the customer,
    however many rows."""
    auth.login(email("carol"))
    with count_queries() as few:
        assert client.get("/portal/tickets").status_code == 200
    with app.app_context():
        carol = db.session.get(User, world.users["carol"])
        category = db.session.scalars(select(Category)).first()
        for n in range(8):
            tickets.open_ticket(subscriber=carol, subject=f"extra {n}", body="x",
                                category=category)
    with count_queries() as many:
        assert client.get("/portal/tickets").status_code == 200
    assert few.count == many.count <= 4


# --- opening a ticket -----------------------------------------------------------------------

def new_ticket_data(client, **overrides):
    """A valid new-ticket submission with a fresh CSRF token."""
    category = re.search(r'<option[^>]*value="(\d+)"[^>]*>Billing<',
                         client.get("/portal/tickets/new").text)
    data = {"subject": "Router keeps rebooting", "category": category.group(1),
            "priority": "high", "description": "It reboots **every hour**.",
            "csrf_token": token(client)}
    data.update(overrides)
    return data


@pytest.mark.parametrize("key", ["alice", "carol"])
def test_customer_opens_a_ticket(app, client, auth, world, key):
    """A valid form opens the ticket for the session user and redirects to it."""
    auth.login(email(key))
    form = client.get("/portal/tickets/new")
    assert form.status_code == 200
    assert 'name="subject"' in form.text and 'name="description"' in form.text
    assert '<option selected value="normal">' in form.text
    response = client.post("/portal/tickets/new", data=new_ticket_data(client))
    assert response.status_code == 303
    ticket_id = int(re.fullmatch(r"/portal/tickets/(\d+)", response.headers["Location"])[1])
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        user = db.session.get(User, world.users[key])
        assert (ticket.subscriber_id, ticket.organisation_id, ticket.reseller_id) == (
            user.id, user.organisation_id, user.reseller_id)
        assert (ticket.subject, ticket.priority, ticket.category.name, ticket.status) == (
            "Router keeps rebooting", "high", "Billing", "open")
        assert "<strong>every hour</strong>" in ticket.body_html
    page = client.get(f"/portal/tickets/{ticket_id}").text
    assert "Router keeps rebooting" in page and ">You<" in page


def test_session_fields_cannot_be_forged(app, client, auth, world):
    """Posted subscriber, organisation, reseller, status and assignee are all ignored."""
    with app.app_context():
        bob = db.session.get(User, world.users["bob"])
        zed = db.session.get(User, world.users["zed"])
        forged = {"subscriber_id": bob.id, "subscriber": bob.id,
                  "organisation_id": zed.organisation_id, "organisation": zed.organisation_id,
                  "reseller_id": bob.reseller_id, "reseller": bob.reseller_id,
                  "status": "closed", "assignee_id": world.users["agent"]}
    auth.login(email("carol"))
    response = client.post("/portal/tickets/new", data=new_ticket_data(client, **forged))
    assert response.status_code == 303
    ticket_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        carol = db.session.get(User, world.users["carol"])
        assert ticket.subscriber_id == carol.id
        assert ticket.organisation_id == carol.organisation_id != forged["organisation_id"]
        assert ticket.reseller_id == carol.reseller_id != forged["reseller_id"]
        assert ticket.status == "open" and ticket.assignee_id is None


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"subject": "  "}, "subject", "Give your ticket a subject."),
    ({"subject": "x" * 501}, "subject", "at most 500 characters"),
    ({"description": ""}, "description", "Describe the problem."),
    ({"category": "999999"}, "category", "Choose a category."),
    ({"category": "abc"}, "category", "Choose a category."),
    ({"priority": "critical"}, "priority", "Choose low, normal, high or urgent."),
])
def test_invalid_ticket_keeps_the_input_and_says_why(app, client, auth, world, overrides, field,
                                                      message):
    """422, the error beside its field, what was typed still there, nothing saved."""
    auth.login(email("alice"))
    data = new_ticket_data(client, **overrides)
    response = client.post("/portal/tickets/new", data=data)
    assert response.status_code == 422
    html = response.text
    assert message in html
    block = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>', html, re.S)
    assert block and message in block.group(0)
    if field != "description":
        assert "It reboots **every hour**.</textarea>" in html
    if field != "subject":
        assert 'value="Router keeps rebooting"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Ticket.id))) == len(ALL)


def test_new_ticket_needs_a_csrf_token(app, client, auth, world):
    """Without the token nothing is created."""
    auth.login(email("alice"))
    data = new_ticket_data(client)
    del data["csrf_token"]
    assert client.post("/portal/tickets/new", data=data).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Ticket.id))) == len(ALL)


@pytest.mark.parametrize("key", STAFF)
def test_staff_are_sent_to_the_desk(client, auth, world, key):
    """Staff and resellers do not use the portal forms."""
    auth.login(email(key))
    assert client.get("/portal/tickets/new").headers["Location"] == "/tickets"
    response = client.post("/portal/tickets/new", data={
        "subject": "x", "description": "y", "csrf_token": token(client)})
    assert response.headers["Location"] == "/tickets"
    ticket_id = world.tickets["alice"]
    for action in ("comments", "rating"):
        response = client.post(f"/portal/tickets/{ticket_id}/{action}",
                               data={"body": "hi", "rating": "5", "csrf_token": token(client)})
        assert response.status_code == 303
        assert response.headers["Location"] == f"/tickets/{ticket_id}"


# --- scope ----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", CUSTOMERS)
def test_out_of_scope_ids_answer_404_on_every_portal_route(app, client, auth, world, key):
    """GET, htmx GET, comment and rating POSTs: 404 for what is not yours, nothing written."""
    for ticket_key in ALL:
        staff_reply(app, world, ticket_key, status="resolved")
    auth.login(email(key))
    csrf = token(client)
    out_of_scope = [world.tickets[k] for k in sorted(ALL - VISIBLE[key])] + [999999]
    for ticket_id in out_of_scope:
        base = f"/portal/tickets/{ticket_id}"
        assert client.get(base).status_code == 404
        assert client.get(base, headers=HTMX).status_code == 404
        for headers in ({}, HTMX):
            assert client.post(f"{base}/comments", data={"body": "hi", "csrf_token": csrf},
                               headers=headers).status_code == 404
            assert client.post(f"{base}/rating", data={"rating": "5", "csrf_token": csrf},
                               headers=headers).status_code == 404
    for ticket_key in ALL - VISIBLE[key]:
        after = load(app, world.tickets[ticket_key])
        assert after["rating"] is None and after["status"] == "resolved"


def test_deleted_ticket_answers_404(app, client, auth, world):
    """A soft-deleted ticket is gone from the portal too."""
    with app.app_context():
        tickets.delete_ticket(db.session.get(Ticket, world.tickets["alice"]),
                              actor=db.session.get(User, world.users["agent"]))
    auth.login(email("alice"))
    assert client.get(f"/portal/tickets/{world.tickets['alice']}").status_code == 404
    assert "alice ticket" not in client.get("/portal/tickets").text


# --- what a customer reads ------------------------------------------------------------------

@pytest.mark.parametrize("key", ["dave", "carol"])
def test_internal_work_never_reaches_a_customer(app, client, auth, world, key):
    """Notes, internal events, time entries and staff names: absent from every response."""
    ticket_id = world.tickets["dave"]
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        agent = db.session.get(User, world.users["agent"])
        admin = db.session.get(User, world.users["admin"])
        tickets.assign(ticket, agent, actor=admin)
        tickets.change_priority(ticket, "urgent", actor=agent)
        handoff.hand_off(ticket, actor=agent, to_user=admin, note="HANDOFF-SECRET to admin")
        replies.add_reply(ticket, author=agent, body="Public step", minutes=25,
                          time_note="TIME-SECRET billing")
    secrets = (world.internal_note_text, "HANDOFF-SECRET", "TIME-SECRET", "Internal note",
               "internal-note", "Agent", "Admin", "assign", "25 min")
    auth.login(email(key))
    csrf = token(client)
    answers = [
        client.get(f"/portal/tickets/{ticket_id}"),
        client.get(f"/portal/tickets/{ticket_id}", headers=HTMX),
        client.get("/portal/tickets"),
        client.get("/portal/tickets", headers=HTMX),
        client.post(f"/portal/tickets/{ticket_id}/comments", headers=HTMX,
                    data={"body": "", "csrf_token": csrf}),
        client.post(f"/portal/tickets/{ticket_id}/comments", headers=HTMX,
                    data={"body": "Thanks", "csrf_token": csrf}),
        client.post(f"/portal/tickets/{ticket_id}/rating", headers=HTMX,
                    data={"rating": "5", "csrf_token": csrf}),
        client.post(f"/portal/tickets/{ticket_id}/comments", follow_redirects=True,
                    data={"body": "Thanks again", "csrf_token": csrf}),
    ]
    for answer in answers:
        assert answer.status_code in (200, 409, 422)
        for secret in secrets:
            assert secret not in answer.text, (answer.request.path, secret)
    assert "Public step" in answers[0].text and ">Support<" in answers[0].text


def test_public_status_changes_are_in_the_timeline(app, client, auth, world):
    """"Status changed to Resolved" shows, in order, without naming who did it."""
    staff_reply(app, world, "alice", status="resolved", body="Replaced the modem.")
    auth.login(email("alice"))
    html = client.get(f"/portal/tickets/{world.tickets['alice']}").text
    assert "Status changed to Resolved" in html
    assert html.index("Replaced the modem.") < html.index("Status changed to Resolved")
    assert "Agent" not in html


def test_ticket_page_query_count_is_fixed(app, client, auth, world, count_queries):
    """User, ticket, replies, events and files, and the bell's notifications of it marked
    read, however long the thread."""
    auth.login(email("alice"))
    path = f"/portal/tickets/{world.tickets['alice']}"
    with count_queries() as short:
        assert client.get(path).status_code == 200
    for n in range(4):
        staff_reply(app, world, "alice", status="waiting_on_customer" if n % 2 else "open",
                    body=f"Step {n}")
    with count_queries() as long:
        assert client.get(path).status_code == 200
    assert short.count == long.count == 7  # the marking's commit: the user read again


def test_script_in_customer_text_is_inert(app, client, auth, world):
    """Script in a subject, description, comment or rating comment renders as text."""
    auth.login(email("alice"))
    response = client.post("/portal/tickets/new", data=new_ticket_data(
        client, subject=f"Subject {SCRIPT}",
        description=f"Body {SCRIPT} [x](javascript:alert(1))"))
    path = response.headers["Location"]
    ticket_id = int(path.rsplit("/", 1)[1])
    client.post(f"{path}/comments", data={"body": f"Comment {SCRIPT}", "csrf_token": token(client)})
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        replies.add_reply(ticket, author=db.session.get(User, world.users["agent"]),
                          body="Done", status="resolved")
    client.post(f"{path}/rating", data={"rating": "3", "comment": f"Meh {SCRIPT}",
                                        "csrf_token": token(client)})
    for html in (client.get(path).text, client.get("/portal/tickets").text,
                 client.get(path, headers=HTMX).text):
        assert SCRIPT not in html
        assert 'href="javascript:' not in html
        assert "&lt;script&gt;" in html
    assert "Meh &lt;script&gt;" in client.get(path).text


@pytest.mark.parametrize(("key", "kinds"), [
    ("dave", {"status"}), ("carol", {"status"}),
    ("agent", {"status", "assignment", "priority"}),
])
def test_visible_events_keeps_internal_events_from_customers(app, world, key, kinds):
    """The access module's event filter itself (the template is only a second guard)."""
    from helpdesk.access import visible_events

    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["dave"])
        agent = db.session.get(User, world.users["agent"])
        tickets.assign(ticket, agent, actor=agent)
        tickets.change_priority(ticket, "urgent", actor=agent)
        tickets.change_status(ticket, "in_progress", actor=agent)
        events = db.session.scalars(
            visible_events(db.session.get(User, world.users[key]), ticket)).all()
        assert {event.kind for event in events} == kinds
        assert all(not event.internal for event in events) or key == "agent"


def test_open_ticket_sees_a_staff_reply_by_polling(app, client, auth, world):
    """204 while unchanged; after a staff reply the header and timeline come back."""
    auth.login(email("alice"))
    ticket_id = world.tickets["alice"]
    page = client.get(f"/portal/tickets/{ticket_id}").text
    poll = re.search(r'hx-get="(/portal/tickets/\d+/live\?v=[\w-]+)"', page).group(1)
    assert client.get(poll, headers={"HX-Request": "true"}).status_code == 204
    staff_reply(app, world, "alice", status="waiting_on_customer", body="Please reboot")
    changed = client.get(poll, headers={"HX-Request": "true"})
    assert changed.status_code == 200
    assert "Please reboot" in changed.text and "Waiting on you" in changed.text
    assert "Waiting on customer" not in changed.text
    assert "<textarea" not in changed.text  # the comment box is left alone
    assert world.internal_note_text not in changed.text


def test_portal_live_is_scoped(client, auth, world):
    """Another customer's ticket: 404."""
    auth.login(email("bob"))
    assert client.get(f"/portal/tickets/{world.tickets['alice']}/live").status_code == 404


def test_portal_search_finds_own_tickets_never_notes(client, auth, world):
    """Search is scoped to the customer and never matches an internal note."""
    auth.login(email("dave"))
    assert "dave ticket" in client.get("/portal/tickets?q=dave").text
    assert "dave ticket" in client.get("/portal/tickets?q=public+answer").text
    assert "dave ticket" not in client.get("/portal/tickets?q=SECRET-INTERNAL-NOTE").text
    assert "alice ticket" not in client.get("/portal/tickets?q=alice").text
