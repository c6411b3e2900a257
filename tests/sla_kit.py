"""What the SLA tests share: London times (the default calendar's zone), tickets opened at a
given moment, and the timeline events and audit entries they got."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import (
    AuditEntry,
    Category,
    SlaSettings,
    TicketEvent,
    User,
)
from helpdesk.services import tickets
from helpdesk.sla.policy import DEFAULT_HOURS, DEFAULT_LEVELS

LONDON = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)


def london(*args):
    """A London wall-clock time as UTC. March 2026: Monday 2nd to Friday 6th."""
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


def users(*keys, world):
    return [db.session.get(User, world.users[key]) for key in keys]


def open_at(world, at, *, priority="normal", subscriber="alice"):
    (person,) = users(subscriber, world=world)
    category = db.session.scalars(select(Category).order_by(Category.position)).first()
    return tickets.open_ticket(subscriber=person, subject=f"SLA {priority} {at:%H%M}",
                               body="b", category=category, priority=priority, created_at=at)


def events(ticket, kind):
    return db.session.scalars(select(TicketEvent.new_value).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)
        .order_by(TicketEvent.id)).all()


def audits(ticket, action):
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.ticket_id == ticket.id, AuditEntry.action == action))


def settings(**changes):
    row = SlaSettings(id=1, time_zone="Europe/London", hours=json.dumps(DEFAULT_HOURS),
                      holidays="", at_risk_percent=80,
                      escalation_levels=json.dumps(list(DEFAULT_LEVELS)), auto_close_days=None)
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.merge(row)
    db.session.commit()
