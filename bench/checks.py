"""Proof that a page did what it was asked, so a fast row is not a page that skipped the work.

A route or filter may be missing on a branch, or quietly ignored; a sort may not sort; a cursor
may restart from the top; a ticket number may list instead of jumping. Each scenario carries
checks written here in plain SQL, independent of the app's own query code, run once over the
ticket ids its first answer lists (a few dozen, so they are cheap at any size). A failed check
becomes a note, and the report counts it as a miss.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, text

from helpdesk.desk.queue_filters import AGES, NO_TEAM, SORTS
from helpdesk.models.ticket import UNRESOLVED_STATUSES
from helpdesk.models.timestamps import UTCDateTime, utcnow

TICKET_LINK = re.compile(r'href="/(?:portal/)?tickets/(\d+)"')
WORD = re.compile(r"\w+")
AGE_MARGIN = timedelta(minutes=10)  # the page was drawn a little before the check runs


def listed_ids(html):
    """The ticket ids a page links to, in order, without repeats; of an API answer, the
    tickets it lists (or the one ticket it is)."""
    if html.lstrip().startswith("{"):
        answer = json.loads(html)
        if "tickets" in answer:
            return [ticket["id"] for ticket in answer["tickets"]]
        return [answer["id"]] if "id" in answer else []
    return list(dict.fromkeys(int(i) for i in TICKET_LINK.findall(html)))


@dataclass(frozen=True)
class Check:
    """One thing to prove about an answer.

    ``excluded``: SQL over ``:ids`` returning the listed ids that should not be there.
    ``ordered``: SQL returning ``:ids`` in the order the page should list them.
    ``first``/``last``: the id the list must start or end with (cursor pages).
    ``jump``: the ticket a redirect must lead to (a ticket number searched).
    """

    note: str
    excluded: str | None = None
    ordered: str | None = None
    first: int | None = None
    last: int | None = None
    jump: int | None = None
    params: dict = field(default_factory=dict)


def failures(checks, answer, session):
    """The notes of the checks ``answer`` fails (``session``: a SQLAlchemy session)."""
    ids = listed_ids(answer.text) if answer.ok_page else []
    notes = []
    for check in checks:
        if check.jump is not None:
            if not answer.location.rstrip("/").endswith(f"/tickets/{check.jump}"):
                notes.append(f"{check.note}: answered {answer.status}"
                             f"{' to ' + answer.location if answer.location else ''}")
            continue
        if not answer.ok_page:
            continue
        if check.excluded:
            wrong = session.execute(*_bound(check.excluded, check.params, ids)).all()
            if wrong:
                notes.append(f"{check.note}: {len(wrong)} of {len(ids)} listed do not match")
        if check.ordered:
            expected = [row[0] for row in session.execute(
                *_bound(check.ordered, check.params, ids))]
            if expected != ids:
                notes.append(f"{check.note}: listed out of order")
        if check.first is not None and (not ids or ids[0] != check.first):
            notes.append(f"{check.note}: starts at {ids[0] if ids else 'nothing'},"
                         f" expected {check.first}")
        if check.last is not None and (not ids or ids[-1] != check.last):
            notes.append(f"{check.note}: ends at {ids[-1] if ids else 'nothing'},"
                         f" expected {check.last}")
    return notes


def _bound(sql, params, ids):
    """The statement and its parameters: lists expand into ``IN``, times are stored times."""
    params = params | {"ids": ids}
    statement = text(sql).bindparams(*(
        bindparam(name, expanding=True) for name, value in params.items()
        if isinstance(value, list | tuple)))
    if "cutoff" in params:
        statement = statement.bindparams(bindparam("cutoff", type_=UTCDateTime()))
    return statement, params


def _excluded(condition, note, **params):
    return Check(note=note, params=params, excluded=(
        "SELECT id FROM tickets WHERE id IN :ids AND (" + condition + ")"))  # noqa: S608


def filter_checks(filters, *, me):
    """A check per filter set in ``filters`` (a ``QueueFilters``); ``me`` is the user id."""
    checks = []
    if filters.statuses or filters.live:
        checks.append(_excluded("status NOT IN :statuses", "status filter ignored",
                                statuses=tuple(filters.statuses or UNRESOLVED_STATUSES)))
    if filters.priorities:
        checks.append(_excluded("priority NOT IN :priorities", "priority filter ignored",
                                priorities=tuple(filters.priorities)))
    if filters.categories:
        checks.append(_excluded("category_id NOT IN :categories", "category filter ignored",
                                categories=tuple(filters.categories)))
    if filters.assignee == "unassigned":
        checks.append(_excluded("assignee_id IS NOT NULL", "assignee filter ignored"))
    elif filters.assignee:
        person = me if filters.assignee == "me" else int(filters.assignee)
        checks.append(_excluded("coalesce(assignee_id, 0) <> :assignee",
                                "assignee filter ignored", assignee=person))
    for name, column in (("customer", "subscriber_id"), ("organisation", "organisation_id"),
                         ("reseller", "reseller_id")):
        if getattr(filters, name):
            checks.append(_excluded(f"coalesce({column}, 0) <> :{name}",
                                    f"{name} filter ignored", **{name: getattr(filters, name)}))
    if filters.age:
        _label, span, within = AGES[filters.age]
        cutoff = utcnow() - span
        checks.append(_excluded("created_at < :cutoff" if within else "created_at >= :cutoff",
                                "age filter ignored",
                                cutoff=cutoff - AGE_MARGIN if within else cutoff))
    if filters.team == NO_TEAM:
        checks.append(_excluded("team_id IS NOT NULL", "team filter ignored"))
    elif filters.team:
        checks.append(_excluded("coalesce(team_id, 0) <> :team", "team filter ignored",
                                team=int(filters.team)))
    if filters.sla:
        checks.append(_excluded("coalesce(sla_state, '') NOT IN :sla", "sla filter ignored",
                                sla=tuple(filters.sla)))
    if filters.q:
        checks.append(words_check(filters.q))
    return checks


def stem(word):
    """A prefix of ``word`` that its stemmed forms share ("restarting" -> "restart")."""
    word = word.lower()
    return word if len(word) <= 4 else word[:max(4, len(word) - 3)]


def words_check(query, *, internal=True):
    """Every listed ticket has every word of ``query`` somewhere: subject, body, a reply
    (internal notes only for those who read them), or its subscriber's name or email."""
    words = [stem(w) for w in WORD.findall(query)]
    notes = "" if internal else " AND NOT r.internal"
    missing = [
        f"NOT (lower(t.subject) LIKE :w{i} OR lower(t.body) LIKE :w{i}"  # noqa: S608
        f" OR EXISTS (SELECT 1 FROM replies r WHERE r.ticket_id = t.id{notes}"
        f"  AND lower(r.body) LIKE :w{i})"
        f" OR EXISTS (SELECT 1 FROM users u WHERE u.id = t.subscriber_id"
        f"  AND (lower(u.name) LIKE :w{i} OR lower(u.email) LIKE :w{i})))"
        for i in range(len(words))
    ] or ["FALSE"]
    return Check(note="search ignored", params={f"w{i}": f"%{w}%" for i, w in enumerate(words)},
                 excluded="SELECT t.id FROM tickets t WHERE t.id IN :ids AND ("  # noqa: S608
                 + " OR ".join(missing) + ")")


def order_check(sort):
    """The page lists its tickets in ``sort``'s order (``SORTS`` of the queue)."""
    columns = ", ".join(f"{column.key}{' DESC' if descending else ''}"
                        for column, descending in SORTS[sort][1])
    return Check(note=f"sort {sort} ignored",
                 ordered=f"SELECT id FROM tickets WHERE id IN :ids ORDER BY {columns}")  # noqa: S608


def scope_check(scope):
    """Nothing outside the viewer's scope is listed (``helpdesk.access.Scope``), and nothing
    deleted."""
    condition = "deleted_at IS NOT NULL"
    params = {}
    if not scope.everything:
        condition += f" OR coalesce({scope.column}, 0) <> :scope_value"
        params["scope_value"] = scope.value if scope.value is not None else -1
    return _excluded(condition, "outside the viewer's scope", **params)
