"""A ticket's timeline as a customer reads it: public replies and public events, in order."""

from collections import namedtuple

from helpdesk.access import visible_events, visible_replies
from helpdesk.extensions import db

TimelineEntry = namedtuple("TimelineEntry", "kind at item")


def customer_timeline(user, ticket):
    """Replies and events ``user`` may read, merged oldest first (two queries, any length).

    A reply and the status change it caused share a timestamp; the reply comes first.
    """
    replies = db.session.scalars(visible_replies(user, ticket)).all()
    events = db.session.scalars(visible_events(user, ticket)).all()
    entries = [TimelineEntry("reply", reply.created_at, reply) for reply in replies]
    entries += [TimelineEntry("event", event.created_at, event) for event in events]
    return sorted(entries, key=lambda e: (e.at, e.kind == "event", e.item.id))
