"""The issue's "done when": a script with a reseller's token lists, opens, replies to and
resolves that reseller's tickets, and gets 404 for any other."""

from helpdesk.access import visible_tickets
from helpdesk.extensions import db
from helpdesk.models import Ticket, User


def test_a_resellers_script_works_its_tickets_and_nothing_else(app, api_as, world):
    api = api_as("north_reseller")
    with app.app_context():
        north = db.session.get(User, world.users["north_reseller"])
        mine = set(db.session.scalars(visible_tickets(north).with_only_columns(Ticket.id)))
    assert mine  # Alice's, and Acme's (a North customer)

    listed, cursor = [], None
    while True:
        page = api.get("/api/v1/tickets?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status_code == 200
        listed += page.get_json()["tickets"]
        if (cursor := page.get_json()["next_cursor"]) is None:
            break
    assert {ticket["id"] for ticket in listed} == mine
    assert all(ticket["reseller"]["name"] == "North" for ticket in listed)

    for ticket in listed:
        path = f"/api/v1/tickets/{ticket['id']}"
        opened = api.get(path)
        assert opened.status_code == 200
        reply = api.post(f"{path}/replies", json={"body": "Fixed: the line was reset.",
                                                  "status": "resolved"})
        assert reply.status_code == 201, reply.get_json()
        assert api.get(path).get_json()["status"] == "resolved"

    others = set(world.tickets.values()) - mine
    assert others
    for ticket_id in others:
        path = f"/api/v1/tickets/{ticket_id}"
        assert api.get(path).status_code == 404
        assert api.post(f"{path}/replies", json={"body": "x"}).status_code == 404
        assert api.patch(path, json={"status": "resolved"}).status_code == 404
    with app.app_context():
        for ticket_id in others:
            assert db.session.get(Ticket, ticket_id).status != "resolved"
