"""Rebuilding the ticket tallies from the tickets, for operators, migrations and the bench.

The tallies are kept in step by ``helpdesk.models.ticket_tally`` whenever a ticket changes
through the session. Rows written with plain SQL (the bench's bulk seeding, a repair by
hand) bypass that: ``rebuild`` recounts both tables from ``tickets`` with set-based SQL, in
the caller's transaction. It takes a plain DB-API connection (psycopg or sqlite3) as well as
a SQLAlchemy one, so bulk loaders that never start the app can call it.
"""

import sqlite3
from datetime import date
from functools import partial

from sqlalchemy import text
from sqlalchemy.engine import Connection

from helpdesk.models.ticket_tally import NO_RESELLER, Deltas, apply_deltas

RESELLER = f"coalesce(reseller_id, {NO_RESELLER})"


def day_opened(dialect):
    """SQL for the UTC day a ticket was opened."""
    if dialect == "postgresql":
        return "CAST(created_at AT TIME ZONE 'UTC' AS date)"
    return "date(created_at)"


def seconds_after_opening(dialect, column):
    """SQL for the whole seconds from opening to ``column`` (see ``whole_seconds``)."""
    if dialect == "postgresql":
        return (f"CAST(floor(extract(epoch FROM {column}))"
                " - floor(extract(epoch FROM created_at)) AS bigint)")
    return (f"(CAST(strftime('%s', {column}) AS INTEGER)"
            " - CAST(strftime('%s', created_at) AS INTEGER))")


def rebuild_statements(dialect):
    """The statements that empty and refill both tables from the live tickets."""
    day = day_opened(dialect)
    response = seconds_after_opening(dialect, "first_response_at")
    resolution = seconds_after_opening(dialect, "resolved_at")
    statements = [
        "DELETE FROM ticket_tallies",
        "DELETE FROM ticket_days",
        "DELETE FROM assignee_tallies",
        "INSERT INTO ticket_tallies (reseller_id, status, priority, category_id, tickets)"  # noqa: S608
        f" SELECT {RESELLER}, status, priority, category_id, count(*)"
        " FROM tickets WHERE deleted_at IS NULL"
        f" GROUP BY {RESELLER}, status, priority, category_id",
        "INSERT INTO ticket_days (day, reseller_id, opened, responded, response_seconds,"  # noqa: S608
        " resolved, resolution_seconds)"
        f" SELECT {day}, {RESELLER}, count(*), count(first_response_at),"
        f" coalesce(sum({response}), 0), count(resolved_at), coalesce(sum({resolution}), 0)"
        f" FROM tickets WHERE deleted_at IS NULL GROUP BY {day}, {RESELLER}",
        "INSERT INTO assignee_tallies (assignee_id, reseller_id, status, priority,"  # noqa: S608
        " category_id, tickets)"
        f" SELECT assignee_id, {RESELLER}, status, priority, category_id, count(*)"
        " FROM tickets WHERE deleted_at IS NULL AND assignee_id IS NOT NULL"
        f" GROUP BY assignee_id, {RESELLER}, status, priority, category_id",
    ]
    if dialect == "postgresql":
        # Hold writers off until the recount commits: a ticket changed meanwhile would
        # otherwise add its delta to rows the recount already counted it in, or not.
        statements.insert(0, "LOCK TABLE tickets IN SHARE MODE")
    return statements


def rebuild(connection):
    """Recount ``ticket_tallies``, ``ticket_days`` and ``assignee_tallies`` from ``tickets``;
    the caller commits.

    ``connection``: a SQLAlchemy ``Connection`` (``db.session.connection()``), or a DB-API
    connection from psycopg or sqlite3. Returns the number of rows in each table.
    """
    if isinstance(connection, Connection):
        dialect, run = connection.dialect.name, connection.exec_driver_sql
    else:
        dialect = "sqlite" if isinstance(connection, sqlite3.Connection) else "postgresql"
        run = connection.execute
    for statement in rebuild_statements(dialect):
        run(statement)
    return tuple(run(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                 for table in ("ticket_tallies", "ticket_days", "assignee_tallies"))


def move_organisation(connection, organisation_id, new_reseller_id):
    """Move an organisation's live tickets to ``new_reseller_id``'s tallies, in the caller's
    transaction, before its tickets' ``reseller_id`` is changed with one UPDATE.

    Three grouped reads of the organisation's tickets (by reseller, status, priority and
    category; by assignee too; by day) become the deltas the flush listener would have summed
    ticket by ticket, applied by the same upserts: a customer with 100,000 tickets moves in a
    few statements, not 100,000 flushed rows. Each ticket leaves the reseller it counts under
    now (usually the organisation's, but not necessarily), so the tallies stay exact.
    """
    dialect = connection.dialect.name
    new = NO_RESELLER if new_reseller_id is None else new_reseller_id
    live = "FROM tickets WHERE organisation_id = :organisation AND deleted_at IS NULL"
    run = partial(connection.execute, parameters={"organisation": organisation_id})
    deltas = Deltas()
    for old, status, priority, category, count in run(text(
            f"SELECT {RESELLER}, status, priority, category_id, count(*) {live}"
            f" GROUP BY {RESELLER}, status, priority, category_id")):
        deltas.tallies[(old, status, priority, category)] -= count
        deltas.tallies[(new, status, priority, category)] += count
    for assignee, old, status, priority, category, count in run(text(
            f"SELECT assignee_id, {RESELLER}, status, priority, category_id, count(*) {live}"
            f" AND assignee_id IS NOT NULL"
            f" GROUP BY assignee_id, {RESELLER}, status, priority, category_id")):
        deltas.assignees[(assignee, old, status, priority, category)] -= count
        deltas.assignees[(assignee, new, status, priority, category)] += count
    day = day_opened(dialect)
    for opened_on, old, *counts in run(text(
            f"SELECT {day}, {RESELLER}, count(*), count(first_response_at),"
            f" coalesce(sum({seconds_after_opening(dialect, 'first_response_at')}), 0),"
            " count(resolved_at),"
            f" coalesce(sum({seconds_after_opening(dialect, 'resolved_at')}), 0)"
            f" {live} GROUP BY {day}, {RESELLER}")):  # the columns of DAY_COUNTS, in order
        opened_on = date.fromisoformat(opened_on) if isinstance(opened_on, str) else opened_on
        for reseller, sign in ((old, -1), (new, 1)):
            totals = deltas.days.setdefault((opened_on, reseller), [0] * len(counts))
            for index, count in enumerate(counts):
                totals[index] += sign * int(count)
    apply_deltas(connection, deltas)
