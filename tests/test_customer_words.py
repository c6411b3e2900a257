"""The portal speaks the customer's language (DESIGN.md, "Customers see their own words").

One mapping (``models.ticket.CUSTOMER_STATUSES``) names every status for subscribers and
company admins: the list's pills and badges, the ticket's badge, its timeline and its live
version. Staff and resellers keep the internal names in the desk. Also here: the list points
out the tickets waiting on the customer, a search that finds nothing says so, and a resolved
ticket's comment box says that a comment reopens it.
"""

import re

import pytest
from sqlalchemy import select

from helpdesk.access import visible_events
from helpdesk.extensions import db
from helpdesk.models import STATUSES, Ticket, TicketEvent, User
from helpdesk.models.ticket import CUSTOMER_STATUSES, customer_status, reads_alike_to_customers
from helpdesk.portal.status_filters import STATUS_FILTERS
from helpdesk.services import accounts, replies, tickets
from helpdesk.timeline import customer_ticket_version
from tests.conftest import csrf_token_from
from tests.world import PASSWORD, email

# What a customer reads for each status: the brief of issue 9, item 5, as a table.
CUSTOMER_LABEL = {
    "open": "Open", "in_progress": "In progress", "waiting_on_customer": "Waiting on you",
    "waiting_on_vendor": "In progress", "on_hold": "In progress", "resolved": "Resolved",
    "closed": "Closed",
}
# Internal names a customer must never read (the desk's labels that differ from theirs).
INTERNAL_NAMES = ("Waiting on customer", "Waiting on vendor", "On hold", "waiting_on",
                  "on_hold", "in_progress")
BADGE = re.compile(r'<span class="badge status-([a-z_]+)">([^<]+)</span>')


def put_status(app, key, world, status):
    """Put a world ticket straight into ``status`` (past the services and their events)."""
    with app.app_context():
        db.session.get(Ticket, world.tickets[key]).status = status
        db.session.commit()


def customer_text(html):
    """What a person reads on a page: the text between tags, not attribute values or URLs."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_status_has_one_customer_word():
    """The mapping covers each internal status once, in the words of DESIGN.md."""
    assert sorted(s for shown in CUSTOMER_STATUSES for s in shown.statuses) == sorted(STATUSES)
    assert {status: customer_status(status).label for status in STATUSES} == CUSTOMER_LABEL
    assert [pill.label for pill in STATUS_FILTERS] == [
        "All", "Open", "In progress", "Waiting on you", "Resolved", "Closed"]
    assert reads_alike_to_customers("in_progress", "on_hold")
    assert reads_alike_to_customers("on_hold", "waiting_on_vendor")
    assert not reads_alike_to_customers("open", "in_progress")
    assert not reads_alike_to_customers(None, "on_hold")


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("key", ["dave", "carol"])
def test_portal_badges_use_the_customer_word(app, client, auth, world, status, key):
    """List and ticket page (and its live fragment): the customer's word, never ours."""
    put_status(app, "dave", world, status)
    auth.login(email(key))
    ticket_path = f"/portal/tickets/{world.tickets['dave']}"
    page = client.get(ticket_path).text
    poll = re.search(r'hx-get="(/portal/tickets/\d+/live\?v=[\w-]+)"', page).group(1)
    shown = customer_status(status)
    for path in ("/portal/tickets", ticket_path):
        html = client.get(path).text
        badges = BADGE.findall(html)
        assert (shown.key, shown.label) in badges, (path, badges)
        assert {key for key, _ in badges} <= {s.key for s in CUSTOMER_STATUSES}, path
        for name in INTERNAL_NAMES:
            assert name not in customer_text(html), (path, name)
    # The live version carries the customer's status, not ours.
    assert poll.endswith(f"-{shown.key}")


def test_the_desk_keeps_the_internal_names(app, client, auth, world):
    """Staff and resellers read "Waiting on vendor" where the customer reads "In progress"."""
    put_status(app, "dave", world, "waiting_on_vendor")
    for key in ("agent", "north_reseller"):
        auth.login(email(key))
        html = client.get(f"/tickets/{world.tickets['dave']}").text
        assert "Waiting on vendor" in html, key
        auth.logout()


@pytest.mark.parametrize("pill", [pill for pill in STATUS_FILTERS if pill.key])
def test_pills_list_the_statuses_of_their_customer_word(app, client, auth, world, pill):
    """Each pill lists exactly the tickets whose status reads as its label."""
    statuses = dict(zip(("carol", "dave", "erin"), ("on_hold", "waiting_on_vendor", "resolved"),
                        strict=True))
    for key, status in statuses.items():
        put_status(app, key, world, status)
    auth.login(email("carol"))
    html = client.get(f"/portal/tickets?status={pill.key}").text
    listed = {key for key in statuses if f"{key} ticket<" in html}
    assert listed == {key for key, status in statuses.items() if status in pill.statuses}


# --- the timeline ---------------------------------------------------------------------------

def change(app, world, key, *statuses):
    """The agent moves ticket ``key`` through ``statuses`` with the inline control."""
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        ticket = db.session.get(Ticket, world.tickets[key])
        for status in statuses:
            tickets.change_status(ticket, status, actor=agent)


def test_changes_a_customer_reads_alike_are_not_shown_to_them(app, client, auth, world):
    """open → in progress shows once; in progress → on hold → waiting on vendor not at all.

    The desk shows every step, with its internal name.
    """
    change(app, world, "dave", "in_progress", "on_hold", "waiting_on_vendor")
    for key in ("dave", "carol"):
        auth.login(email(key))
        html = client.get(f"/portal/tickets/{world.tickets['dave']}").text
        assert customer_text(html).count("Status changed to In progress") == 1, key
        assert "In progress → In progress" not in html
        auth.logout()
    auth.login(email("agent"))
    desk = customer_text(client.get(f"/tickets/{world.tickets['dave']}").text)
    for name in ("In progress", "On hold", "Waiting on vendor"):
        assert f"set the status to {name}" in desk, name


def test_visible_events_leave_out_changes_that_read_alike(app, world):
    """The access module's filter itself: customers get the change that means something to
    them, staff every change (older rows included: the filter reads the values, not a flag)."""
    change(app, world, "dave", "on_hold", "in_progress", "waiting_on_customer")
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["dave"])

        def changes(key):
            events = db.session.scalars(
                visible_events(db.session.get(User, world.users[key]), ticket)).all()
            return [(e.old_value, e.new_value) for e in events if e.kind == "status"]

        assert changes("dave")[-2:] == [("open", "on_hold"),
                                        ("in_progress", "waiting_on_customer")]
        assert ("on_hold", "in_progress") in changes("agent")
        assert ("on_hold", "in_progress") not in changes("carol")
        assert all(not e.internal for e in db.session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                      TicketEvent.kind == "status")))


def test_a_change_that_reads_alike_is_not_news_to_the_customer(app, world):
    """in progress → on hold moves the staff's clock only: the portal's order, "Updated" time
    and live version stay, so nothing wakes the customer's page."""
    change(app, world, "dave", "in_progress")
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["dave"])
        public, staff = ticket.public_updated_at, ticket.updated_at
        version = customer_ticket_version(ticket)
    change(app, world, "dave", "on_hold")
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["dave"])
        assert ticket.updated_at > staff
        assert ticket.public_updated_at == public
        assert customer_ticket_version(ticket) == version
    change(app, world, "dave", "waiting_on_customer")
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["dave"])
        assert ticket.public_updated_at > public
        assert customer_ticket_version(ticket) != version


# --- waiting on you -------------------------------------------------------------------------

def test_tickets_waiting_on_the_customer_are_pointed_out(app, client, auth, world):
    """A count above the list with a link to them, and the rows marked; none when none wait."""
    auth.login(email("carol"))
    html = client.get("/portal/tickets").text
    assert "waiting on your reply" not in html and "waiting-on-you" not in html
    for key in ("dave", "erin"):
        put_status(app, key, world, "waiting_on_customer")
    html = client.get("/portal/tickets").text
    assert "2 tickets are waiting on your reply." in html
    assert re.search(r'<a href="/portal/tickets\?status=waiting_on_customer"[^>]*>Show them</a>',
                     html)
    rows = re.findall(r'<li( class="waiting-on-you")?>\s*<a href="/portal/tickets/\d+">\s*'
                      r'<span class="number">[^<]*</span>\s*<span class="subject">(\w+) ticket',
                      html)
    assert {key for marked, key in rows if marked} == {"dave", "erin"}
    assert {key for marked, key in rows if not marked} == {"carol"}
    # The count is the customer's scope, whatever the search: Dave sees his own one.
    auth.logout()
    auth.login(email("dave"))
    assert "1 ticket is waiting on your reply." in client.get("/portal/tickets?q=nothing").text
    # On the pill itself the list says it all.
    assert "waiting on your reply" not in client.get(
        "/portal/tickets?status=waiting_on_customer").text


# --- searching ------------------------------------------------------------------------------

def test_a_search_without_results_says_no_tickets_match(client, auth, world):
    """Not "You have no tickets yet": what was searched, and a way back to the list."""
    auth.login(email("dave"))
    html = client.get("/portal/tickets?q=zebra").text
    assert "No tickets match “zebra”." in html
    assert "You have no tickets yet" not in html
    assert re.search(r'<a href="/portal/tickets">Clear the search</a>', html)
    html = client.get("/portal/tickets?q=zebra&status=open").text
    assert "No tickets match “zebra” under “Open”." in html
    assert re.search(r'<a href="/portal/tickets\?status=open">Clear the search</a>', html)
    assert "dave ticket" in client.get("/portal/tickets").text


def test_a_customer_without_tickets_is_told_so(app, client, auth, world):
    """"You have no tickets yet" stays for a customer who has none at all."""
    with app.app_context():
        accounts.create_user(email="new@test.example", name="New", role="subscriber",
                             password=PASSWORD)
    auth.login("new@test.example")
    html = client.get("/portal/tickets").text
    assert "You have no tickets yet." in html and "No tickets match" not in html


# --- commenting on a resolved ticket --------------------------------------------------------

def resolve(app, world, key):
    with app.app_context():
        replies.add_reply(db.session.get(Ticket, world.tickets[key]),
                          author=db.session.get(User, world.users["agent"]),
                          body="Replaced the line card.", status="resolved")


def test_a_resolved_ticket_warns_that_a_comment_reopens_it(app, client, auth, world):
    """The warning says what the service does: a comment puts the ticket back to Open."""
    path = f"/portal/tickets/{world.tickets['alice']}"
    auth.login(email("alice"))
    assert "reopens it" not in client.get(path).text
    resolve(app, world, "alice")
    html = client.get(path).text
    warning = re.search(r'<p class="reopen-note"[^>]*>([^<]+)</p>', html)
    assert warning, "no warning on a resolved ticket"
    assert "Sending a comment reopens it: its status goes back to Open" in warning.group(1)
    assert "use the rating above" in warning.group(1)  # not rated yet: the way not to reopen
    token = csrf_token_from(html)
    client.post(f"{path}/comments", data={"body": "It broke again", "csrf_token": token})
    with app.app_context():
        assert db.session.get(Ticket, world.tickets["alice"]).status == "open"
    html = client.get(path).text
    assert "reopens it" not in html
    assert '<span class="badge status-open">Open</span>' in html


def test_a_closed_ticket_takes_no_comment_and_warns_of_nothing(app, client, auth, world):
    """Closed: no comment box, so no reopening warning; the read-only note instead."""
    resolve(app, world, "alice")
    change(app, world, "alice", "closed")
    auth.login(email("alice"))
    html = client.get(f"/portal/tickets/{world.tickets['alice']}").text
    assert "reopens it" not in html and 'class="comment-box"' not in html
    assert "can no longer take comments" in html

