"""The queue's scoped counters: tickets by state, response and resolution times, backlog.

Read from the tallies that every ticket change keeps in step (``helpdesk.models.ticket_tally``):
two small queries over at most a few thousand rows, however many tickets there are.

- by state (``STATES``): unresolved, open, in progress, waiting (the three waiting and
  on-hold states), resolved, closed; each is a link to the queue listing exactly the tickets
  it counts (unresolved: the queue as it opens); the backlog by priority and by category
  counts the unresolved tickets, and links to the queue filtered by that priority or
  category (live work, so the same tickets);
- the averages are over the tickets opened in the last ``AVERAGE_DAYS`` whole UTC days
  (today and the days before it): first response over those that have one, resolution over
  those resolved (a reopened ticket is not resolved), in hours to one decimal. Times are
  counted in whole seconds, which no hour figure to one decimal can show.

Deleted tickets count nowhere, and the counts follow the viewer's scope (``scope_of``): the
desk's scopes are everything or one reseller's tickets, and the tallies are kept per reseller.
"""

from datetime import timedelta

from sqlalchemy import func, select

from helpdesk.access import scope_of
from helpdesk.extensions import db
from helpdesk.models import AssigneeTally, Category, TicketDay, TicketTally
from helpdesk.models.ticket import UNRESOLVED_STATUSES
from helpdesk.models.timestamps import utcnow

WAITING = ("waiting_on_customer", "waiting_on_vendor", "on_hold")
# (key, label, the statuses its queue link asks for: None for the queue as it opens)
STATES = (
    ("unresolved", "unresolved", None),
    ("open", "open", ("open",)),
    ("in_progress", "in progress", ("in_progress",)),
    ("waiting", "waiting", WAITING),
    ("resolved", "resolved", ("resolved",)),
    ("closed", "closed", ("closed",)),
)
AVERAGE_DAYS = 30


def tallied_scope(user, model):
    """``scope_of(user)`` as a condition on a tally table (``TicketTally`` or ``TicketDay``).

    Counters are for the desk, whose scopes are everything, nothing, or one reseller's
    tickets; a customer's scope (their own or their organisation's tickets) is not tallied.
    """
    scope = scope_of(user)
    if scope.column not in (None, "reseller_id"):
        raise ValueError(f"counters are tallied per reseller, not per {scope.column}")
    return scope.condition(model)


def queue_counters(user, *, mine=False):
    """Counts for the user's scope: two queries over the tallies, however many tickets.

    ``mine``: only the tickets assigned to the user ("My tickets"), from the assignee
    tallies; the averages (the team's) are left out.
    """
    tally = AssigneeTally if mine else TicketTally
    where = [tallied_scope(user, tally)]
    if mine:
        where.append(AssigneeTally.assignee_id == user.id)
    rows = db.session.execute(
        select(tally.status, tally.priority, tally.category_id,
               Category.name, func.sum(tally.tickets))
        .outerjoin(Category, Category.id == tally.category_id)
        .where(*where)
        .group_by(tally.status, tally.priority, tally.category_id, Category.name)
    ).all()
    by_status, backlog_priority, backlog_category = {}, {}, {}
    for status, priority, category_id, category, count in rows:
        by_status[status] = by_status.get(status, 0) + count
        if status in UNRESOLVED_STATUSES and count:
            backlog_priority[priority] = backlog_priority.get(priority, 0) + count
            key = (category_id, category or "?")
            backlog_category[key] = backlog_category.get(key, 0) + count
    counts = {
        **{key: sum(by_status.get(s, 0) for s in statuses or UNRESOLVED_STATUSES)
           for key, _label, statuses in STATES},
        "by_status": by_status,  # every status's own count (the API's stats)
        "backlog_by_priority": backlog_priority,
        # (category id or None, name, count), the largest first
        "backlog_by_category": sorted(((id_, name, count) for (id_, name), count
                                       in backlog_category.items()),
                                      key=lambda row: (-row[2], row[1])),
        "average_days": AVERAGE_DAYS,
        "mine": mine,
    }
    if mine:
        return counts
    since = (utcnow() - timedelta(days=AVERAGE_DAYS - 1)).date()
    responded, response_seconds, resolved, resolution_seconds = db.session.execute(
        select(func.sum(TicketDay.responded), func.sum(TicketDay.response_seconds),
               func.sum(TicketDay.resolved), func.sum(TicketDay.resolution_seconds))
        .where(tallied_scope(user, TicketDay), TicketDay.day >= since)
    ).one()
    return counts | {
        "first_response_hours": _average_hours(response_seconds, responded),
        "resolution_hours": _average_hours(resolution_seconds, resolved),
    }


def _average_hours(seconds, tickets):
    """The mean of ``tickets`` durations summing to ``seconds``, in hours to one decimal."""
    if not tickets:
        return None
    return round(int(seconds) / int(tickets) / 3600, 1)
