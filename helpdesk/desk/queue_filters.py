"""The queue's filters, sort orders and keyset pagination, read from the query string.

Parameters (the route contract): ``status``, ``priority``, ``category`` (repeatable),
``assignee`` (``me``, ``unassigned`` or a user id), ``customer`` (a subscriber's user id),
``organisation``, ``reseller``, ``age``, ``q``, ``sort``, ``page``; plus ``after``/``before``
cursors that keep paging fast however deep it goes. Unknown values are ignored, never an
error: a bookmarked view survives a renamed category. Ids, numbers and the cursor's times are
read by ``helpdesk.params``; a cursor that does not hold the sort's types is ignored too.
"""

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_

from helpdesk.access import sees_internal_notes, ticket_scope
from helpdesk.models import PRIORITIES, STATUSES, Ticket
from helpdesk.models.timestamps import UTCDateTime, utcnow
from helpdesk.params import parse_id, parse_ids, parse_int, parse_utc
from helpdesk.search import ticket_match

SORTS = {
    # name: (label, [(column, descending), ...]) ending in a unique column for the keyset.
    "queue": ("Pressing first", [(Ticket.queue_rank, False), (Ticket.updated_at, True),
                                 (Ticket.id, True)]),
    "updated": ("Last updated", [(Ticket.updated_at, True), (Ticket.id, True)]),
    "newest": ("Newest", [(Ticket.created_at, True), (Ticket.id, True)]),
    "oldest": ("Oldest", [(Ticket.created_at, False), (Ticket.id, False)]),
}
AGES = {
    "today": ("Opened in the last 24 hours", timedelta(days=1), True),
    "week": ("Opened in the last 7 days", timedelta(days=7), True),
    "over-week": ("Older than 7 days", timedelta(days=7), False),
    "over-month": ("Older than 30 days", timedelta(days=30), False),
}
MAX_OFFSET_PAGE = 200
MAX_CURSOR_LENGTH = 512


@dataclass
class QueueFilters:
    """What the user asked the queue for, validated."""

    statuses: list = field(default_factory=list)
    priorities: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    assignee: str | None = None
    customer: int | None = None
    organisation: int | None = None
    reseller: int | None = None
    age: str | None = None
    q: str = ""
    sort: str = "queue"
    page: int = 1
    after: str | None = None
    before: str | None = None

    @classmethod
    def from_args(cls, args):
        """Read the query string; drop what does not make sense."""
        assignee = args.get("assignee") or None
        if assignee not in (None, "me", "unassigned"):
            assignee = parse_id(assignee)
        return cls(
            statuses=[s for s in args.getlist("status") if s in STATUSES],
            priorities=[p for p in args.getlist("priority") if p in PRIORITIES],
            categories=parse_ids(args.getlist("category")),
            assignee=None if assignee is None else str(assignee),
            customer=parse_id(args.get("customer")),
            organisation=parse_id(args.get("organisation")),
            reseller=parse_id(args.get("reseller")),
            age=args.get("age") if args.get("age") in AGES else None,
            q=(args.get("q") or "").strip()[:200],
            sort=args.get("sort") if args.get("sort") in SORTS else "queue",
            page=min(parse_int(args.get("page"), minimum=1) or 1, MAX_OFFSET_PAGE),
            after=args.get("after") or None,
            before=args.get("before") or None,
        )

    def conditions(self, user):
        """SQL conditions for the filters (the access scope is applied separately)."""
        where = []
        if self.statuses:
            where.append(Ticket.status.in_(self.statuses))
        if self.priorities:
            where.append(Ticket.priority.in_(self.priorities))
        if self.categories:
            where.append(Ticket.category_id.in_(self.categories))
        if self.assignee == "me":
            where.append(Ticket.assignee_id == user.id)
        elif self.assignee == "unassigned":
            where.append(Ticket.assignee_id.is_(None))
        elif self.assignee:
            where.append(Ticket.assignee_id == int(self.assignee))
        if self.customer:
            where.append(Ticket.subscriber_id == self.customer)
        if self.organisation:
            where.append(Ticket.organisation_id == self.organisation)
        if self.reseller:
            where.append(Ticket.reseller_id == self.reseller)
        if self.age:
            _, span, within = AGES[self.age]
            cutoff = utcnow() - span
            where.append(Ticket.created_at >= cutoff if within else Ticket.created_at < cutoff)
        if self.q:
            match = ticket_match(self.q, include_internal=sees_internal_notes(user),
                                 among=[ticket_scope(user), *where])
            if match is not None:
                where.append(match)
        return where

    @property
    def order(self):
        """The sort's columns as ``(column, descending)`` pairs."""
        return SORTS[self.sort][1]

    def query_args(self, **changes):
        """The filters as query-string pairs (no cursors), for links and saved views."""
        values = {
            "status": self.statuses, "priority": self.priorities,
            "category": self.categories, "assignee": self.assignee,
            "customer": self.customer, "organisation": self.organisation,
            "reseller": self.reseller, "age": self.age, "q": self.q or None,
            "sort": None if self.sort == "queue" else self.sort,
        } | changes
        pairs = []
        for key, value in values.items():
            for item in value if isinstance(value, list) else [value]:
                if item not in (None, ""):
                    pairs.append((key, str(item)))
        return pairs

    @property
    def is_filtered(self):
        """Does anything narrow the queue?"""
        return bool(self.query_args(sort=None))


def encode_cursor(ticket, order):
    """An opaque cursor holding the sort values of ``ticket``."""
    values = []
    for column, _ in order:
        value = getattr(ticket, column.key)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor, order):
    """The sort values in a cursor, or None when it is not one of ours.

    A cursor comes back from the browser, so it is checked like any input: a list with one
    value per sort column, each of that column's type (a UTC time, or an id-sized int), or
    it is ignored and the list starts from the top.
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:  # not base64, not UTF-8 or not JSON
        return None
    if not isinstance(values, list) or len(values) != len(order):
        return None
    decoded = [_cursor_value(column, value) for (column, _), value in zip(order, values,
                                                                          strict=True)]
    return None if any(value is None for value in decoded) else decoded


def _cursor_value(column, value):
    """One cursor value as its column's type, or None."""
    if isinstance(column.type, UTCDateTime):
        return parse_utc(value)
    return parse_int(value)


def beyond(order, values, *, backwards=False):
    """Rows strictly after (or before) ``values`` in ``order``: the keyset condition."""
    alternatives = []
    for index, (column, descending) in enumerate(order):
        later = (column > values[index]) if descending == backwards else (
            column < values[index])
        equal_prefix = [order[i][0] == values[i] for i in range(index)]
        alternatives.append(and_(*equal_prefix, later))
    return or_(*alternatives)


def order_by(order, *, backwards=False):
    """ORDER BY clauses for ``order`` (reversed when paging backwards)."""
    return [column.asc() if descending == backwards else column.desc()
            for column, descending in order]
