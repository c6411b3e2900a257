"""Which tickets a search matches, as one SQL condition, planned by how many match.

``ticket_match(query, include_internal=...)`` answers an SQL condition on ``Ticket`` (None
for a query without words). The caller adds it to its scoped, filtered, sorted query. How the
condition is written decides the plan, and the right plan depends on how many tickets match:

- **match set first** when few match (a name, a serial number, a word nobody wrote): the
  full-text index finds the handful of ids, then the scope, filters and sort apply to those
  few rows. PostgreSQL: ``tickets.id = ANY(ARRAY(SELECT ticket_id FROM ticket_search
  WHERE ...))``, computed once before the tickets are read; SQLite: ``tickets.id IN (SELECT
  rowid FROM ticket_search WHERE ticket_search MATCH ...)``.
- **queue order first** when many match (``router``, ``r``): the query walks the queue's
  own index as without a search and checks each row's document until the page is full,
  which for a common word is a few rows per match. PostgreSQL: a correlated
  ``(SELECT ... @@ ... FROM ticket_search WHERE ticket_id = tickets.id)``, which the planner
  cannot turn into a join; SQLite: ``tickets.id + 0 IN (...)``, whose ``+ 0`` keeps the
  planner from driving the query by it.

The count comes from one cheap query before the page's: PostgreSQL's own estimate for the
full-text condition (``EXPLAIN``, planning only, from the statistics ``ANALYZE`` keeps of
the lexemes), and on SQLite an exact count that stops at the limit. The limit is the setting
``SEARCH_MATCH_FIRST_LIMIT`` (tests move it to force either plan).

The known weak spot of the queue-first plan: a word common overall but rare near the top of
the queue (words only resolved tickets have, say, while the queue starts with unresolved
ones) is checked row by row until enough turn up. docs/search.md measures it.
"""

import json
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Boolean, Integer, any_, column, func, literal_column, or_, select, table
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.sql.expression import bindparam, cast

from helpdesk.extensions import db
from helpdesk.models import Ticket
from helpdesk.search.index import SEARCH_TABLE
from helpdesk.search.query import search_terms, ticket_number

MATCH_FIRST = "match set first"
QUEUE_FIRST = "queue order first"

_pg_search = table(SEARCH_TABLE, column("ticket_id", Integer), column("public", TSVECTOR),
                   column("notes", TSVECTOR))
_fts_search = table(SEARCH_TABLE, column("rowid", Integer))
_ENGLISH = literal_column("'english'")


@dataclass(frozen=True)
class SearchPlan:
    """How a search will run: the plan, the estimated matches it was chosen by, and the
    condition that makes the database run it."""

    plan: str
    estimate: float
    condition: object


def ticket_match(query, *, include_internal):
    """An SQL condition on ``Ticket`` for ``query``, or None when it has no words.

    ``include_internal``: match internal notes too (``access.sees_internal_notes``). A query
    that is a prefixed ticket number (``TKT-1042``) matches that ticket alone; a bare number
    matches that ticket or the tickets whose text has it. The access scope is the caller's.
    """
    number = ticket_number(query, current_app.config["TICKET_PREFIX"])
    if number is not None and number[1]:
        return Ticket.id == number[0]
    planned = search_plan(query, include_internal=include_internal)
    by_number = Ticket.id == number[0] if number is not None else None
    if planned is None:
        return by_number
    return planned.condition if by_number is None else or_(by_number, planned.condition)


def search_plan(query, *, include_internal, limit=None):
    """The ``SearchPlan`` for the words of ``query`` (None without words).

    ``limit`` (default: the ``SEARCH_MATCH_FIRST_LIMIT`` setting): at most this many
    estimated matches are read match set first; more, queue order first.
    """
    terms = search_terms(query)
    if not terms:
        return None
    if limit is None:
        limit = current_app.config["SEARCH_MATCH_FIRST_LIMIT"]
    search = (_Postgres if db.engine.dialect.name == "postgresql" else _Sqlite)(
        terms, include_internal=include_internal)
    estimate = search.estimate(limit)
    if estimate <= limit:
        return SearchPlan(MATCH_FIRST, estimate, search.match_first())
    return SearchPlan(QUEUE_FIRST, estimate, search.queue_first())


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON)`` of a statement: its plan and row estimates, without running it."""

    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(_Explain, "postgresql")
def _compile_explain(element, compiler, **kw):
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


class _ArrayOf(ColumnElement):
    """``ARRAY(SELECT ...)``: a subquery's rows as one array, computed once (an InitPlan)."""

    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement
        self.type = ARRAY(Integer)


@compiles(_ArrayOf, "postgresql")
def _compile_array_of(element, compiler, **kw):
    return f"ARRAY({compiler.process(element.statement, **kw)})"


class _Postgres:
    """tsquery over ``public`` (customers) or ``public || notes`` (staff)."""

    def __init__(self, terms, *, include_internal):
        parts = [self._tsquery(term) for term in terms]
        self.tsquery = parts[0]
        for part in parts[1:]:
            self.tsquery = self.tsquery.op("&&", return_type=TSQUERY)(part)
        search = _pg_search.c
        self.vector = (search.public.op("||", return_type=TSVECTOR)(search.notes)
                       if include_internal else search.public)

    @staticmethod
    def _tsquery(term):
        """One term as a tsquery; the text is bound, and quoted by us for ``to_tsquery``."""
        if term.kind == "phrase":
            return func.phraseto_tsquery(_ENGLISH, bindparam(None, term.text),
                                         type_=TSQUERY)
        parsed = func.to_tsquery(_ENGLISH, bindparam(None, f"'{term.text}':*"), type_=TSQUERY)
        if term.kind == "email":
            # The parser keeps a well-formed address as one lexeme, and splits one it does
            # not recognise (no dot in the host, a "+" in it): match either way.
            whole = cast(bindparam(None, f"'{term.text}':*"), TSQUERY)
            return whole.op("||", return_type=TSQUERY)(parsed)
        return parsed

    def _matches(self, tsquery):
        return self.vector.op("@@", return_type=Boolean)(tsquery)

    def estimate(self, _limit):
        """The planner's estimate of matching documents: EXPLAIN only plans."""
        statement = select(literal_column("1")).select_from(_pg_search).where(
            self._matches(self.tsquery))
        plan = db.session.execute(_Explain(statement)).scalar()
        if isinstance(plan, str):
            plan = json.loads(plan)
        return plan[0]["Plan"]["Plan Rows"]

    def match_first(self):
        ids = select(_pg_search.c.ticket_id).where(self._matches(self.tsquery))
        return Ticket.id == any_(_ArrayOf(ids))

    def match_each(self):
        """Per row: the tsquery is computed once (an InitPlan), the vector read by key."""
        once = select(self.tsquery).scalar_subquery()
        return select(self._matches(once)).where(
            _pg_search.c.ticket_id == Ticket.id).scalar_subquery()

    def queue_first(self):
        return self.match_each().is_(True)


class _Sqlite:
    """An FTS5 expression of quoted phrases; customers' is filtered to the ``public`` column."""

    def __init__(self, terms, *, include_internal):
        expression = " AND ".join(self._phrase(term) for term in terms)
        self.expression = expression if include_internal else f"{{public}} : ({expression})"

    @staticmethod
    def _phrase(term):
        """A quoted FTS5 phrase of the term's words (letters and digits only, so nothing in
        it is FTS5 syntax); words and email addresses end in a prefix."""
        quoted = '"' + " ".join(term.words) + '"'
        return quoted if term.kind == "phrase" else quoted + "*"

    def _ids(self):
        return select(_fts_search.c.rowid).where(
            literal_column(SEARCH_TABLE).op("MATCH", return_type=Boolean)(
                bindparam(None, self.expression)))

    def estimate(self, limit):
        """The exact count, but never counting past ``limit + 1``."""
        capped = self._ids().limit(max(int(limit) + 1, 0)).subquery()
        return db.session.scalar(select(func.count()).select_from(capped))

    def match_first(self):
        return Ticket.id.in_(self._ids())

    def queue_first(self):
        return (Ticket.id + literal_column("0")).in_(self._ids())

