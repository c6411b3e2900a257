"""A PSA ticket's actions, added to the desk's thread once each.

An action with words becomes a reply through ``services.replies.add_reply``: public when the
PSA shows it to the end user, an internal note when it is hidden (so it never reaches a
subscriber: the desk's own rules keep notes from them), with its time as a time entry of the
reply. An action with time and no words is a time entry alone. Actions with neither add
nothing; nor do the PSA's own records of what happened (``RemoteAction.system``: HaloPSA logs
a status change as an action, "Status changed from X to Y"): the ticket's fields carry the
change, and the timeline says it once.

Once each. Every action added leaves a link (kind ``reply`` or ``time_entry``) written in the
same commit as the row, and an action already linked is skipped, so a redelivered webhook or
an overlapping page adds nothing twice. The echoes of our own writes are skipped too: an
action linked by the outbox when it sent it, or one carrying the marker of one of our writes.

An action from before the desk was connected is history: added without telling anyone
(``notifications.held_back``), as is a ticket opened then (``services.psa_pull_apply``).
"""

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PsaWrite, Reply, TimeEntry
from helpdesk.models.time_entry import MAX_MINUTES
from helpdesk.models.timestamps import utcnow
from helpdesk.psa.note_text import note_text
from helpdesk.services import audit, notifications
from helpdesk.services.psa_linking import (
    FROM_PSA,
    is_history,
    linked_external_ids,
    linked_on_commit,
)
from helpdesk.services.psa_people import author_of
from helpdesk.services.replies import MAX_BODY_LENGTH, add_reply
from helpdesk.services.tickets import mark_activity

ACTION_LINK_KINDS = ("reply", "time_entry")


def _our_markers(ticket, markers):
    """Of ``markers``, those of writes we sent for ``ticket``."""
    markers = [m for m in markers if m]
    if not markers:
        return set()
    return set(db.session.scalars(select(PsaWrite.marker).where(
        PsaWrite.ticket_id == ticket.id, PsaWrite.marker.in_(markers))))


def new_actions(connection, ticket, actions):
    """The actions not on the desk yet: a person's (not the system's), not linked, and not
    echoes of our writes."""
    actions = [a for a in actions if not a.system]
    linked = linked_external_ids(connection.id, ACTION_LINK_KINDS,
                                 [a.external_id for a in actions])
    ours = _our_markers(ticket, [a.marker for a in actions])
    return [a for a in actions
            if str(a.external_id) not in linked and not (a.marker and a.marker in ours)]


def add_actions(connection, ticket, actions, *, notes):
    """Add each new action (oldest first); returns how many were added."""
    added = 0
    fresh = new_actions(connection, ticket, actions)
    fresh.sort(key=lambda a: (a.created_at is None, a.created_at or utcnow(), str(a.external_id)))
    for action in fresh:
        if _add_action(connection, ticket, action, notes=notes):
            added += 1
    return added


def _add_action(connection, ticket, action, *, notes):
    """One action as a reply, internal note or time entry (one commit); False: nothing."""
    body = note_text(action.note_html)[:MAX_BODY_LENGTH]
    minutes = max(0, int(action.minutes or 0))
    if minutes > MAX_MINUTES:
        notes.append(f"{ticket.number}: action {action.external_id} logs {minutes} minutes; "
                     f"kept as {MAX_MINUTES}")
        minutes = MAX_MINUTES
    if not body and not minutes:
        return False
    now = utcnow()
    at = min(action.created_at or now, now)
    author = author_of(connection, action.who)
    if not body:
        _add_time_entry(connection, ticket, action, author=author, minutes=minutes, at=at)
        return True
    with linked_on_commit(connection.id, "reply", Reply, action.external_id), \
            notifications.held_back(is_history(connection, action.created_at)):
        add_reply(ticket, author=author, body=body, internal=action.internal,
                  status=None if action.internal else ticket.status,
                  minutes=minutes or None, created_at=at, **FROM_PSA)
    if at < now:  # the PSA's own time for the thread; the desk's clocks still move now
        mark_activity(ticket, at=now, public=not action.internal)
        db.session.commit()
    return True


def _add_time_entry(connection, ticket, action, *, author, minutes, at):
    """Time with no words: a time entry alone, with its link and audit entry."""
    entry = TimeEntry(ticket_id=ticket.id, user_id=author.id, minutes=minutes,
                      note="", created_at=at)
    with linked_on_commit(connection.id, "time_entry", TimeEntry, action.external_id):
        db.session.add(entry)
        db.session.flush()
        audit.record("ticket.time_entry", actor=author, ticket=ticket, field="minutes",
                     new=minutes)
        mark_activity(ticket, at=utcnow(), public=False)
        db.session.commit()
