"""Replies, internal notes and handoffs through the API, with the desk's status rules."""

import io

from werkzeug.datastructures import FileStorage

from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.services import replies
from tests.api_kit import is_problem

TICKETS = "/api/v1/tickets"


def test_a_staff_reply_waits_on_the_customer_and_a_note_changes_nothing(app, api_as, world):
    api = api_as("agent")
    path = f"{TICKETS}/{world.tickets['bob']}/replies"
    note = api.post(path, json={"body": "Checked the line", "internal": True})
    assert note.status_code == 201 and note.get_json()["internal"] is True
    with app.app_context():
        assert db.session.get(Ticket, world.tickets["bob"]).status == "open"
    reply = api.post(path, json={"body": "Try now"})
    assert reply.status_code == 201
    with app.app_context():
        assert db.session.get(Ticket, world.tickets["bob"]).status == "waiting_on_customer"


def test_a_reply_may_resolve_and_a_note_may_not(app, api_as, world):
    api = api_as("agent")
    path = f"{TICKETS}/{world.tickets['bob']}/replies"
    refused = api.post(path, json={"body": "x", "internal": True, "status": "resolved"})
    assert is_problem(refused, 422) and "status" in refused.get_json()["errors"]
    resolved = api.post(path, json={"body": "Fixed", "status": "resolved"})
    assert resolved.status_code == 201
    with app.app_context():
        assert db.session.get(Ticket, world.tickets["bob"]).status == "resolved"


def test_the_subscriber_sees_the_reply_but_never_the_note(api_as, world):
    agent = api_as("agent")
    path = f"{TICKETS}/{world.tickets['bob']}/replies"
    agent.post(path, json={"body": "NOTE-FOR-STAFF", "internal": True})
    agent.post(path, json={"body": "ANSWER-FOR-BOB"})
    detail = api_as("bob").get(f"{TICKETS}/{world.tickets['bob']}")
    assert "ANSWER-FOR-BOB" in detail.text and "NOTE-FOR-STAFF" not in detail.text


def test_an_empty_reply_is_422_on_body(api_as, world):
    response = api_as("agent").post(f"{TICKETS}/{world.tickets['bob']}/replies",
                                    json={"body": "   "})
    assert is_problem(response, 422)
    assert "body" in response.get_json()["errors"]


def test_handoff_reassigns_and_leaves_a_note(app, api_as, world):
    api = api_as("agent")
    response = api.post(f"{TICKETS}/{world.tickets['alice']}/handoff",
                        json={"assignee": world.users["north_reseller"],
                              "body": "Over to you for the night"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["assignee"]["id"] == world.users["north_reseller"]
    assert body["replies"][-1]["internal"] is True
    assert body["replies"][-1]["body"] == "Over to you for the night"


def test_handoff_to_someone_unassignable_is_422_on_assignee(api_as, world):
    response = api_as("agent").post(f"{TICKETS}/{world.tickets['alice']}/handoff",
                                    json={"assignee": world.users["bob"], "body": "x"})
    assert is_problem(response, 422)
    assert "assignee" in response.get_json()["errors"]


def test_files_of_internal_notes_are_listed_only_for_staff(app, api_as, world):
    """Attachment metadata follows its message: a note's file is not in a customer's answer."""
    def upload(name):
        return FileStorage(stream=io.BytesIO(b"log lines"), filename=name,
                           content_type="text/plain")

    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        ticket = db.session.get(Ticket, world.tickets["alice"])
        replies.add_reply(ticket, author=agent, body="Router log", internal=True,
                          files=[upload("internal-trace.txt")])
        replies.add_reply(ticket, author=agent, body="Your invoice", files=[upload("invoice.txt")])
    path = f"{TICKETS}/{world.tickets['alice']}"

    def files(key):
        detail = api_as(key).get(path).get_json()
        return {file["filename"] for reply in detail["replies"] for file in reply["attachments"]}

    assert files("agent") == {"internal-trace.txt", "invoice.txt"}
    assert files("alice") == {"invoice.txt"}
