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

The choice costs one cheap query before the page's. PostgreSQL: one ``EXPLAIN`` (planning
only, from the statistics ``ANALYZE`` keeps of the lexemes) of three queries side by side,
for the planner's estimates of the matching documents, of the tickets the page looks through
(``among``: its scope and filters) and of the matches among them. The match set goes first
when it is small (``SEARCH_MATCH_FIRST_LIMIT``), or when it is no more than ``WALK_RISK``
times the rows the walk is expected to check: the walk's cost is a guess that assumes the
matches are spread evenly, and when they are not (a first name whose subscribers all belong to
other resellers, a word only resolved tickets have while the queue starts with unresolved
ones) it checks every row of the scope, so the known cost of the match set wins unless the
walk is far cheaper. SQLite: an exact count of the matching documents that stops past
``SEARCH_MATCH_FIRST_LIMIT``. ``SEARCH_PLAN`` forces either plan (tests run both).

The weak spot left: a word in many tickets (past ``WALK_RISK`` times the guessed walk) that
the page's scope or filters hold few of. docs/search.md measures it.
"""

import json
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import (
    Boolean,
    Integer,
    any_,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.sql.expression import bindparam, cast
from sqlalchemy.sql.visitors import InternalTraversal

from helpdesk.extensions import db
from helpdesk.models import Ticket
from helpdesk.search.index import SEARCH_TABLE
from helpdesk.search.query import search_terms, ticket_number

MATCH_FIRST = "match set first"
QUEUE_FIRST = "queue order first"
# The queue walk's cost is a guess that assumes the matches are spread evenly; when they are
# not (a name among another reseller's subscribers, a word only resolved tickets have) it
# can walk the whole scope. So the match set, whose cost is known, is read first unless it
# is more than this many times the walk's guess.
WALK_RISK = 10

_pg_search = table(SEARCH_TABLE, column("ticket_id", Integer), column("public", TSVECTOR),
                   column("notes", TSVECTOR))
_fts_search = table(SEARCH_TABLE, column("rowid", Integer))
_ENGLISH = literal_column("'english'")


@dataclass(frozen=True)
class Estimate:
    """What the plan is chosen by: tickets whose document matches (``matches``), tickets the
    page looks through (``rows``: its scope and filters) and matches among those
    (``matches_among``). SQLite knows only ``matches`` (exact, counted up to the limit)."""

    matches: float
    rows: float | None = None
    matches_among: float | None = None

    def walk(self, page_rows):
        """Rows the queue-first plan is expected to check for a page: every row when few
        match, else as many as it takes at the estimated density."""
        if self.rows is None:
            return None
        return min(self.rows, page_rows * self.rows / max(self.matches_among, 1))


@dataclass(frozen=True)
class SearchPlan:
    """How a search will run: the plan, the estimate it was chosen by, and the condition
    that makes the database run it."""

    plan: str
    estimate: Estimate
    condition: object


def ticket_match(query, *, include_internal, among=()):
    """An SQL condition on ``Ticket`` for ``query``, or None when it has no words.

    ``include_internal``: match internal notes too (``access.sees_internal_notes``).
    ``among``: the page's other conditions on ``Ticket`` (its access scope and filters), which
    the caller still applies; the estimate uses them. A query that is a prefixed ticket number
    (``TKT-1042``) matches that ticket alone; a bare number matches that ticket or the
    tickets whose text has it.
    """
    number = ticket_number(query, current_app.config["TICKET_PREFIX"])
    if number is not None and number[1]:
        return Ticket.id == number[0]
    planned = search_plan(query, include_internal=include_internal, among=among)
    by_number = Ticket.id == number[0] if number is not None else None
    if planned is None:
        return by_number
    return planned.condition if by_number is None else or_(by_number, planned.condition)


def search_plan(query, *, include_internal, among=()):
    """The ``SearchPlan`` for the words of ``query`` (None without words); see the module
    docstring for the rule, ``SEARCH_PLAN`` (``auto``, or a plan forced) and
    ``SEARCH_MATCH_FIRST_LIMIT``."""
    terms = search_terms(query)
    if not terms:
        return None
    search = (_Postgres if db.engine.dialect.name == "postgresql" else _Sqlite)(
        terms, include_internal=include_internal)
    limit = current_app.config["SEARCH_MATCH_FIRST_LIMIT"]
    estimate = search.estimate(among, limit)
    plan = {"match_first": MATCH_FIRST, "queue_first": QUEUE_FIRST}.get(
        current_app.config["SEARCH_PLAN"]) or choose_plan(
        estimate, limit=limit, page_rows=current_app.config["TICKETS_PER_PAGE"] + 1)
    condition = search.match_first() if plan == MATCH_FIRST else search.queue_first()
    return SearchPlan(plan, estimate, condition)


def choose_plan(estimate, *, limit, page_rows):
    """Match set first when few match, or when the queue walk looks like the bigger risk."""
    if estimate.matches <= limit:
        return MATCH_FIRST
    walk = estimate.walk(page_rows)
    if walk is not None and estimate.matches <= WALK_RISK * walk:
        return MATCH_FIRST
    return QUEUE_FIRST


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON)`` of a statement: its plan and row estimates, without running it."""

    inherit_cache = False  # compiled each time (about 3 ms): a statement with no columns

    def __init__(self, statement):
        self.statement = statement


@compiles(_Explain, "postgresql")
def _compile_explain(element, compiler, **kw):
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


class _ArrayOf(ColumnElement):
    """``ARRAY(SELECT ...)``: a subquery's rows as one array, computed once (an InitPlan)."""

    inherit_cache = True
    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement)]

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
        operand = f"'{term.text}'" + (":*" if term.prefix else "")
        parsed = func.to_tsquery(_ENGLISH, bindparam(None, operand), type_=TSQUERY)
        if term.kind == "email":
            # The parser keeps a well-formed address as one lexeme, and splits one it does
            # not recognise (no dot in the host, a "+" in it): match either way.
            whole = cast(bindparam(None, operand), TSQUERY)
            return whole.op("||", return_type=TSQUERY)(parsed)
        return parsed

    def _matches(self, tsquery):
        return self.vector.op("@@", return_type=Boolean)(tsquery)

    def estimate(self, among, _limit):
        """The planner's estimates, from one EXPLAIN (planning only) of three queries side by
        side: the matching documents, the tickets the page looks through, and both."""
        matching = self._matches(self.tsquery)
        statement = union_all(
            select(_pg_search.c.ticket_id).where(matching),
            select(Ticket.id).where(*among),
            select(Ticket.id).join(_pg_search, _pg_search.c.ticket_id == Ticket.id).where(
                *among, matching),
        )
        plan = db.session.execute(_Explain(statement)).scalar()
        if isinstance(plan, str):
            plan = json.loads(plan)
        node = plan[0]["Plan"]
        while node["Node Type"] != "Append" and len(node.get("Plans", ())) == 1:
            node = node["Plans"][0]
        parts = [child["Plan Rows"] for child in node.get("Plans", ())]
        if len(parts) != 3:  # an unexpected plan shape: count everything as matching
            return Estimate(node["Plan Rows"])
        return Estimate(*parts)

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
        it is FTS5 syntax), ending in a prefix when the term is one. The table's ``porter``
        tokenizer stems as PostgreSQL's ``english`` does, so whole words match alike."""
        quoted = '"' + " ".join(term.words) + '"'
        return quoted + "*" if term.prefix else quoted

    def _ids(self):
        return select(_fts_search.c.rowid).where(
            literal_column(SEARCH_TABLE).op("MATCH", return_type=Boolean)(
                bindparam(None, self.expression)))

    def estimate(self, _among, limit):
        """The exact number of matching documents, counted no further than ``limit + 1``."""
        capped = self._ids().limit(max(int(limit) + 1, 0)).subquery()
        return Estimate(db.session.scalar(select(func.count()).select_from(capped)))

    def match_first(self):
        return Ticket.id.in_(self._ids())

    def queue_first(self):
        return (Ticket.id + literal_column("0")).in_(self._ids())

