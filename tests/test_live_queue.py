"""The queue opens on live work: unresolved tickets only, resolved and closed a filter away;
its counters are links to exactly what they count."""

import re

import pytest

from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.services import replies, tickets
from tests.world import email

ROW = re.compile(r'<tr id="row-(\d+)"')
HX = {"HX-Request": "true"}


def listed(client, path):
    return {int(n) for n in ROW.findall(client.get(path, headers=HX).text)}


@pytest.fixture
def spread(app, world):
    """The world's tickets in every kind of state: alice resolved, bob closed, carol waiting,
    dave in progress (erin and zed stay open)."""
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        for key, status in (("alice", "resolved"), ("bob", "closed"),
                            ("carol", "waiting_on_customer"), ("dave", "in_progress")):
            ticket = db.session.get(Ticket, world.tickets[key])
            if status in ("resolved", "closed"):
                replies.add_reply(ticket, author=agent, body="Fixed.", status=status)
            else:
                tickets.change_status(ticket, status, actor=agent)
    return world


def test_the_queue_opens_on_live_work(client, auth, spread):
    auth.login(email("agent"))
    done = {spread.tickets["alice"], spread.tickets["bob"]}
    live = listed(client, "/tickets")
    assert live and not live & done
    assert done <= listed(client, "/tickets?status=any")
    assert listed(client, "/tickets?status=closed") == {spread.tickets["bob"]}
    page = client.get("/tickets").text
    assert '<option value="" selected>Unresolved</option>' in page
    assert '<option value="any" selected>Any status</option>' in client.get(
        "/tickets?status=any").text


def test_each_counter_lists_exactly_what_it_counts(client, auth, spread):
    auth.login(email("agent"))
    counters = client.get("/tickets/counters", headers=HX).text
    links = re.findall(r'<a class="counter" href="([^"]+)"><span class="count">(\d+)</span>'
                       r' ([a-z ]+)</a>', counters)
    assert [label for _, _, label in links] == [
        "unresolved", "open", "in progress", "waiting", "resolved", "closed"]
    for href, count, label in links:
        assert len(listed(client, href.replace("&amp;", "&"))) == int(count), label
    assert {label: int(count) for _, count, label in links}["closed"] >= 1


def test_my_tickets_is_its_own_view_with_its_own_counters(app, client, auth, spread):
    """"My tickets": its own title, counters of what is assigned to me only, each a link to
    exactly what it counts."""
    with app.app_context():
        agent = db.session.get(User, spread.users["agent"])
        admin = db.session.get(User, spread.users["admin"])
        for key, person in (("alice", agent), ("carol", agent), ("dave", agent),
                            ("erin", admin)):
            tickets.assign(db.session.get(Ticket, spread.tickets[key]), person, actor=agent)
    auth.login(email("agent"))
    page = client.get("/tickets?assignee=me").text
    assert "<h1>My tickets</h1>" in page and "/tickets/counters?assignee=me" in page
    counters = client.get("/tickets/counters?assignee=me", headers=HX).text
    links = re.findall(r'<a class="counter" href="([^"]+)"><span class="count">(\d+)</span>'
                       r' ([a-z ]+)</a>', counters)
    counted = {label: int(count) for _, count, label in links}
    assert counted == {"unresolved": 2, "open": 0, "in progress": 1, "waiting": 1,
                       "resolved": 1, "closed": 0}
    for href, count, label in links:
        assert "assignee=me" in href
        assert len(listed(client, href.replace("&amp;", "&"))) == int(count), label
    assert "avg first response" not in counters
    assert "avg first response" in client.get("/tickets/counters", headers=HX).text


def test_a_reseller_counter_agrees_with_its_queue(client, auth, spread):
    auth.login(email("north_reseller"))
    counters = client.get("/tickets/counters", headers=HX).text
    unresolved = re.search(r'href="/tickets"><span class="count">(\d+)</span> unresolved',
                           counters).group(1)
    assert len(listed(client, "/tickets")) == int(unresolved)


def test_hubs_still_list_every_ticket(client, auth, spread):
    """A customer's hub is their history: resolved and closed tickets too."""
    auth.login(email("agent"))
    alice = spread.users["alice"]
    assert spread.tickets["alice"] in listed(client, f"/customers/{alice}")
