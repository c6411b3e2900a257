"""A ticket's team changed by hand (``services.tickets.set_team``, ``POST /tickets/<id>/team``):
staff only, as a plain form or with htmx, with an event in the timeline and an audit entry of
the old and new team; resellers get 403 on tickets they see, everyone else 404."""

import re

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, Team, Ticket, TicketEvent, User
from helpdesk.services import teams, tickets
from helpdesk.services.errors import NotAllowed, TicketNotFound
from tests.conftest import csrf_token_from
from tests.world import email

HX = {"HX-Request": "true"}


@pytest.fixture
def team_ids(app, world):
    """Billing and Network; Alice's ticket with Billing."""
    with app.app_context():
        billing, network = teams.create_team("Billing"), teams.create_team("Network")
        db.session.get(Ticket, world.tickets["alice"]).team = billing
        db.session.commit()
        return {"Billing": billing.id, "Network": network.id}


def post(client, path, data, headers=None):
    """POST with the CSRF token of the queue page."""
    token = csrf_token_from(client.get("/tickets", follow_redirects=True).text)
    return client.post(path, data={"csrf_token": token, **data}, headers=headers or {})


def team_of(app, ticket_id):
    with app.app_context():
        return db.session.get(Ticket, ticket_id).team_id


def team_entries(app, ticket_id):
    with app.app_context():
        return [(e.actor.email, e.field, e.old_value, e.new_value) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "ticket.team",
                                     AuditEntry.ticket_id == ticket_id)
            .order_by(AuditEntry.id))]


def test_a_plain_post_moves_the_ticket_and_says_so(app, client, auth, world, team_ids):
    """Without JavaScript: 303 back to the ticket, which shows the new team selected and
    "Agent moved this to team Network"; the audit has Billing → Network by the agent."""
    ticket_id = world.tickets["alice"]
    auth.login(email("agent"))
    response = post(client, f"/tickets/{ticket_id}/team", {"team": str(team_ids["Network"])})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/tickets/{ticket_id}"
    assert team_of(app, ticket_id) == team_ids["Network"]
    page = client.get(f"/tickets/{ticket_id}").text
    assert re.search(rf'<option value="{team_ids["Network"]}" selected>Network</option>', page)
    assert re.search(r"Agent\s+moved this to team <strong>Network</strong>", page)
    assert team_entries(app, ticket_id) == [
        ("agent@test.example", "team", "Billing", "Network")]
    auth.logout()
    auth.login(email("alice"))  # the customer: no team, no event
    portal = client.get(f"/portal/tickets/{ticket_id}").text
    assert "Network" not in portal and "moved this to team" not in portal
    auth.logout()
    auth.login(email("admin"))
    log = client.get("/admin/audit").text
    assert re.search(r"moved <a href=\"/tickets/\d+\">[A-Z]+-\d+</a> to team "
                     r"<strong>Network</strong> \(was <strong>Billing</strong>\)", log)


def test_with_htmx_the_answer_is_the_ticket_with_its_row_told(app, client, auth, world,
                                                             team_ids):
    """The control's answer is the ticket fragment (the control replaced with the new choice)
    and the trigger that redraws its queue row; "No team" takes it off and says so."""
    ticket_id = world.tickets["alice"]
    auth.login(email("agent"))
    response = post(client, f"/tickets/{ticket_id}/team", {"team": ""}, HX)
    assert response.status_code == 200 and "<html" not in response.text
    assert response.headers["HX-Trigger"] == f"ticket-changed-{ticket_id}"
    assert '<option value="" selected>No team</option>' in response.text
    assert re.search(r"Agent\s+took this off team <strong>Billing</strong>", response.text)
    assert team_of(app, ticket_id) is None
    assert team_entries(app, ticket_id) == [("agent@test.example", "team", "Billing", None)]


def test_the_same_team_again_changes_nothing(app, client, auth, world, team_ids):
    ticket_id = world.tickets["alice"]
    auth.login(email("agent"))
    with app.app_context():
        before = db.session.get(Ticket, ticket_id).updated_at
    assert post(client, f"/tickets/{ticket_id}/team",
                {"team": str(team_ids["Billing"])}).status_code == 303
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).updated_at == before
        assert not db.session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "team")).all()


@pytest.mark.parametrize("headers", [{}, HX])
def test_a_team_that_does_not_exist_is_refused_beside_the_control(app, client, auth, world,
                                                                  team_ids, headers):
    ticket_id = world.tickets["alice"]
    auth.login(email("agent"))
    response = post(client, f"/tickets/{ticket_id}/team", {"team": "999999"}, headers)
    assert response.status_code == 422 and "That team does not exist." in response.text
    assert team_of(app, ticket_id) == team_ids["Billing"]


@pytest.mark.parametrize(("key", "expected"), [
    ("north_reseller", 403),  # sees it and may edit it, but teams are staff things
    ("north_viewer", 403),    # sees it, may not act
    ("south_reseller", 404),  # not in scope: never reveals the ticket
    ("alice", 404),           # her own ticket: customers have no desk actions
    ("carol", 404),
])
def test_only_staff_set_a_team(app, client, auth, world, team_ids, key, expected):
    """Refused with the existing pattern for a forbidden change; nothing changes, and the
    reseller who sees the ticket sees its team as text, with no control."""
    ticket_id = world.tickets["alice"]
    auth.login(email(key))
    for headers in ({}, HX):
        response = post(client, f"/tickets/{ticket_id}/team",
                        {"team": str(team_ids["Network"])}, headers)
        assert response.status_code == expected
    assert team_of(app, ticket_id) == team_ids["Billing"]
    assert team_entries(app, ticket_id) == []
    if key == "north_reseller":
        page = client.get(f"/tickets/{ticket_id}").text
        assert '<dd class="team">Billing</dd>' in page and 'name="team"' not in page


def test_the_service_refuses_everyone_but_staff(app_context, world, team_ids):
    """``set_team`` asks ``may`` itself, so the CLI, jobs and the API cannot go around it."""
    ticket = db.session.get(Ticket, world.tickets["alice"])
    network = db.session.get(Team, team_ids["Network"])
    for key, refusal in (("north_reseller", NotAllowed), ("alice", NotAllowed),
                         ("south_reseller", TicketNotFound)):
        with pytest.raises(NotAllowed) as refused:
            tickets.set_team(ticket, network, actor=db.session.get(User, world.users[key]))
        assert type(refused.value) is refusal, key
    assert ticket.team_id == team_ids["Billing"]
    tickets.set_team(ticket, network, actor=db.session.get(User, world.users["admin"]))
    assert db.session.get(Ticket, ticket.id).team_id == team_ids["Network"]


def test_the_control_needs_the_csrf_token(app, client, auth, world, team_ids):
    ticket_id = world.tickets["alice"]
    auth.login(email("agent"))
    response = client.post(f"/tickets/{ticket_id}/team", data={"team": ""})
    assert response.status_code == 400
    assert team_of(app, ticket_id) == team_ids["Billing"]


def test_no_control_while_there_are_no_teams(client, auth, world):
    """Nothing to choose from: the ticket shows no team at all."""
    auth.login(email("agent"))
    page = client.get(f"/tickets/{world.tickets['alice']}").text
    assert 'name="team"' not in page and "<dt>Team</dt>" not in page
