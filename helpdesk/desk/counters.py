"""The queue's scoped counters: tickets by state, response and resolution times, backlog."""

from datetime import timedelta

from sqlalchemy import func, select

from helpdesk.access import ticket_scope
from helpdesk.extensions import db
from helpdesk.models import Category, Ticket
from helpdesk.models.ticket import UNRESOLVED_STATUSES
from helpdesk.models.timestamps import utcnow

WAITING = ("waiting_on_customer", "waiting_on_vendor", "on_hold")
AVERAGE_WINDOW = timedelta(days=30)


def _seconds_between(start, end):
    """``end - start`` in seconds, in the database's own arithmetic."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400


def queue_counters(user):
    """Counts for the user's scope: two grouped queries, however many tickets."""
    scope = ticket_scope(user)
    rows = db.session.execute(
        select(Ticket.status, Ticket.priority, Ticket.category_id, func.count())
        .where(scope).group_by(Ticket.status, Ticket.priority, Ticket.category_id)
    ).all()
    by_status, backlog_priority, backlog_category = {}, {}, {}
    for status, priority, category_id, count in rows:
        by_status[status] = by_status.get(status, 0) + count
        if status in UNRESOLVED_STATUSES:
            backlog_priority[priority] = backlog_priority.get(priority, 0) + count
            backlog_category[category_id] = backlog_category.get(category_id, 0) + count
    since = utcnow() - AVERAGE_WINDOW
    first_response, resolution = db.session.execute(
        select(func.avg(_seconds_between(Ticket.created_at, Ticket.first_response_at)),
               func.avg(_seconds_between(Ticket.created_at, Ticket.resolved_at)))
        .where(scope, Ticket.created_at >= since)
    ).one()
    names = dict(db.session.execute(select(Category.id, Category.name)).all())
    return {
        "open": by_status.get("open", 0) + by_status.get("in_progress", 0),
        "waiting": sum(by_status.get(s, 0) for s in WAITING),
        "resolved": by_status.get("resolved", 0),
        "closed": by_status.get("closed", 0),
        "first_response_hours": _hours(first_response),
        "resolution_hours": _hours(resolution),
        "backlog_by_priority": backlog_priority,
        "backlog_by_category": sorted(
            ((names.get(cid, "?"), count) for cid, count in backlog_category.items()),
            key=lambda pair: -pair[1]),
    }


def _hours(seconds):
    return None if seconds is None else round(float(seconds) / 3600, 1)
