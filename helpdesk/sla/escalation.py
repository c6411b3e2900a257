"""Escalation: what each level does when a ticket's running clock reaches its share, and the
one place SLA notices go out (``notify``, ``announce``).

A level notifies the assignee, the team and/or the admins, and may raise the priority one step
and reassign the ticket. The sweep (``helpdesk.sla.sweep``) calls ``escalate`` once per level
and ticket clock, after claiming the level with a compare-and-set, so a level runs once even
when two sweeps run at once. Each step is a timeline event (kind ``escalation``) and an audit
entry, by the system (no actor). What one check found (a new state, the levels crossed) goes
out as one notice (``announce``).
"""

from flask import g
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, User
from helpdesk.services import audit
from helpdesk.services.errors import TicketError

CLOCK_WORDS = {"first_response": "first-response", "resolution": "resolution"}


def _admin_ids():
    """The active admins' ids, read once per app context (a sweep asks for every ticket)."""
    if "sla_admin_ids" not in g:
        g.sla_admin_ids = db.session.scalars(select(User.id).where(
            User.role == "admin", User.disabled_at.is_(None)).order_by(User.name)).all()
    return g.sla_admin_ids


def recipients(ticket, notify):
    """The people a level's ``notify`` list names for ``ticket``, each once, in order."""
    people = []
    if "assignee" in notify and ticket.assignee is not None:
        people.append(ticket.assignee)
    if "team" in notify and ticket.team is not None:
        people += [member for member in ticket.team.members if member.is_active]
    if "admins" in notify:
        people += [db.session.get(User, user_id) for user_id in _admin_ids()]
    seen, unique = set(), []
    for person in people:
        if person.id not in seen:
            seen.add(person.id)
            unique.append(person)
    return unique


def notify(ticket, *, event, recipients, key):
    """Tell ``recipients`` about ``ticket``'s SLA ``event`` (``at_risk``, ``breached``,
    ``escalation-2``...) by mail and in the app, as each chose (``services.notifications``);
    ``key`` is unique per ticket, clock and event, so a notice goes out once however often
    the sweep runs. An escalation reads as "at risk" until the target has passed. Audited."""
    from helpdesk.services import notifications

    if not recipients:
        return recipients
    breached = event == "breached" or ticket.sla_state == "breached"
    what = "at risk" if event == "at_risk" else event.replace("-", " level ")
    note = f"SLA {what}"  # no time here: the note is one text for every recipient's zone
    notifications.notify("sla_breached" if breached else "sla_at_risk", ticket, recipients,
                         key=key, note=note)
    audit.record("sla.notify", actor=None, ticket=ticket, field=event,
                 new=", ".join(person.name for person in recipients))
    return recipients


def escalate(ticket, level, *, number, reading, at, told):
    """Run escalation ``level`` (the ``number``-th, from 1) on ``ticket`` (no commit): raise
    the priority, reassign; one timeline event saying what was done. ``told``: the people the
    caller's notice for this check reaches for this level (``announce``), named in the event."""
    from helpdesk.services.tickets import add_event, apply_assignee, assignable_users

    done = []
    if told:
        done.append("notified " + ", ".join(person.name for person in told))
    if level.raise_priority and ticket.priority != PRIORITIES[-1]:
        old = ticket.priority
        ticket.priority = PRIORITIES[PRIORITIES.index(old) + 1]
        add_event(ticket, actor=None, kind="priority", old=old, new=ticket.priority, at=at)
        done.append(f"raised the priority to {ticket.priority}")
    if level.reassign_to is not None and level.reassign_to != ticket.assignee_id:
        person = db.session.get(User, level.reassign_to)
        if person is not None and person in assignable_users(ticket):
            try:
                apply_assignee(ticket, person, actor=None, at=at)
                done.append(f"reassigned to {person.name}")
            except TicketError:
                pass
    summary = (f"level {number} at {level.percent}% of the {CLOCK_WORDS[reading.clock]} target"
               + (": " + "; ".join(done) if done else ""))
    add_event(ticket, actor=None, kind="escalation", old=None, new=summary, at=at)
    return summary


def announce(ticket, notices, *, clock):
    """Send one notice for everything one check found (``notices``: ``(event, people)`` in
    the order they happened), to everyone any of them names. A ticket found late (a sweep
    after downtime, a ticket opened long ago) crosses several thresholds at once; its people
    get one message naming the gravest, not one per threshold. The key is that event's, so a
    notice still goes out once however often the sweep runs."""
    if not notices:
        return []
    events = [event for event, _people in notices]
    gravest = "breached" if "breached" in events else events[-1]
    people, seen = [], set()
    for _event, names in notices:
        for person in names:
            if person.id not in seen:
                seen.add(person.id)
                people.append(person)
    return notify(ticket, event=gravest, recipients=people,
                  key=f"sla-{ticket.id}-{clock}-{gravest}")
