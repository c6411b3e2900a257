"""A ticket's timeline as one viewer may see it: replies, events and time entries in order.

Customers get public replies and public events only; staff and resellers get everything,
internal notes and time entries included. Three queries, whatever the thread's length.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from helpdesk.access import (
    sees_internal_notes,
    visible_attachments,
    visible_events,
    visible_replies,
)
from helpdesk.extensions import db
from helpdesk.models import TimeEntry
from helpdesk.models.ticket import customer_status


@dataclass(frozen=True)
class TimelineItem:
    """One line of the timeline: a ``reply`` or an ``event``, with its time entries."""

    kind: str
    at: datetime
    item: object
    time_entries: tuple = ()


def timeline_for(viewer, ticket):
    """The items of ``ticket``'s timeline that ``viewer`` may see, oldest first."""
    insider = sees_internal_notes(viewer)
    replies = db.session.scalars(visible_replies(viewer, ticket)).all()
    events = visible_events(viewer, ticket)
    entries_by_reply = {}
    if insider:
        for entry in db.session.scalars(
                select(TimeEntry).where(TimeEntry.ticket_id == ticket.id)):
            entries_by_reply.setdefault(entry.reply_id, []).append(entry)
    items = [TimelineItem("reply", r.created_at, r, tuple(entries_by_reply.get(r.id, ())))
             for r in replies]
    items += [TimelineItem("event", e.created_at, e) for e in db.session.scalars(events)]
    # A reply and the status change it caused share a timestamp: the reply comes first.
    return sorted(items, key=lambda i: (i.at, i.kind == "event", i.item.id))


def minutes_logged(items):
    """Total minutes of the time entries in a timeline."""
    return sum(entry.minutes for item in items for entry in item.time_entries)


def attachments_by_reply(viewer, ticket):
    """The files of a thread ``viewer`` may see, by reply id (None: the opening message)."""
    from helpdesk.services.attachments import thread_attachments

    return thread_attachments(db.session.scalars(visible_attachments(viewer, ticket)).all())


def ticket_version(ticket):
    """Changes whenever a service touches the ticket (each sets ``updated_at``): what the
    desk's live polling compares to decide whether a viewer's copy is current."""
    return _version(ticket.updated_at, ticket.status)


def customer_ticket_version(ticket):
    """The portal's version: changes only with public activity (``public_updated_at``) and the
    status as a customer reads it, so internal work (``on_hold`` after ``in_progress`` too)
    never wakes a customer's page nor hints that something happened."""
    return _version(ticket.public_updated_at, customer_status(ticket.status).key)


def _version(moment, status):
    return f"{int(moment.timestamp() * 1_000_000)}-{status}"
