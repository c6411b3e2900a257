"""Keyset paging: any page of a list of tickets read as a few index ranges, however deep.

A list's order is a tuple of ``(column, descending)`` pairs ending in ``Ticket.id`` (unique, so
every row has one place). A cursor holds the order's values of the row a page ended on; the
next page is the rows strictly beyond it.

Why not the textbook condition ``a > x OR (a = x AND b > y) OR ...``? Neither PostgreSQL nor
SQLite turns that OR into a bound of an index range: they walk the index from its start and
filter, so a page at position 900,000 of 1,000,000 tickets took 4.5 s. Here "beyond the
cursor" is one *part* per run of order columns sorted the same way: that run as a row-value
comparison, the runs before it equal to the cursor. The queue (``queue_rank`` up, then
``updated_at`` and ``id`` down) after ``(r, u, i)`` is two parts:

    queue_rank = r AND (updated_at, id) < (u, i)     -- the rest of rank r
    queue_rank > r                                   -- the ranks after it

PostgreSQL (15) takes a row-value comparison over consecutive index columns of one direction
as a bound of the range (``Index Cond: ((queue_rank = 1) AND (ROW(updated_at, id) <
ROW(...)))``). SQLite (3.40) bounds the range by its first column (``SEARCH tickets USING
INDEX ix_tickets_queue (queue_rank=? AND updated_at<?)``: ``id`` is the rowid, which SQLite
does not take into a vector bound) and checks the rest in the index, so it reads the page and
the tickets sharing the cursor's time. tests/test_keyset.py checks both plans. Each part is
a subquery ordered and limited to a page; the outer query merges them (a Merge Append, or a
sort of those few rows) and keeps one page: about ``parts * partitions * page size`` index
entries at any depth, in one statement.

*Partitions*: some lists are index ranges only once split. ``status IN ('open', 'on_hold')``
in queue order is one range per status and priority of the index on ``(status, priority,
updated_at, id)``, and every ticket of one status and priority has the same queue rank. The
caller passes such a split as ``Partition``s: their conditions, and the order columns constant
in them (``pinned``). Pinned columns are left out of the partition's own ORDER BY (so its index
range is already in order) and decide in Python which parts can hold rows at all.

Only the order's values are paged, in a subquery: the page's rows are joined to what the list
shows outside it (``read_page(rows=...)``, the queue) or fetched by id after it
(``load_in_order``, lists of ORM objects), so an offset page (``page=N``) skips index
entries, not joined rows.
"""

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Integer,
    String,
    any_,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from helpdesk.extensions import db
from helpdesk.models import Ticket
from helpdesk.models.timestamps import UTCDateTime
from helpdesk.params import parse_int, parse_utc

MAX_CURSOR_LENGTH = 512


@dataclass(frozen=True)
class Partition:
    """A slice of a list: extra conditions, and the order columns constant within it as
    ``(column, value)`` pairs. The slices must not overlap and together hold every row."""

    where: tuple = ()
    pinned: tuple = ()


@dataclass(frozen=True)
class Page:
    """One page: each row's order values (the id last), and whether pages precede and follow."""

    keys: list
    has_prev: bool
    has_next: bool
    rows: list = None  # with ``read_page(rows=...)``: the page's rows, in order

    @property
    def ids(self):
        """The page's ticket ids, in order."""
        return [key[-1] for key in self.keys]

    @property
    def prev_cursor(self):
        """The cursor of the page before this one, or None."""
        return encode_cursor(self.keys[0]) if self.keys and self.has_prev else None

    @property
    def next_cursor(self):
        """The cursor of the page after this one, or None."""
        return encode_cursor(self.keys[-1]) if self.keys and self.has_next else None


def read_page(where, order, *, per_page, after=None, before=None, offset=0, partitions=None,
              rows=None):
    """One page of the rows matching every condition of ``where``, in ``order``.

    ``after`` and ``before`` are decoded cursors (``decode_cursor``); without either the page
    starts ``offset`` rows from the top, and each partition's range is read up to that far.
    One SQL statement, whatever the depth or the page size. Given ``rows`` (a select of plain
    columns from ``Ticket`` and its joins), that statement also joins the page's rows, and
    only those, to them: ``Page.rows``, with the order values they lack as ``page_<name>``.
    """
    backwards = after is None and before is not None
    cursor = after if after is not None else before
    offset = 0 if cursor is not None else offset
    limit = per_page + 1
    groups = {}  # the branches by the order values their partitions pin
    for partition in partitions or (Partition(),):
        pinned = {column.key: value for column, value in partition.pinned
                  if any(column.key == ordered.key for ordered, _ in order)}
        parts = [[]] if cursor is None else _parts(order, cursor, pinned, backwards=backwards)
        for part in parts:
            groups.setdefault(tuple(sorted(pinned.items())), []).append(_branch(
                order, [*where, *partition.where, *part], pinned, backwards=backwards,
                limit=offset + limit))
    found = []
    names = _key_names(order, rows)
    if groups:  # none when the partitions' pinned values rule every one out
        statement = _merged(groups, order, backwards=backwards, limit=limit, offset=offset)
        if rows is not None:
            statement = _joined(rows, statement.subquery("page"), order, names,
                                backwards=backwards)
        found = db.session.execute(statement).all()
    more, found = len(found) > per_page, found[:per_page]
    if backwards:
        found.reverse()
    keys = [tuple(getattr(row, name) for name in names) for row in found]
    rows = found if rows is not None else None
    if backwards:
        return Page(keys=keys, has_prev=more, has_next=True, rows=rows)
    return Page(keys=keys, has_prev=after is not None or offset > 0, has_next=more, rows=rows)


def _key_names(order, rows):
    """Where a row keeps each order value: the ticket's own column when ``rows`` shows it
    (the page's rows are those tickets), else ``page_<column>`` from the page."""
    shown = set(rows.selected_columns.keys()) if rows is not None else set()
    return [column.key if rows is None or column.key in shown else f"page_{column.key}"
            for column, _ in order]


def _joined(rows, page, order, names, *, backwards):
    """``rows`` of the tickets of ``page`` (a subquery of the order values), in its order."""
    return (
        rows.add_columns(*(page.c[column.key].label(name)
                           for (column, _), name in zip(order, names, strict=True)
                           if name.startswith("page_")))
        .join_from(Ticket, page, page.c.id == Ticket.id)
        .order_by(*(_direction(page.c[column.key], descending, backwards=backwards)
                    for column, descending in order))
    )


def load_in_order(query, ids, *, plain=False):
    """The rows of ``query`` whose ids are ``ids``, in that order: the second query of a
    page, joining only the rows shown. ``query`` is a ``select(Ticket)`` with its loader
    options, or with ``plain`` a select of columns that include ``Ticket.id``."""
    if not ids:
        return []
    result = db.session.execute(query.where(among(Ticket.id, ids)))
    found = {row.id: row for row in (result if plain else result.scalars())}
    return [found[id_] for id_ in ids if id_ in found]


def among(column, ids):
    """``column`` is one of ``ids``, bound as one parameter whatever their number.

    A page's fifty ids as fifty ``IN`` parameters cost more than the query they are in:
    SQLAlchemy writes them into the statement on every execution and PostgreSQL plans the
    list. One array (``= ANY``) on PostgreSQL, one JSON list (``IN json_each``) on SQLite.
    """
    ids = [int(id_) for id_ in ids]
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    listed = func.json_each(bindparam(None, json.dumps(ids))).table_valued("value")
    return column.in_(select(listed.c.value))


def _runs(order):
    """The order's positions grouped into runs of one direction: queue order is
    ``[[0], [1, 2]]`` (rank up; then update and id down)."""
    runs = []
    for position, (_, descending) in enumerate(order):
        if runs and order[runs[-1][0]][1] == descending:
            runs[-1].append(position)
        else:
            runs.append([position])
    return runs


def _parts(order, values, pinned, *, backwards):
    """The conditions of each part of "strictly beyond ``values``" (see the module's
    docstring); a part a pinned column rules out is left out, one it settles loses that
    column's condition."""
    parts, equal = [], []
    for run in _runs(order):
        beyond = _beyond(order, values, run, pinned, backwards=backwards)
        if beyond is not None:
            parts.append([*equal, *beyond])
        for position in run:
            column = order[position][0]
            if column.key in pinned:
                if pinned[column.key] != values[position]:
                    return parts  # no later part can hold a row of this partition
            else:
                equal.append(column == _value(column, values[position]))
    return parts


def _beyond(order, values, run, pinned, *, backwards):
    """The conditions for "the ``run`` columns strictly beyond ``values``", or None when the
    partition's pinned values put every row at or before them."""
    descending = order[run[0]][1]
    ahead = descending == backwards  # the next rows have greater values
    rest = list(run)
    while rest and order[rest[0]][0].key in pinned:
        position = rest.pop(0)
        here, there = pinned[order[position][0].key], values[position]
        if here != there:
            return [] if (here > there) == ahead else None
    if not rest:
        return None  # equal to the cursor on every column: not strictly beyond it
    columns = [order[position][0] for position in rest]
    cursor = [_value(column, values[position]) for column, position in zip(columns, rest,
                                                                           strict=True)]
    if len(columns) == 1:
        left, right = columns[0], cursor[0]
    else:
        left, right = tuple_(*columns), tuple_(*cursor)
    return [left > right if ahead else left < right]


def _value(column, value):
    """A cursor value bound with its column's type (a UTC time is stored as such)."""
    return literal(value, type_=column.type)


def _direction(column, descending, *, backwards):
    return column.desc() if descending != backwards else column.asc()


def _branch(order, where, pinned, *, backwards, limit):
    """One partition's part: its index range, in order, at most ``limit`` rows. Pinned columns
    are selected as their values, so the range's index need not hold them."""
    return (
        select(*(_value(column, pinned[column.key]).label(column.key)
                 if column.key in pinned else column for column, _ in order)).where(*where)
        .order_by(*(_direction(column, descending, backwards=backwards)
                    for column, descending in order if column.key not in pinned))
        .limit(_rows_up_to(limit))
    )


def _merged(groups, order, *, backwards, limit, offset):
    """The branches as one statement. Branches that pin the same order values merge on the
    other columns, which their index ranges are sorted by, so PostgreSQL merges them (a Merge
    Append) and reads each only as far as the page needs, even ``offset`` rows deep; the few
    groups (one per queue rank) are then sorted together."""
    merged = [_merge(branches, order, dict(pinned), backwards=backwards, limit=offset + limit)
              for pinned, branches in groups.items()]
    if len(merged) == 1:
        return merged[0].limit(_rows_up_to(limit)).offset(offset or None)
    return _merge(merged, order, {}, backwards=backwards, limit=limit).offset(offset or None)


def _rows_up_to(limit):
    """``LIMIT`` written into the statement, not bound: PostgreSQL then plans a prepared page
    once (a generic plan) instead of planning each page anew for the value of its limit,
    which for a page joined to its rows took longer than reading it."""
    return literal_column(str(int(limit)))


def _merge(branches, order, pinned, *, backwards, limit):
    """``branches`` (of the same columns) in ``order`` without the ``pinned`` columns."""
    if len(branches) == 1:
        return branches[0]
    union = union_all(*(select(*branch.subquery().c) for branch in branches)).subquery()
    return (
        select(*union.c)
        .order_by(*(_direction(union.c[column.key], descending, backwards=backwards)
                    for column, descending in order if column.key not in pinned))
        .limit(_rows_up_to(limit))
    )


def encode_cursor(values):
    """An opaque cursor holding a row's order values."""
    values = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor, order):
    """The order values in a cursor, or None when it is not one of ours.

    A cursor comes back from the browser, so it is checked like any input: a list with one
    value per order column, each of that column's type (a UTC time, a string that fits its
    column, or an id-sized int), or
    it is ignored and the list starts from the top.
    """
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
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
    if isinstance(column.type, String):  # a name or an email (the admin pages' lists)
        fits = (isinstance(value, str) and "\x00" not in value
                and len(value) <= (column.type.length or MAX_CURSOR_LENGTH))
        return value if fits else None
    return parse_int(value)
