"""What a queue row shows, read as plain rows of ``row_columns``: the queue's page (joined
to its ids in one statement), its changes poll and a row drawn alone (a row refresh, an
inline control's answer, both through ``queue_rows``).

A row is one SQL row of the ticket's own columns and the four names it shows (subscriber,
reseller, category, assignee), joined in the same statement: no ORM objects, no identity map,
no lazy loads to guard against. Building fifty tickets and their related users as ORM
objects cost more than the rest of the queue page together (docs/benchmarks.md). The row
carries what ``access.may`` reads (the scope columns, ``deleted_at`` and ``status``), so the
template asks ``may`` of a row as of a ticket.

A row's HTML depends on its values and on what is the same for the whole page (the links'
prefixes, whether the user may edit, the viewer's time zone), nothing else: ``drawn_rows``
keeps the last few thousand rows drawn, keyed by exactly those, so the rows a page shows
again (the next visit, another agent's queue in the same sort) are not drawn again, and a
ticket that changed is a new key. (A row also carries the page's order values it lacks, so
each sort, and the live poll's rows, are kept apart.) Drawing fifty rows was a third of the
queue page's time.

The time zone is part of the key rather than left for the browser to apply: the row says
its time in the viewer's zone as sent (right on first paint, and without JavaScript), a
zone costs one more copy of the rows only for viewers in it (a desk has a few zones, not
fifty), and a kept row is still one dictionary look-up. ``ZoneInfo`` gives one object per
name, so the key hashes it by identity.
"""

from functools import lru_cache

from flask import abort, current_app
from markupsafe import Markup
from sqlalchemy import inspect, select
from sqlalchemy.orm import aliased

from helpdesk.access import ticket_scope
from helpdesk.keyset import load_in_order
from helpdesk.models import Category, Reseller, Ticket, User

_subscriber = aliased(User, name="row_subscriber")
_assignee = aliased(User, name="row_assignee")


def row_columns(scope):
    """``select`` of the row columns of the tickets in ``scope`` (``access.ticket_scope``; a
    queue page passes the one its ids are read with, and reads them with its ids:
    ``keyset.read_page(rows=...)``)."""
    return _row_columns().where(scope)


def prepare():
    """Build the shared statement before any request: its lazily made parts (the aliases'
    and the statement's column collections) must exist before threads share them, or two
    first requests at once can race and one keep a statement with the wrong FROM (a race
    SQLAlchemy's own join loader guards against the same way)."""
    columns = _row_columns()
    for alias in (_subscriber, _assignee):
        inspect(alias).selectable.c  # noqa: B018 - made now, on one thread
    columns.selected_columns  # noqa: B018
    columns.compile()


@lru_cache(maxsize=1)
def _row_columns():
    """The row's columns and joins, built once (a statement is immutable; building its four
    joins on every request cost more than running it)."""
    return (
        select(
            Ticket.id, Ticket.subject, Ticket.status, Ticket.priority, Ticket.updated_at,
            Ticket.deleted_at, Ticket.subscriber_id, Ticket.organisation_id,
            Ticket.reseller_id, Ticket.sla_state, Ticket.sla_due_at,
            _subscriber.name.label("subscriber_name"),
            Reseller.name.label("reseller_name"),
            Category.name.label("category_name"),
            _assignee.name.label("assignee_name"),
        )
        .join(_subscriber, _subscriber.id == Ticket.subscriber_id)
        .outerjoin(Reseller, Reseller.id == Ticket.reseller_id)
        .outerjoin(Category, Category.id == Ticket.category_id)
        .outerjoin(_assignee, _assignee.id == Ticket.assignee_id)
    )


def queue_rows(user, ids, *conditions):
    """The rows of the tickets ``ids`` that ``user`` may see (and that meet ``conditions``),
    in the order of ``ids``: the second query of a page, joining only the rows shown."""
    return load_in_order(row_columns(ticket_scope(user)).where(*conditions), ids,
                         plain=True)


def queue_row(user, ticket_id):
    """One ticket's row, or 404 when ``user`` may not see it."""
    rows = queue_rows(user, [ticket_id])
    if not rows:
        abort(404)
    return rows[0]


ROW_TEMPLATE = "desk/_ticket_row.html"
ROWS_KEPT = 5000  # per process: a few queues' worth, about 3 MB


def drawn_rows(rows, *page_settings):
    """The HTML of the queue rows ``rows`` (the ``ticket_row`` macro), each drawn once.

    Kept by the row's values as a plain tuple (rows of ``row_columns``: the same columns),
    whose hashing and comparison are C's; when ``ROWS_KEPT`` are kept, they start over."""
    macro = current_app.jinja_env.get_template(ROW_TEMPLATE).module.ticket_row
    drawn = []
    for row in rows:
        key = (macro, tuple(row), page_settings)
        html = _kept.get(key)
        if html is None:
            html = macro(row, *page_settings)
            if len(_kept) >= ROWS_KEPT:
                _kept.clear()
            _kept[key] = html
        drawn.append(html)
    return Markup("").join(drawn)


_kept = {}  # (macro, row values, page settings) -> the row's HTML
