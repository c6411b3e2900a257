"""Reading tickets through the API: the same scope, filters, sorts and internal-note rule as
the pages, a page at a time by cursor, at a constant number of queries."""

import pytest
from sqlalchemy import select

from helpdesk.access import visible_tickets
from helpdesk.extensions import db
from helpdesk.models import Category, Ticket, User
from helpdesk.services import tickets
from tests.api_kit import is_problem

TICKETS = "/api/v1/tickets"
ROLES = ["admin", "agent", "north_reseller", "north_all", "north_none", "south_reseller",
         "alice", "carol", "dave"]


def listed_ids(api, query="status=any&limit=100"):
    """Every id the API lists, following the cursors."""
    ids, cursor = [], None
    while True:
        response = api.get(f"{TICKETS}?{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        ids += [ticket["id"] for ticket in page["tickets"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


@pytest.mark.parametrize("key", ROLES)
def test_each_role_lists_exactly_its_scope(app, api_as, world, key):
    api = api_as(key)
    with app.app_context():
        user = db.session.get(User, world.users[key])
        expected = set(db.session.scalars(visible_tickets(user).with_only_columns(Ticket.id)))
    listed = listed_ids(api, "status=any&limit=2")
    assert len(listed) == len(set(listed))  # no ticket twice across pages
    assert set(listed) == expected


@pytest.mark.parametrize("key", ROLES)
def test_each_role_opens_its_tickets_and_gets_404_for_the_others(app, api_as, world, key):
    api = api_as(key)
    with app.app_context():
        user = db.session.get(User, world.users[key])
        seen = set(db.session.scalars(visible_tickets(user).with_only_columns(Ticket.id)))
    for ticket_id in world.tickets.values():
        response = api.get(f"{TICKETS}/{ticket_id}")
        if ticket_id in seen:
            assert response.status_code == 200
            assert response.get_json()["id"] == ticket_id
            assert response.headers["ETag"].startswith('"')
        else:
            assert is_problem(response, 404)


@pytest.mark.parametrize("key", ["alice", "dave", "carol"])
def test_customers_never_read_internal_notes(api_as, world, key):
    api = api_as(key)
    for ticket_id in listed_ids(api):
        detail = api.get(f"{TICKETS}/{ticket_id}")
        assert world.internal_note_text not in detail.text
        body = detail.get_json()
        assert all(not reply["internal"] for reply in body["replies"])
        assert body["assignee"] is None and body["sla_state"] is None
        assert all(reply["author"]["name"] == "Support" for reply in body["replies"]
                   if reply["author"]["id"] is None)


@pytest.mark.parametrize("key", ["agent", "north_reseller"])
def test_staff_and_resellers_read_internal_notes(api_as, world, key):
    detail = api_as(key).get(f"{TICKETS}/{world.tickets['alice']}").get_json()
    notes = [reply for reply in detail["replies"] if reply["internal"]]
    assert [note["body"] for note in notes] == [world.internal_note_text]


def test_filters_mean_what_they_mean_in_the_queue(app, api_as, world):
    api = api_as("agent")
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        alice_ticket = db.session.get(Ticket, world.tickets["alice"])
        tickets.change_priority(alice_ticket, "urgent", actor=agent)
        tickets.assign(db.session.get(Ticket, world.tickets["bob"]), agent, actor=agent)
    assert listed_ids(api, "priority=urgent") == [world.tickets["alice"]]
    assert listed_ids(api, "assignee=me") == [world.tickets["bob"]]
    assert listed_ids(api, f"customer={world.users['dave']}") == [world.tickets["dave"]]
    assert set(listed_ids(api, "status=open&status=waiting_on_customer")) == set(
        listed_ids(api))
    assert listed_ids(api, "status=closed") == []
    assert world.tickets["zed"] in listed_ids(api, "q=zed")
    newest = listed_ids(api, "status=any&sort=newest")
    assert newest == sorted(newest, reverse=True)
    assert listed_ids(api, "status=any&sort=oldest") == list(reversed(newest))


def test_a_customer_filters_by_the_statuses_they_read(app, api_as, world):
    """``in_progress`` to a customer is also waiting on a vendor and on hold."""
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        tickets.change_status(db.session.get(Ticket, world.tickets["alice"]), "on_hold",
                              actor=agent)
    api = api_as("alice")
    assert listed_ids(api, "status=in_progress") == [world.tickets["alice"]]
    listed = api.get(f"{TICKETS}?status=any").get_json()["tickets"]
    assert [ticket["status"] for ticket in listed] == ["in_progress"]


@pytest.mark.parametrize(("query", "field"), [
    ("status=nonsense", "status.0"), ("limit=0", "limit"), ("limit=101", "limit"),
    ("sort=sideways", "sort"), ("cursor=not-ours", "cursor"), ("assignee=someone", "assignee"),
    ("category=x", "category.0"),
])
def test_a_bad_parameter_is_422_naming_it(api_as, query, field):
    response = api_as("agent").get(f"{TICKETS}?{query}")
    assert is_problem(response, 422)
    assert field in response.get_json()["errors"]


def test_a_page_costs_the_same_queries_at_any_size(app, api_as, world, count_queries):
    api = api_as("agent")
    with app.app_context():
        dave = db.session.get(User, world.users["dave"])
        category = db.session.scalars(select(Category)).first()
        for n in range(20):
            tickets.open_ticket(subscriber=dave, subject=f"Bulk {n}", body="b",
                                category=category)
    counts = {}
    for limit in (2, 20):
        api.get(f"{TICKETS}?status=any&limit={limit}")  # warm
        with count_queries() as counter:
            response = api.get(f"{TICKETS}?status=any&limit={limit}")
        counts[limit] = counter.count
        assert len(response.get_json()["tickets"]) == limit
    assert counts[2] == counts[20] <= 3, counts
    detail_counts = []
    for key in ("alice", "dave"):
        with count_queries() as counter:
            api.get(f"{TICKETS}/{world.tickets[key]}")
        detail_counts.append(counter.count)
    assert detail_counts[0] == detail_counts[1] <= 5, detail_counts
