"""The bell: a person's in-app notifications (``InAppNotification``), counted, listed and
marked read.

Every query joins the ticket through ``access.ticket_scope``, so a ticket the person may no
longer see (moved, deleted, a permission taken away) is neither listed nor counted. The
count reads the person's unread rows from a partial index (``read_at IS NULL``) and their
tickets by primary key: one statement, cheap enough to poll.
"""

from sqlalchemy import func, select, update

from helpdesk.access import ticket_scope
from helpdesk.extensions import db
from helpdesk.models import InAppNotification, Ticket
from helpdesk.models.timestamps import utcnow

PER_PAGE = 30
# What each kind says in the list, after the ticket's number.
KIND_LABELS = {
    "ticket_created": "We received your ticket",
    "public_reply": "Support replied",
    "customer_reply": "The customer replied",
    "assigned": "Assigned to you",
    "sla_at_risk": "SLA at risk",
    "sla_breached": "SLA breached",
}


def _mine(user):
    """``select(InAppNotification)`` of ``user``'s rows on tickets they may see."""
    return (select(InAppNotification)
            .join(Ticket, Ticket.id == InAppNotification.ticket_id)
            .where(InAppNotification.user_id == user.id, ticket_scope(user)))


def unread_count(user):
    """How many of ``user``'s notifications are unread."""
    query = _mine(user).where(InAppNotification.read_at.is_(None))
    return db.session.scalar(query.with_only_columns(func.count()))


def page(user, *, before=None, per_page=PER_PAGE):
    """``user``'s notifications, newest first, ``per_page`` of them older than the id
    ``before``; and the id to ask for the next page with (None on the last)."""
    query = _mine(user).order_by(InAppNotification.id.desc()).limit(per_page + 1)
    if before is not None:
        query = query.where(InAppNotification.id < before)
    rows = db.session.scalars(query).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (rows[-1].id if more else None)


def find(user, notification_id):
    """One of ``user``'s notifications on a ticket they may see, or None."""
    return db.session.scalar(_mine(user).where(InAppNotification.id == notification_id))


def mark_read(user, notification_id):
    """Mark one of ``user``'s notifications read; False when they have none by that id."""
    marked = db.session.execute(
        update(InAppNotification)
        .where(InAppNotification.id == notification_id, InAppNotification.user_id == user.id)
        .values(read_at=func.coalesce(InAppNotification.read_at, utcnow()))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return marked == 1


def mark_all_read(user):
    """Mark every unread notification of ``user`` read; returns how many."""
    marked = db.session.execute(
        update(InAppNotification)
        .where(InAppNotification.user_id == user.id, InAppNotification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return marked


def mark_ticket_read(user, ticket_id):
    """``user`` opened the ticket: what the bell said about it is read. One statement on the
    unread partial index (usually matching nothing), committed; returns how many."""
    marked = db.session.execute(
        update(InAppNotification)
        .where(InAppNotification.user_id == user.id, InAppNotification.read_at.is_(None),
               InAppNotification.ticket_id == ticket_id)
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked:
        db.session.commit()
    return marked
