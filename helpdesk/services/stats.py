"""The numbers of ``GET /api/v1/stats``: tickets by status, mean first response and
resolution, and the backlog by priority and by category, in the viewer's scope.

Staff and resellers: the queue's counters (``desk.counters.queue_counters``), read from the
tallies every ticket change keeps in step: two small queries however many tickets there are.
Customers' scopes (their own tickets, or their organisation's) are not tallied; they are a
few hundred tickets at most, read from the index of their scope column in two grouped
queries, and counted by the statuses customers read.
"""

from datetime import timedelta

from sqlalchemy import func, literal_column, select

from helpdesk.access import ticket_scope
from helpdesk.desk.counters import AVERAGE_DAYS, queue_counters
from helpdesk.extensions import db
from helpdesk.models import Category, Ticket
from helpdesk.models.ticket import UNRESOLVED_STATUSES, customer_status
from helpdesk.models.timestamps import utcnow
from helpdesk.services.reports import mean_hours
from helpdesk.services.tallies import seconds_after_opening


def stats_for(user):
    """The numbers of ``user``'s scope as the API answers them."""
    if user.is_customer:
        return _customer_stats(user)
    counters = queue_counters(user)
    return {
        "by_status": counters["by_status"],
        "unresolved": counters["unresolved"],
        "first_response_hours": counters["first_response_hours"],
        "resolution_hours": counters["resolution_hours"],
        "average_days": AVERAGE_DAYS,
        "backlog_by_priority": counters["backlog_by_priority"],
        "backlog_by_category": [{"id": id_, "name": name, "tickets": count}
                                for id_, name, count in counters["backlog_by_category"]],
    }


def _customer_stats(user):
    """A customer's numbers, counted from their scope's tickets."""
    scope = ticket_scope(user)
    rows = db.session.execute(
        select(Ticket.status, Ticket.priority, Ticket.category_id, Category.name,
               func.count())
        .join(Category, Category.id == Ticket.category_id).where(scope)
        .group_by(Ticket.status, Ticket.priority, Ticket.category_id, Category.name)).all()
    by_status, priorities, categories = {}, {}, {}
    for status, priority, category_id, name, count in rows:
        shown = customer_status(status).key
        by_status[shown] = by_status.get(shown, 0) + count
        if status in UNRESOLVED_STATUSES:
            priorities[priority] = priorities.get(priority, 0) + count
            categories[(category_id, name)] = categories.get((category_id, name), 0) + count
    dialect = db.session.get_bind().dialect.name
    since = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=AVERAGE_DAYS - 1)
    responded, response_seconds, resolved, resolution_seconds = db.session.execute(
        select(func.count(Ticket.first_response_at),
               func.sum(_seconds(dialect, "first_response_at")),
               func.count(Ticket.resolved_at), func.sum(_seconds(dialect, "resolved_at")))
        .where(scope, Ticket.created_at >= since)).one()
    return {
        "by_status": by_status,
        "unresolved": sum(priorities.values()),
        "first_response_hours": mean_hours(response_seconds or 0, responded),
        "resolution_hours": mean_hours(resolution_seconds or 0, resolved),
        "average_days": AVERAGE_DAYS,
        "backlog_by_priority": priorities,
        "backlog_by_category": [
            {"id": id_, "name": name, "tickets": count}
            for (id_, name), count in sorted(categories.items(),
                                             key=lambda item: (-item[1], item[0][1]))],
    }


def _seconds(dialect, column):
    """Whole seconds from opening to ``column``, as the tallies count them."""
    return literal_column(seconds_after_opening(dialect, f"tickets.{column}"))
