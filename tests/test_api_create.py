"""Opening tickets through the API: a customer's token for themselves, staff and resellers
with ``tickets.create`` for a subscriber in their scope."""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, Ticket
from tests.api_kit import is_problem

TICKETS = "/api/v1/tickets"


@pytest.fixture
def category_id(app):
    with app.app_context():
        return db.session.scalars(select(Category.id).where(Category.active)).first()


def test_a_subscriber_opens_a_ticket_for_themselves_whatever_the_body_says(
        app, api_as, world, category_id):
    response = api_as("alice").post(TICKETS, json={
        "subject": "Wi-Fi drops", "body": "Every evening", "category": category_id,
        "subscriber": world.users["bob"]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["subscriber"]["id"] == world.users["alice"]
    assert response.headers["Location"].endswith(f"/api/v1/tickets/{body['id']}")
    with app.app_context():
        ticket = db.session.get(Ticket, body["id"])
        assert ticket.subscriber_id == world.users["alice"]
        assert ticket.reseller.name == "North" and ticket.opened_by_id is None


@pytest.mark.parametrize("key", ["agent", "north_reseller"])
def test_staff_and_resellers_open_for_a_subscriber_in_scope(app, api_as, world, category_id,
                                                             key):
    response = api_as(key).post(TICKETS, json={
        "subject": "Phoned in", "category": category_id, "priority": "high",
        "subscriber": world.users["alice"]})
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        ticket = db.session.get(Ticket, response.get_json()["id"])
        assert (ticket.subscriber_id, ticket.opened_by_id, ticket.priority) == (
            world.users["alice"], world.users[key], "high")


def test_a_reseller_cannot_open_for_another_resellers_subscriber(api_as, world, category_id):
    response = api_as("north_reseller").post(TICKETS, json={
        "subject": "Not mine", "category": category_id, "subscriber": world.users["bob"]})
    assert is_problem(response, 422)
    assert "subscriber" in response.get_json()["errors"]
    unknown = api_as("north_reseller").post(TICKETS, json={
        "subject": "Nobody", "category": category_id, "subscriber": 999999})
    assert unknown.get_json()["errors"] == response.get_json()["errors"]  # says no more


def test_a_reseller_without_tickets_create_gets_403(api_as, world, category_id):
    response = api_as("north_viewer").post(TICKETS, json={
        "subject": "x", "category": category_id, "subscriber": world.users["alice"]})
    assert is_problem(response, 403)


@pytest.mark.parametrize(("body", "field"), [
    ({"category": 1}, "subject"), ({"subject": "", "category": 1}, "subject"),
    ({"subject": "x" * 501, "category": 1}, "subject"), ({"subject": "x"}, "category"),
    ({"subject": "x", "category": 999999}, "category"),
    ({"subject": "x", "category": 1, "priority": "meh"}, "priority"),
])
def test_a_bad_ticket_is_422_naming_the_field(api_as, body, field):
    response = api_as("alice").post(TICKETS, json=body)
    assert is_problem(response, 422)
    assert field in response.get_json()["errors"]


def test_staff_must_name_the_subscriber(api_as, category_id):
    response = api_as("agent").post(TICKETS, json={"subject": "x", "category": category_id})
    assert is_problem(response, 422)
    assert "subscriber" in response.get_json()["errors"]
