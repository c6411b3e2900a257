"""The SLA sweep, every minute (``jobs/sla.py``): states, escalations and auto-close.

It reads only the tickets whose ``sla_next_check_at`` has come (a partial index holds just the
live tickets' next checks), so its cost follows the tickets near a threshold, not the tickets
there are. For each one it evaluates the clock (``clock.evaluate``) and claims the change with
one compare-and-set ``UPDATE`` (the state, escalation level and next check it read): when two
sweeps run at once, or a job is delivered twice, only one claim succeeds, and only the winner
writes the timeline events, audit entries and notices. The changed tickets commit in groups
(``COMMIT_EVERY``): a claim that loses writes nothing, so it needs no rollback, and a failure
part-way loses only the uncommitted group's claims, which the next sweep makes again (every
step is keyed: a notice or event twice is impossible). One commit per ticket cost a disk flush
each, half of an hour's backlog's time.

Claims and quiet rows are SQL on the table, past the ORM's flush and so past the ticket
tallies (``models.ticket_tally`` refuses such an UPDATE through the ORM, as it sets the due
times, which the report rollups count). Nothing written here counts there: the sweep looks
only at running clocks, and a due time counts only once its clock has stopped (the first
response's due time, kept as it was once the response is made, is written back unchanged).

Auto-close (``auto_close_days`` in the SLA settings; off by default): resolved tickets whose
resolution is that old close, with a status event by the system. A subscriber reply reopens a
ticket, so a resolved ticket has had none since it was resolved.
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select, update

from helpdesk.extensions import db
from helpdesk.models import UNRESOLVED_STATUSES, Ticket
from helpdesk.models.timestamps import utcnow
from helpdesk.sla import clock
from helpdesk.sla import policy as policies
from helpdesk.sla.escalation import announce, escalate, recipients

BATCH = 500  # tickets read per sweep; the rest are due still and wait for the next run
# Tickets changed per sweep (states, escalations, notices: a few milliseconds each): a run
# stays under a second however large a backlog (a worker down for an hour), and says
# ``more`` so the job runs again at once (jobs/sla.py) until the backlog is gone.
CHANGES_PER_RUN = 50
# ...and no more changes once a run has taken this long (a ticket crossing every threshold
# at once, with its notices, tallies and priority, takes tens of milliseconds).
RUN_SECONDS = 0.6
COMMIT_EVERY = 50  # changed tickets per commit


@dataclass
class SweepResult:
    """What one sweep did."""

    checked: int = 0
    state_changes: int = 0
    escalations: int = 0
    closed: int = 0
    more: bool = False  # tickets left due: run again now


def sweep(*, now=None, limit=BATCH):
    """Check the tickets whose time has come, then auto-close; returns a ``SweepResult``."""
    now = now or utcnow()
    policy = policies.load()
    result = SweepResult()
    due = db.session.scalars(
        select(Ticket).where(Ticket.sla_next_check_at <= now, Ticket.deleted_at.is_(None))
        .order_by(Ticket.sla_next_check_at).limit(limit)).all()
    quiet, changed, tried, started = [], 0, 0, time.monotonic()
    for ticket in due:
        reading = _quiet_reading(ticket, now=now, policy=policy)
        if reading is None and tried and (changed >= CHANGES_PER_RUN
                                          or time.monotonic() - started > RUN_SECONDS):
            result.more = True  # this one and the rest stay due for the next run
            continue
        result.checked += 1
        if reading is None:
            tried += 1  # every run changes one ticket at least, however slow the machine
            changed += _check(ticket, now=now, policy=policy, result=result, commit=False)
            if changed and changed % COMMIT_EVERY == 0:
                db.session.commit()
        else:
            quiet.append(_quiet_row(ticket, reading))
    db.session.commit()
    _recheck_later(quiet, now=now)
    result.more = result.more or len(due) == limit
    if policy.auto_close_days:
        result.closed = auto_close(now=now, days=policy.auto_close_days, limit=limit)
    return result


def sweep_through(*, now=None, runs=100):
    """Sweep until nothing due is left (at most ``runs`` runs): for one-off callers (the
    demo's seeding) that need the whole backlog done whatever the machine's speed, where the
    job instead runs again at once. Returns the runs' results added up."""
    total = SweepResult()
    for _ in range(runs):
        result = sweep(now=now)
        for name in ("checked", "state_changes", "escalations", "closed"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        total.more = result.more
        if not result.more:
            break
    return total


def _quiet_reading(ticket, *, now, policy):
    """The ticket's reading when nothing happens to it now that anyone is told of (no new
    escalation level, no new at-risk or breached state: only its next check, its due times
    and perhaps a state nobody hears of move), else None."""
    old_level = ticket.sla_escalation_level or 0
    reading = clock.evaluate(ticket, at=now, policy=policy, escalated=old_level)
    reached = min(reading.levels_reached, len(policy.levels))
    if reached > old_level:
        return None
    if reading.state != ticket.sla_state and reading.state in clock.NEWS_STATES:
        return None
    return reading


def _quiet_row(ticket, reading):
    return {"b_id": ticket.id, "b_state": ticket.sla_state, "b_new_state": reading.state,
            "b_level": ticket.sla_escalation_level,
            "b_next": reading.next_check_at, "b_due": reading.due_at,
            "b_first": reading.first_response_due_at, "b_resolution": reading.resolution_due_at}


def _recheck_later(rows, *, now):
    """Move the quiet tickets' next checks (and due times) in one statement and one commit,
    each row only if no other sweep changed it meanwhile (the same compare as a claim): a
    minute with hundreds of tickets to look at and nothing to say costs one round trip."""
    if not rows:
        return
    table = Ticket.__table__
    db.session.execute(
        update(table).where(
            table.c.id == bindparam("b_id"), table.c.sla_next_check_at <= now,
            table.c.sla_escalation_level == bindparam("b_level"),
            table.c.sla_state.is_not_distinct_from(bindparam("b_state")),
        ).values(sla_state=bindparam("b_new_state"),
                 sla_next_check_at=bindparam("b_next"), sla_due_at=bindparam("b_due"),
                 first_response_due_at=bindparam("b_first"),
                 resolution_due_at=bindparam("b_resolution")),
        rows)
    db.session.commit()


def _check(ticket, *, now, policy, result, commit=True):
    """Evaluate one ticket and, if this sweep wins the claim, record what changed (committed
    unless ``commit`` is False: the sweep commits in groups). Returns 1 if it won, else 0."""
    old_state, old_level = ticket.sla_state, ticket.sla_escalation_level or 0
    reached = clock.evaluate(ticket, at=now, policy=policy).levels_reached
    new_level = max(old_level, min(reached, len(policy.levels)))
    reading = clock.evaluate(ticket, at=now, policy=policy, escalated=new_level)
    table = Ticket.__table__  # SQL on the table, past the tallies: see the module docstring
    claimed = db.session.execute(
        update(table).where(
            table.c.id == ticket.id, table.c.sla_next_check_at <= now,
            table.c.sla_escalation_level == old_level,
            table.c.sla_state.is_not_distinct_from(old_state),
        ).values(sla_state=reading.state, sla_escalation_level=new_level,
                 sla_next_check_at=reading.next_check_at, sla_due_at=reading.due_at,
                 first_response_due_at=reading.first_response_due_at,
                 resolution_due_at=reading.resolution_due_at)
    ).rowcount
    if claimed != 1:  # another sweep has it; nothing was written
        return 0
    db.session.refresh(ticket)  # the row holds the claim; the object learns it from there
    notices = []  # (event, people): one message for them all (escalation.announce)
    if reading.state != old_state and reading.state in clock.NEWS_STATES:
        clock.record_state(ticket, old=old_state, new=reading.state, actor=None, at=now)
        notices.append((reading.state, recipients(
            ticket, {"assignee", *(n for level in policy.levels for n in level.notify)})))
        result.state_changes += 1
    priority = ticket.priority
    for number in range(old_level + 1, new_level + 1):
        level = policy.levels[number - 1]
        told = recipients(ticket, level.notify)
        escalate(ticket, level, number=number, reading=reading, at=now, told=told)
        notices.append((f"escalation-{number}", told))
        result.escalations += 1
    announce(ticket, [(event, people) for event, people in notices if people],
             clock=reading.clock)
    if ticket.priority != priority:  # new targets: the clock again, from this instant
        clock.refresh(ticket, at=now, policy=policy)
    if commit:
        db.session.commit()
    return 1


def recompute(*, after_id=0, limit=BATCH, now=None):
    """Recompute the clocks of up to ``limit`` live tickets after id ``after_id``, in id order,
    under the current settings (after an admin changes them; for tickets from before the
    clocks, which count from their opening). Returns the last id done, or None at the end.
    Idempotent: a recomputation writes what the settings say, however often it runs."""
    now = now or utcnow()
    policy = policies.load()
    batch = db.session.scalars(
        select(Ticket).where(Ticket.id > after_id, Ticket.status.in_(UNRESOLVED_STATUSES),
                             Ticket.deleted_at.is_(None))
        .order_by(Ticket.id).limit(limit)).all()
    for ticket in batch:
        clock.refresh(ticket, at=now, policy=policy)
    db.session.commit()
    return batch[-1].id if len(batch) == limit else None


def auto_close(*, now, days, limit=BATCH):
    """Close resolved tickets resolved at least ``days`` days before ``now``; each closing is
    a status event by the system. Returns how many closed."""
    from helpdesk.services.tickets import apply_status

    cutoff = now - timedelta(days=days)
    query = (select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_at <= cutoff,
                                  Ticket.deleted_at.is_(None))
             .order_by(Ticket.resolved_at).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        # A sweep running beside this one skips the rows this one holds; after its commit
        # they are closed, no longer resolved, and a second look finds nothing.
        query = query.with_for_update(skip_locked=True, of=Ticket)
    closed = 0
    for ticket in db.session.scalars(query).all():
        if apply_status(ticket, "closed", actor=None, at=now):
            closed += 1
    db.session.commit()
    return closed
