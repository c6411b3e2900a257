"""Changing tickets through the API: the desk's services and permissions, 403 for what the
token's user may not do to a ticket they see, 404 for a ticket they do not see, 409 for a
stale ``If-Match``."""

import pytest

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, Category, Ticket
from tests.api_kit import is_problem

TICKETS = "/api/v1/tickets"


def operations(ticket_id, assignee_id):
    """Every operation on one ticket, as ``(method, path, body)``."""
    one = f"{TICKETS}/{ticket_id}"
    return [
        ("get", one, None),
        ("patch", one, {"priority": "high"}),
        ("post", f"{one}/replies", {"body": "Hello"}),
        ("post", f"{one}/handoff", {"assignee": assignee_id, "body": "Yours now"}),
        ("delete", one, None),
    ]


def call(api, method, path, body):
    return getattr(api, method)(path, json=body) if body is not None else getattr(
        api, method)(path)


@pytest.mark.parametrize("key", ["north_reseller", "north_viewer", "south_reseller", "alice",
                                 "carol", "north_none"])
def test_every_operation_on_an_out_of_scope_ticket_is_404(api_as, world, key):
    api = api_as(key)
    others = {"north_reseller": "bob", "north_viewer": "bob", "south_reseller": "alice",
              "alice": "dave", "carol": "alice", "north_none": "alice"}
    for method, path, body in operations(world.tickets[others[key]], world.users["agent"]):
        response = call(api, method, path, body)
        assert is_problem(response, 404), (method, path, response.status_code)


def test_a_reseller_without_the_permission_gets_403_on_its_own_ticket(app, api_as, world):
    """``north_viewer`` has tickets.view only: it reads Alice's ticket, may change nothing."""
    api = api_as("north_viewer")
    ticket_id = world.tickets["alice"]
    assert api.get(f"{TICKETS}/{ticket_id}").status_code == 200
    for method, path, body in operations(ticket_id, world.users["north_reseller"])[1:]:
        response = call(api, method, path, body)
        assert is_problem(response, 403), (method, path, response.status_code)
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).priority == "normal"


@pytest.mark.parametrize("key", ["alice", "carol"])
def test_customers_may_comment_but_not_change_or_note(api_as, world, key):
    api = api_as(key)
    ticket_id = world.tickets[key]
    assert is_problem(api.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"}), 403)
    assert is_problem(api.post(f"{TICKETS}/{ticket_id}/replies",
                               json={"body": "psst", "internal": True}), 403)
    assert is_problem(api.delete(f"{TICKETS}/{ticket_id}"), 403)
    comment = api.post(f"{TICKETS}/{ticket_id}/replies", json={"body": "Still broken"})
    assert comment.status_code == 201
    assert comment.get_json()["internal"] is False


def test_patch_changes_each_field_through_its_service(app, api_as, world):
    api = api_as("agent")
    with app.app_context():
        category = db.session.scalars(db.select(Category).order_by(Category.id.desc())).first()
        category_id = category.id
    ticket_id = world.tickets["bob"]
    response = api.patch(f"{TICKETS}/{ticket_id}", json={
        "status": "in_progress", "priority": "urgent", "category": category_id,
        "assignee": world.users["agent"]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["priority"], body["category"]["id"],
            body["assignee"]["id"]) == ("in_progress", "urgent", category_id,
                                        world.users["agent"])
    with app.app_context():
        actions = set(db.session.scalars(db.select(AuditEntry.action).where(
            AuditEntry.ticket_id == ticket_id, AuditEntry.actor_id == world.users["agent"])))
    assert {"ticket.status", "ticket.priority", "ticket.category",
            "ticket.assignment"} <= actions
    assert api.patch(f"{TICKETS}/{ticket_id}", json={"assignee": None}).get_json()[
        "assignee"] is None


def test_a_stale_if_match_is_409_and_changes_nothing(app, api_as, world):
    api = api_as("agent")
    path = f"{TICKETS}/{world.tickets['alice']}"
    etag = api.get(path).headers["ETag"]
    changed = api.patch(path, json={"priority": "high"}, headers={"If-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    stale = api.patch(path, json={"priority": "low"}, headers={"If-Match": etag})
    assert is_problem(stale, 409)
    with app.app_context():
        assert db.session.get(Ticket, world.tickets["alice"]).priority == "high"
    fresh = api.patch(path, json={"priority": "low"},
                      headers={"If-Match": changed.headers["ETag"]})
    assert fresh.status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"priority": "sometimes"}, "priority"), ({"status": "done"}, "status"),
    ({"category": 999999}, "category"), ({"assignee": 999999}, "assignee"),
    ({"status": "resolved"}, "body"),  # resolving needs a resolution: the service says so
    ({"colour": "red"}, "colour"), ({"category": "3"}, "category"),
])
def test_a_refused_change_is_422_naming_the_field(api_as, world, body, field):
    response = api_as("agent").patch(f"{TICKETS}/{world.tickets['alice']}", json=body)
    assert is_problem(response, 422), response.get_json()
    assert field in response.get_json()["errors"]


def test_someone_who_cannot_be_assigned_is_refused_without_being_named(api_as, world):
    """South's reseller user cannot take North's ticket: 422 on ``assignee``."""
    response = api_as("agent").patch(f"{TICKETS}/{world.tickets['alice']}",
                                     json={"assignee": world.users["south_reseller"]})
    assert is_problem(response, 422)
    assert "South" not in response.text


def test_delete_is_soft_and_the_ticket_is_then_404(app, api_as, world):
    api = api_as("agent")
    path = f"{TICKETS}/{world.tickets['zed']}"
    assert api.delete(path).status_code == 204
    assert is_problem(api.get(path), 404)
    assert is_problem(api.delete(path), 404)
    with app.app_context():
        assert db.session.get(Ticket, world.tickets["zed"]).deleted_at is not None


def test_a_body_that_is_not_json_is_a_problem(api_as, world):
    api = api_as("agent")
    response = api.client.patch(f"{TICKETS}/{world.tickets['alice']}", data="{not json",
                                headers=api.headers({"Content-Type": "application/json"}))
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"

