"""A ticket's SLA clock: its due times, state and the next instant the sweep must look.

Two clocks start when a ticket opens: first response (met by the first public staff or
reseller reply) and resolution. Both count business time (``business_time``) and both pause
while the ticket waits (``waiting_on_customer``, ``waiting_on_vendor``, ``on_hold``): a pause
adds the business seconds run so far to ``sla_elapsed_seconds`` and clears
``sla_running_since``; resuming sets it to the instant the clock runs again, so the due times
are always ``add(running_since, target - elapsed)``. Resolving stops the clocks (state None);
reopening runs them on from where they stopped.

The state is that of the clock running now, first response until it is met, then
resolution: ``on_time``; ``at_risk`` from the policy's share of the target (80%); ``breached``
when due; ``paused``. ``sla_escalation_level`` counts the escalation levels done on the running
clock (first response met: back to 0 for the resolution clock).

When a clock stops (the first response is made; the ticket is resolved or closed) its due
time stays as last computed, for the reports: ``settle`` makes sure that "stopped at or
before the due time" then means "within its target". A clock that ran up to that instant
already has the right due time; a paused one still has the due time from before its pause,
which the wall clock has passed meanwhile (resolving a ticket that waited a week on the
customer), so it moves to where the time left on the clock would end. The other way round,
a clock already over its target when it resumes keeps the due time it passed, not the
instant it resumed (a reply that takes a ticket off hold must not count as on time).

``evaluate`` computes all of this without touching the ticket, so the sweep can write it with a
compare-and-set (``helpdesk.sla.sweep``); ``refresh`` writes it on the ticket for the services,
inside their transaction, with a timeline event when the state becomes at risk or breached.
"""

from dataclasses import dataclass
from datetime import datetime

from helpdesk.models.ticket import PAUSED_STATUSES, UNRESOLVED_STATUSES
from helpdesk.sla import policy as policies
from helpdesk.sla.business_time import add_business_seconds, business_seconds_between

NEWS_STATES = ("at_risk", "breached")  # a change into these is a timeline event


@dataclass(frozen=True)
class Reading:
    """What a ticket's clock says at an instant (see ``evaluate``)."""

    state: str | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    due_at: datetime | None  # the running clock's
    next_check_at: datetime | None
    clock: str | None  # "first_response" or "resolution"
    target: int  # seconds, of the running clock
    elapsed: float  # business seconds run on it
    levels_reached: int  # escalation levels whose share is reached, from the first

    @property
    def share(self):
        """How much of the running target has been used, 0 to 1 and beyond."""
        return self.elapsed / self.target if self.target else 1.0

    @property
    def left(self):
        """Business seconds left on the running clock (negative: over)."""
        return self.target - self.elapsed


def runs_in(status):
    """Does the clock run in ``status``?"""
    return status in UNRESOLVED_STATUSES and status not in PAUSED_STATUSES


def running_since(ticket):
    """When the current run of the clock began; None when it is not running. A live ticket
    from before the clocks (no ``sla_running_since``) counts from its opening."""
    if not runs_in(ticket.status):
        return None
    return ticket.sla_running_since or ticket.created_at


def evaluate(ticket, *, at, policy, escalated=None):
    """The ``Reading`` of ``ticket``'s clock at ``at`` under ``policy`` (nothing written).

    ``escalated``: the escalation levels done, if not the ticket's (the sweep's, once it has
    done those reached): the next check is the first threshold still ahead of them.
    """
    if ticket.status not in UNRESOLVED_STATUSES:
        return Reading(None, ticket.first_response_due_at, ticket.resolution_due_at, None, None,
                       None, 0, 0.0, 0)
    calendar = policy.calendar
    first_target, resolution_target = policies.targets_for(ticket, policy)
    responded = ticket.first_response_at is not None
    clock, target = (("resolution", resolution_target) if responded
                     else ("first_response", first_target))
    used = ticket.sla_elapsed_seconds or 0
    base = running_since(ticket)
    first_due, resolution_due = ticket.first_response_due_at, ticket.resolution_due_at
    elapsed = float(used)
    if base is not None:
        elapsed += business_seconds_between(calendar, base, at)

        def instant(share_of_target):
            return add_business_seconds(calendar, base, max(share_of_target - used, 0))

        def due_time(target_seconds, stored):
            # Over the target before this run began (breached, then paused): it fell due
            # before the pause, not now; keep that time, which the reports compare with.
            if used >= target_seconds and stored is not None:
                return min(stored, instant(target_seconds))
            return instant(target_seconds)

        if not responded:
            first_due = due_time(first_target, first_due)
        resolution_due = due_time(resolution_target, resolution_due)
    levels_reached = sum(1 for level in policy.levels
                         if elapsed >= target * level.percent / 100)
    if base is None:  # paused
        return Reading("paused", first_due, resolution_due, None, None, clock, target,
                       elapsed, levels_reached)
    due = resolution_due if responded else first_due
    at_risk_from = target * policy.at_risk_percent / 100
    if at >= due:
        state = "breached"
    elif elapsed >= at_risk_from:
        state = "at_risk"
    else:
        state = "on_time"
    done = ticket.sla_escalation_level or 0 if escalated is None else escalated
    pending = [instant(target * level.percent / 100) for level in policy.levels[done:]]
    if state == "on_time":
        pending.append(instant(at_risk_from))
    if state != "breached":
        pending.append(due)
    return Reading(state, first_due, resolution_due, due, min(pending, default=None), clock,
                   target, elapsed, levels_reached)


def apply(ticket, reading):
    """Write a reading's due times, state and next check on ``ticket`` (no commit)."""
    ticket.first_response_due_at = reading.first_response_due_at
    ticket.resolution_due_at = reading.resolution_due_at
    ticket.sla_due_at = reading.due_at
    ticket.sla_state = reading.state
    ticket.sla_next_check_at = reading.next_check_at


def refresh(ticket, *, at, actor=None, policy=None):
    """Recompute and store ``ticket``'s clock at ``at``; a change into at risk or breached is
    a timeline event (see ``record_state``). Returns the reading."""
    policy = policy or policies.load()
    old = ticket.sla_state
    reading = evaluate(ticket, at=at, policy=policy)
    apply(ticket, reading)
    if reading.state != old and reading.state in NEWS_STATES:
        record_state(ticket, old=old, new=reading.state, actor=actor, at=at)
    return reading


def record_state(ticket, *, old, new, actor, at):
    """The timeline event and audit entry of an SLA state change."""
    from helpdesk.services.tickets import add_event

    add_event(ticket, actor=actor, kind="sla", old=old, new=new, at=at)


def start(ticket, *, at, policy=None):
    """Start the clocks of a ticket just opened (or given a clock for the first time)."""
    ticket.sla_elapsed_seconds = 0
    ticket.sla_escalation_level = 0
    ticket.sla_running_since = at if runs_in(ticket.status) else None
    ticket.sla_paused_at = at if ticket.status in PAUSED_STATUSES else None
    return refresh(ticket, at=at, policy=policy)


def status_changed(ticket, old_status, *, at, actor=None, policy=None):
    """Pause, resume or stop the clocks for a status change from ``old_status``."""
    policy = policy or policies.load()
    was, runs = runs_in(old_status), runs_in(ticket.status)
    since = ticket.sla_running_since or (ticket.created_at if was else None)
    if was and not runs and since is not None:
        ticket.sla_elapsed_seconds = int((ticket.sla_elapsed_seconds or 0)
                                         + business_seconds_between(policy.calendar, since, at))
        ticket.sla_running_since = None
    elif runs and not was:
        ticket.sla_running_since = at
    if ticket.status in PAUSED_STATUSES:
        ticket.sla_paused_at = ticket.sla_paused_at if old_status in PAUSED_STATUSES else at
    else:
        ticket.sla_paused_at = None
    if old_status in UNRESOLVED_STATUSES and ticket.status not in UNRESOLVED_STATUSES:
        settle(ticket, "resolution", at=at, policy=policy)
    return refresh(ticket, at=at, actor=actor, policy=policy)


def first_response_met(ticket, *, at, actor=None, policy=None):
    """The first public staff or reseller reply: the resolution clock is the running one
    now, and its escalations start from the first level."""
    policy = policy or policies.load()
    ticket.sla_escalation_level = 0
    settle(ticket, "first_response", at=at, policy=policy)
    return refresh(ticket, at=at, actor=actor, policy=policy)


def settle(ticket, clock, *, at, policy):
    """The due time of ``clock`` (``first_response``, ``resolution``), stopping at ``at``,
    moved if need be so that ``at`` is at or before it exactly when the clock is within its
    target (see the module docstring). Only a due time already passed can be wrong: it moves
    to ``at`` plus the business time left, when some is. Call it once the business time run
    up to ``at`` is in ``sla_elapsed_seconds`` or still running (a pause or resolution
    changed in the same breath is)."""
    column = f"{clock}_due_at"
    due = getattr(ticket, column)
    if due is None or due >= at:
        return
    first_target, resolution_target = policies.targets_for(ticket, policy)
    target = first_target if clock == "first_response" else resolution_target
    elapsed = float(ticket.sla_elapsed_seconds or 0)
    base = running_since(ticket)
    if base is not None:
        elapsed += business_seconds_between(policy.calendar, base, at)
    if elapsed < target:
        setattr(ticket, column, add_business_seconds(policy.calendar, at, target - elapsed))
