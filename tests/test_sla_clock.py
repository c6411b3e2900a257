"""SLA clocks on tickets (helpdesk/sla/clock.py): due times on opening, priority change,
pause, resume and first response, and the targets' tiers."""

from datetime import timedelta

from helpdesk.extensions import db
from helpdesk.models import (
    SlaTarget,
)
from helpdesk.services import replies, tickets
from tests.sla_kit import HOUR, london, open_at, users


def test_opening_sets_due_times_in_business_hours(app, world):
    """Normal: first response in a business day (8 h), resolution in three; opened Friday
    15:00, so both clocks run over the weekend's closed days."""
    with app.app_context():
        ticket = open_at(world, london(2026, 3, 6, 15))
        assert ticket.first_response_due_at == london(2026, 3, 9, 15)
        assert ticket.resolution_due_at == london(2026, 3, 11, 15)
        assert ticket.sla_due_at == ticket.first_response_due_at
        assert ticket.sla_state == "on_time"
        # The first threshold: escalation level 1 at 70% of 8 h (5 h 36 min) = Monday 12:36.
        assert ticket.sla_next_check_at == london(2026, 3, 9, 12, 36)


def test_priority_change_moves_the_due_times(app, world):
    with app.app_context():
        ticket = open_at(world, london(2026, 3, 2, 10))
        (agent,) = users("agent", world=world)
        tickets.change_priority(ticket, "urgent", actor=agent, at=london(2026, 3, 2, 10, 30))
        assert ticket.first_response_due_at == london(2026, 3, 2, 11)
        assert ticket.resolution_due_at == london(2026, 3, 2, 14)


def test_pause_and_resume(app, world):
    """Waiting on the vendor from Monday 12:00 to Wednesday 10:00 stops the clock: two of the
    eight hours were used, six are left from Wednesday 10:00."""
    with app.app_context():
        ticket = open_at(world, london(2026, 3, 2, 10))
        (agent,) = users("agent", world=world)
        tickets.change_status(ticket, "waiting_on_vendor", actor=agent, at=london(2026, 3, 2, 12))
        assert ticket.sla_state == "paused"
        assert ticket.sla_due_at is None and ticket.sla_next_check_at is None
        assert ticket.sla_elapsed_seconds == 2 * 3600
        assert ticket.sla_paused_at == london(2026, 3, 2, 12)
        tickets.change_status(ticket, "on_hold", actor=agent, at=london(2026, 3, 3, 12))
        assert ticket.sla_paused_at == london(2026, 3, 2, 12)  # still the same pause
        tickets.change_status(ticket, "in_progress", actor=agent, at=london(2026, 3, 4, 10))
        assert ticket.sla_state == "on_time" and ticket.sla_paused_at is None
        assert ticket.first_response_due_at == london(2026, 3, 4, 16)
        assert ticket.resolution_due_at == london(2026, 3, 6, 16)  # 24 h less the 2 used


def test_first_public_reply_meets_the_first_response(app, world):
    """A public staff reply: the resolution clock runs now. An internal note or a customer's
    comment does not count."""
    with app.app_context():
        ticket = open_at(world, london(2026, 3, 2, 10), priority="high")
        agent, alice = users("agent", "alice", world=world)
        replies.add_reply(ticket, author=agent, body="Looking", internal=True,
                          created_at=london(2026, 3, 2, 10, 30))
        replies.add_reply(ticket, author=alice, body="Any news?",
                          created_at=london(2026, 3, 2, 10, 40))
        assert ticket.first_response_at is None
        assert ticket.sla_due_at == london(2026, 3, 2, 14)
        replies.add_reply(ticket, author=agent, body="On it", status="in_progress",
                          created_at=london(2026, 3, 2, 11))
        assert ticket.first_response_at == london(2026, 3, 2, 11)
        assert ticket.first_response_due_at == london(2026, 3, 2, 14)
        assert ticket.sla_due_at == ticket.resolution_due_at == london(2026, 3, 3, 10)


def test_a_reply_that_waits_on_the_customer_pauses(app, world):
    with app.app_context():
        ticket = open_at(world, london(2026, 3, 2, 10))
        (agent,) = users("agent", world=world)
        replies.add_reply(ticket, author=agent, body="Which router?",
                          created_at=london(2026, 3, 2, 11))
        assert ticket.status == "waiting_on_customer"
        assert ticket.sla_state == "paused" and ticket.sla_elapsed_seconds == 3600


def test_resolving_stops_the_clock(app, world):
    with app.app_context():
        ticket = open_at(world, london(2026, 3, 2, 10))
        (agent,) = users("agent", world=world)
        replies.add_reply(ticket, author=agent, body="Fixed", status="resolved",
                          created_at=london(2026, 3, 2, 11))
        assert ticket.sla_state is None and ticket.sla_next_check_at is None
        assert ticket.sla_due_at is None


def test_a_clock_stopped_while_paused_settles_its_due_time(app, world):
    """Normal, opened Monday 10:00, waiting on the vendor from 12:00 (two of eight hours
    used): answered Thursday 10:00 while waiting, its first response is due six business
    hours later (16:00), not at Tuesday 10:00 as before the pause, so it counts as met;
    resolved Friday 12:00 from waiting on the customer, with 22 of 24 hours left: due
    Wednesday 11th 10:00. The reports compare the stopping time with these."""
    with app.app_context():
        ticket = open_at(world, london(2026, 3, 2, 10))
        (agent,) = users("agent", world=world)
        tickets.change_status(ticket, "waiting_on_vendor", actor=agent,
                              at=london(2026, 3, 2, 12))
        assert ticket.first_response_due_at == london(2026, 3, 3, 10)
        replies.add_reply(ticket, author=agent, body="The vendor says Friday",
                          created_at=london(2026, 3, 5, 10))
        assert ticket.status == "waiting_on_customer"
        assert ticket.first_response_due_at == london(2026, 3, 5, 16)
        assert ticket.resolution_due_at == london(2026, 3, 5, 10)  # still from before
        replies.add_reply(ticket, author=agent, body="Fixed", status="resolved",
                          created_at=london(2026, 3, 6, 12))
        assert ticket.resolution_due_at == london(2026, 3, 11, 10)
        assert ticket.first_response_due_at == london(2026, 3, 5, 16)


def test_a_clock_over_its_target_before_the_pause_keeps_its_due_time(app, world):
    """High, opened Monday 10:00 (first response due 14:00), on hold from 15:00: answered on
    Tuesday while on hold, it was late, and its due time stays 14:00; resolving from a
    running clock keeps the due time it ran to."""
    with app.app_context():
        ticket = open_at(world, london(2026, 3, 2, 10), priority="high")
        (agent,) = users("agent", world=world)
        tickets.change_status(ticket, "on_hold", actor=agent, at=london(2026, 3, 2, 15))
        replies.add_reply(ticket, author=agent, body="Sorry", status="in_progress",
                          created_at=london(2026, 3, 3, 10))
        assert ticket.first_response_due_at == london(2026, 3, 2, 14)
        due = ticket.resolution_due_at
        replies.add_reply(ticket, author=agent, body="Fixed", status="resolved",
                          created_at=due + timedelta(hours=30))
        assert ticket.resolution_due_at == due


def test_overrides_organisation_over_reseller_over_workspace(app, world):
    """Dave is Acme's (North's customer); Alice is North's own subscriber."""
    with app.app_context():
        dave, alice = users("dave", "alice", world=world)
        db.session.add_all([
            SlaTarget(priority="normal", first_response_minutes=120),
            SlaTarget(reseller_id=alice.reseller_id, priority="normal",
                      first_response_minutes=60, resolution_minutes=600),
            SlaTarget(organisation_id=dave.organisation_id, priority="normal",
                      first_response_minutes=30),
        ])
        db.session.commit()
        start = london(2026, 3, 2, 9)
        for who, first in (("alice", 60), ("dave", 30)):
            ticket = open_at(world, start, subscriber=who)
            assert ticket.first_response_due_at == start + timedelta(minutes=first), who
            assert ticket.resolution_due_at == london(2026, 3, 3, 11), who  # 600 min
        zed_ticket = open_at(world, start, subscriber="zed")  # no reseller: the workspace's
        assert zed_ticket.first_response_due_at == start + 2 * HOUR
        assert zed_ticket.resolution_due_at == london(2026, 3, 4, 17)  # built in: 3 d
