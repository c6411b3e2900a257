"""The SLA sweep (helpdesk/sla/sweep.py): states, escalations, notices and auto-close written
once however often it runs, its reads only what is due, bounded runs over a backlog, and the
worker and CLI that run it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import (
    Notification,
    Ticket,
)
from helpdesk.services import replies, tickets
from helpdesk.sla import sweep as sla_sweep
from tests.sla_kit import HOUR, audits, events, london, open_at, settings, users


def test_sweep_reads_only_tickets_whose_time_has_come(app, world, count_queries):
    with app.app_context():
        start = london(2026, 3, 2, 9)
        soon = open_at(world, start, priority="urgent")  # level 1 at 42 min
        later = [open_at(world, start, priority="low") for _ in range(5)]
        with count_queries() as counter:
            result = sla_sweep.sweep(now=start + timedelta(minutes=45))
        assert result.checked == 1
        assert soon.sla_escalation_level == 1
        assert all(t.sla_escalation_level == 0 for t in later)
        few = counter.count
        more = [open_at(world, start, priority="low") for _ in range(20)]
        with count_queries() as counter:
            result = sla_sweep.sweep(now=start + timedelta(minutes=46))
        assert result.checked == 0 and counter.count <= few and more


def test_quiet_checks_move_on_in_one_statement(app, world, count_queries):
    """Tickets due for a look with nothing to say (their next check came early, or a setting
    moved their thresholds) get their next check moved in one statement, however many; a
    ticket another sweep changed meanwhile keeps that sweep's values."""
    with app.app_context():
        start = london(2026, 3, 2, 9)
        quiet = [open_at(world, start, priority="low") for _ in range(12)]
        ahead = {t.id: t.sla_next_check_at for t in quiet}
        for ticket in quiet:
            ticket.sla_next_check_at = start + timedelta(minutes=5)  # a look came early
        db.session.commit()
        ids = [t.id for t in quiet]
        with count_queries() as counter:
            result = sla_sweep.sweep(now=start + timedelta(minutes=10))
        assert result.checked == 12 and result.state_changes == result.escalations == 0
        db.session.expire_all()
        assert {t.id: t.sla_next_check_at for t in db.session.scalars(
            select(Ticket).where(Ticket.id.in_(ids)))} == ahead
        assert counter.count < 12, "not a statement per quiet ticket"
        assert not [e for t in quiet for e in events(t, "sla")]
        # Another sweep moved one on (a new state) after this one read it: not overwritten.
        (first, *_rest) = quiet
        first.sla_next_check_at = start + timedelta(minutes=5)
        db.session.commit()
        row = sla_sweep._quiet_row(first, sla_sweep._quiet_reading(
            first, now=start + timedelta(minutes=10), policy=sla_sweep.policies.load()))
        first.sla_state = "at_risk"
        db.session.commit()
        sla_sweep._recheck_later([row], now=start + timedelta(minutes=10))
        db.session.expire_all()
        assert db.session.get(Ticket, first.id).sla_next_check_at == start + timedelta(minutes=5)


def test_states_and_escalations_once_when_the_sweep_runs_twice(app, world):
    """Urgent, opened 09:00, first response due 10:00: at risk from 09:48, escalations at
    09:42, 09:51 and 09:57, breached at 10:00. Each is one event and one audit entry, however
    many sweeps run, at once or one after the other."""
    with app.app_context():
        (agent,) = users("agent", world=world)
        start = london(2026, 3, 2, 9)
        ticket = open_at(world, start, priority="urgent")
        tickets.assign(ticket, agent, actor=agent, at=start)
        ticket_id = ticket.id
        for minutes in (43, 43, 49, 55, 61, 61):
            sla_sweep.sweep(now=start + timedelta(minutes=minutes))
        # A sweep that read the ticket before another's commit: its claim fails.
        stale = db.session.get(Ticket, ticket_id)
        db.session.expunge(stale)
        stale.sla_next_check_at, stale.sla_escalation_level = start, 0
        stale.sla_state = "on_time"
        sla_sweep._check(stale, now=start + timedelta(minutes=62),
                         policy=sla_sweep.policies.load(), result=sla_sweep.SweepResult())
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.sla_state == "breached" and ticket.sla_escalation_level == 3
        assert events(ticket, "sla") == ["at_risk", "breached"]
        assert [e.split(":")[0] for e in events(ticket, "escalation")] == [
            "level 1 at 70% of the first-response target",
            "level 2 at 85% of the first-response target",
            "level 3 at 95% of the first-response target"]
        assert "notified Agent" in events(ticket, "escalation")[0]
        assert audits(ticket, "ticket.sla") == 2
        assert audits(ticket, "ticket.escalation") == 3
        # One notice per check: level 1 (09:43), at risk (09:49), level 2 (09:55), and at
        # 10:01 breached with level 3 in the same message.
        assert audits(ticket, "sla.notify") == 4
        assert ticket.sla_next_check_at is None  # nothing left to look for


def test_escalation_raises_the_priority(app, world):
    """High: first response 4 h, level 3 (95%) at 12:48 raises it to urgent, whose 1 h
    target is long gone: breached at once."""
    with app.app_context():
        start = london(2026, 3, 2, 9)
        ticket = open_at(world, start, priority="high")
        sla_sweep.sweep(now=start + timedelta(hours=3, minutes=50))
        assert ticket.priority == "urgent"
        assert ticket.sla_state == "breached"
        assert events(ticket, "priority") == ["urgent"]
        assert "raised the priority to urgent" in events(ticket, "escalation")[-1]


@pytest.mark.parametrize("days, closes", [(None, False), (3, True)])
def test_auto_close(app, world, days, closes):
    """Off by default; with 3 days, a ticket resolved 3 days ago closes, once."""
    with app.app_context():
        settings(auto_close_days=days)
        (agent,) = users("agent", world=world)
        start = london(2026, 3, 2, 9)
        ticket = open_at(world, start)
        replies.add_reply(ticket, author=agent, body="Fixed", status="resolved",
                          created_at=start + HOUR)
        assert sla_sweep.sweep(now=start + timedelta(days=2)).closed == 0
        assert sla_sweep.sweep(now=start + timedelta(days=3, hours=2)).closed == int(closes)
        assert sla_sweep.sweep(now=start + timedelta(days=3, hours=3)).closed == 0
        assert ticket.status == ("closed" if closes else "resolved")
        assert events(ticket, "status")[-1] == ticket.status


def test_the_sweep_runs_as_a_job_in_a_worker(app, world):
    """The cron job on the automation queue, run by a worker: a week-old urgent ticket is
    breached (a week holds at least five business days)."""
    from helpdesk.models.timestamps import utcnow
    from helpdesk.queues import enqueue
    from jobs.worker import make_worker

    with app.app_context():
        ticket = open_at(world, utcnow() - timedelta(days=7), priority="urgent")
        ticket_id = ticket.id
        job = enqueue("jobs.sla.sweep_sla", queue="automation")
    assert make_worker(app, queues=["automation"], simple=True).work(burst=True)
    with app.app_context():
        job.refresh()
        assert job.return_value()["state_changes"] >= 1
        assert db.session.get(Ticket, ticket_id).sla_state == "breached"


def test_changed_targets_recompute_live_clocks_in_a_worker(app, world):
    """Saving targets enqueues the recomputation; a worker gives every live ticket its new
    due time, and a ticket from before the clocks (none stored) one counted from opening."""
    from helpdesk.services import sla
    from helpdesk.sla import policy as policies
    from jobs.worker import make_worker

    with app.app_context():
        start = london(2026, 3, 2, 9)
        ticket = open_at(world, start, priority="urgent")
        legacy = open_at(world, start, priority="urgent")
        for column in ("first_response_due_at", "resolution_due_at", "sla_due_at",
                       "sla_state", "sla_running_since", "sla_next_check_at"):
            setattr(legacy, column, None)
        db.session.commit()
        ids = ticket.id, legacy.id
        (admin,) = users("admin", world=world)
        form = {f"{clock}-{p}": text for p, pair in policies.DEFAULT_TARGETS.items()
                for clock, text in zip(("first_response", "resolution"), pair, strict=True)}
        sla.save_targets(None, None, form | {"first_response-urgent": "2h"}, actor=admin)
    assert make_worker(app, queues=["automation"], simple=True).work(burst=True)
    with app.app_context():
        for ticket_id in ids:
            found = db.session.get(Ticket, ticket_id)
            assert found.first_response_due_at == start + 2 * HOUR
            assert found.sla_state == "breached"  # March is long past


def test_cli_recompute_and_sweep(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sla", "recompute"])
    assert result.exit_code == 0 and "Recomputed the SLA clocks (1 batch)" in result.output
    result = runner.invoke(args=["sla", "sweep"])
    assert result.exit_code == 0 and result.output.startswith("Checked ")


def test_deleted_tickets_leave_the_sweep_and_moves_recompute(app, world):
    """A deleted ticket has no next check (the sweep's index stays small); moving an
    organisation to another reseller, whose targets may differ, enqueues a recomputation."""
    from helpdesk.models import Organisation, Reseller
    from helpdesk.queues import get_queue
    from helpdesk.services import organisations

    with app.app_context():
        admin, agent = users("admin", "agent", world=world)
        ticket = open_at(world, london(2026, 3, 2, 9), priority="urgent")
        assert ticket.sla_next_check_at is not None
        tickets.delete_ticket(ticket, actor=admin)
        assert ticket.sla_next_check_at is None
        assert sla_sweep.sweep(now=london(2026, 3, 9)).checked == 0
        automation = get_queue("automation")
        before = automation.count
        acme = db.session.scalar(select(Organisation).where(Organisation.name == "Acme"))
        south = db.session.scalar(select(Reseller).where(Reseller.name == "South"))
        organisations.change_reseller(acme, south, actor=agent)
        assert automation.count == before + 1
        assert automation.jobs[-1].func_name == "jobs.sla.recompute_clocks"


def test_thresholds_crossed_at_once_make_one_notice(app, world):
    """Found an hour late (urgent, opened 09:00, swept at 10:30): at risk, three levels and
    breached all at once. Every step is in the timeline, and each person gets one message,
    the breach, not five."""
    with app.app_context():
        (agent,) = users("agent", world=world)
        start = london(2026, 3, 2, 9)
        ticket = open_at(world, start, priority="urgent")
        tickets.assign(ticket, agent, actor=agent, at=start)
        sla_sweep.sweep(now=start + timedelta(minutes=90))
        assert ticket.sla_state == "breached"
        assert len(events(ticket, "escalation")) == 3
        assert audits(ticket, "sla.notify") == 1
        notices = db.session.scalars(select(Notification).where(
            Notification.ticket_id == ticket.id,
            Notification.kind.in_(("sla_breached", "sla_at_risk")))).all()
        # The default levels name the assignee, then the team and the admins: each person
        # once, with the breach.
        recipients = [n.recipient_id for n in notices]
        assert agent.id in recipients and len(recipients) == len(set(recipients))
        assert {n.kind for n in notices} == {"sla_breached"}


def test_a_backlog_drains_in_bounded_runs(app, world, monkeypatch):
    """A run changes at most ``CHANGES_PER_RUN`` tickets and says there is more; the next
    run goes on; nothing is skipped or done twice."""
    monkeypatch.setattr(sla_sweep, "CHANGES_PER_RUN", 2)
    with app.app_context():
        start = london(2026, 3, 2, 9)
        ids = [open_at(world, start + timedelta(minutes=n), priority="urgent").id
               for n in range(5)]
        later = start + timedelta(hours=3)
        first = sla_sweep.sweep(now=later)
        assert first.more and first.state_changes == 2
        second = sla_sweep.sweep(now=later)
        assert second.more and second.state_changes == 2
        third = sla_sweep.sweep(now=later)
        assert not third.more and third.state_changes == 1
        assert {db.session.get(Ticket, i).sla_state for i in ids} == {"breached"}
        assert sla_sweep.sweep(now=later).state_changes == 0


def test_a_run_stops_changing_tickets_past_its_time_and_sweep_through_drains(app, world,
                                                                              monkeypatch):
    """Past ``RUN_SECONDS`` a run changes nothing more and says there is more, though it
    always changes one ticket (so even a slow machine makes progress); ``sweep_through``
    runs until nothing due is left."""
    monkeypatch.setattr(sla_sweep, "RUN_SECONDS", -1.0)
    with app.app_context():
        start = london(2026, 3, 2, 9)
        ids = [open_at(world, start + timedelta(minutes=n), priority="urgent").id
               for n in range(3)]
        later = start + timedelta(hours=3)
        stopped = sla_sweep.sweep(now=later)
        assert stopped.more and stopped.state_changes == 1
        drained = sla_sweep.sweep_through(now=later)
        assert not drained.more and drained.state_changes == 2
        assert {db.session.get(Ticket, i).sla_state for i in ids} == {"breached"}
