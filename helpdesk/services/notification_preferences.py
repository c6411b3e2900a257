"""Which channels (mail, in the app) each person keeps on for each notification event.

Every channel is on unless the person turned it off on their profile; only choices that
differ from that default are stored (``NotificationPreference``), so a new user needs no rows
and the preference check is one primary-key read.
"""

from dataclasses import dataclass

from helpdesk.extensions import db
from helpdesk.models import NotificationPreference
from helpdesk.services import audit

# The events, in the order the profile lists them, with what the person is told of.
EVENT_LABELS = {
    "ticket_created": "We received your ticket",
    "public_reply": "Support replied on your ticket",
    "customer_reply": "A customer replied on a ticket you work",
    "assigned": "A ticket was assigned or handed to you",
    "sla_at_risk": "A ticket's SLA is at risk",
    "sla_breached": "A ticket's SLA was breached",
}
EVENTS = tuple(EVENT_LABELS)
CUSTOMER_EVENTS = ("ticket_created", "public_reply")
STAFF_EVENTS = ("customer_reply", "assigned", "sla_at_risk", "sla_breached")
CHANNELS = ("email", "in_app")


@dataclass(frozen=True)
class Channels:
    """One person's channels for one event."""

    email: bool = True
    in_app: bool = True


def events_for(user):
    """The events ``user`` can be told of, by role: customers hear of their own tickets,
    staff and resellers of the tickets they work."""
    return CUSTOMER_EVENTS if user.is_customer else STAFF_EVENTS


def channels_for(user, event):
    """``user``'s channels for ``event``: both on unless they said otherwise."""
    chosen = db.session.get(NotificationPreference, (user.id, event))
    if chosen is None:
        return Channels()
    return Channels(email=chosen.email, in_app=chosen.in_app)


def choices_for(user):
    """The profile's table: ``(event, label, Channels)`` for each event of ``user``'s role."""
    return [(event, EVENT_LABELS[event], channels_for(user, event)) for event in events_for(user)]


def set_channels(user, chosen, *, actor):
    """Keep on the channels in ``chosen`` (``{event: Channels}``; an event of the role left
    out has both off) and turn off the rest; each event changed is audited. Returns the
    events changed."""
    changed = []
    for event in events_for(user):
        new = chosen.get(event, Channels(email=False, in_app=False))
        old = channels_for(user, event)
        if new == old:
            continue
        row = db.session.get(NotificationPreference, (user.id, event))
        if new == Channels():
            db.session.delete(row)
        elif row is None:
            db.session.add(NotificationPreference(user_id=user.id, event=event,
                                                  email=new.email, in_app=new.in_app))
        else:
            row.email, row.in_app = new.email, new.in_app
        audit.record("user.notification_channels", actor=actor, subject_user=user, field=event,
                     old=_described(old), new=_described(new))
        changed.append(event)
    db.session.commit()
    return changed


def _described(channels):
    """Channels in words for the audit log: ``email and in app``, ``none``."""
    on = [name for name, kept in (("email", channels.email), ("in app", channels.in_app)) if kept]
    return " and ".join(on) or "none"
