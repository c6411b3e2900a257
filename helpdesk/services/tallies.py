"""Rebuilding the ticket tallies from the tickets, for operators, migrations and the bench.

The tallies are kept in step by ``helpdesk.models.ticket_tally`` whenever a ticket changes
through the session. Rows written with plain SQL (the bench's bulk seeding, a repair by
hand) bypass that: ``rebuild`` recounts every table from ``tickets`` with set-based SQL, in
the caller's transaction. It takes a plain DB-API connection (psycopg or sqlite3) as well as
a SQLAlchemy one, so bulk loaders that never start the app can call it.
"""

import sqlite3
from datetime import date
from functools import partial

from sqlalchemy import text
from sqlalchemy.engine import Connection

from helpdesk.models.report_day import (
    DURATION_EDGES,
    NO_ORGANISATION,
    PLAIN_COUNTS,
    REPORT_COUNTS,
    RESOLUTION_BUCKETS,
    RESPONSE_BUCKETS,
)
from helpdesk.models.ticket import UNRESOLVED_STATUSES
from helpdesk.models.ticket_tally import NO_RESELLER, Deltas, apply_deltas

RESELLER = f"coalesce(reseller_id, {NO_RESELLER})"
ORGANISATION = f"coalesce(organisation_id, {NO_ORGANISATION})"
TALLY_TABLES = ("ticket_tallies", "ticket_days", "assignee_tallies", "report_days",
                "organisation_days")


def utc_day(dialect, column):
    """SQL for the UTC day of the time in ``column``."""
    if dialect == "postgresql":
        return f"CAST({column} AT TIME ZONE 'UTC' AS date)"
    return f"date({column})"


def day_opened(dialect):
    """SQL for the UTC day a ticket was opened."""
    return utc_day(dialect, "created_at")


def report_events(dialect, where="deleted_at IS NULL"):
    """SQL: the report places of the tickets matching ``where`` (``models.report_day``), one
    row per event (opened, first response, resolved) with its day, reseller, organisation,
    category and priority, its counts (``REPORT_COUNTS`` but the histograms) and the bucket
    of its duration (``response_bucket``, ``resolution_bucket``); sum them per rollup key with
    ``report_sums``."""
    unresolved = ", ".join(f"'{status}'" for status in UNRESOLVED_STATUSES)
    keys = f"{RESELLER} AS reseller_id, {ORGANISATION} AS organisation_id, category_id, priority"
    no_bucket = "CAST(NULL AS INTEGER)"
    opened = {"opened": "1",
              "unresolved": f"CASE WHEN status IN ({unresolved}) THEN 1 ELSE 0 END"}
    selects = [
        f"SELECT {utc_day(dialect, 'created_at')} AS day, {keys}, "  # noqa: S608
        + _event_columns(opened, response_bucket=no_bucket, resolution_bucket=no_bucket)
        + f" FROM tickets WHERE {where}"]
    for at, due, count, total, sla, bucket in (
            ("first_response_at", "first_response_due_at", "responded", "response_seconds",
             "sla_responses", "response_bucket"),
            ("resolved_at", "resolution_due_at", "resolved", "resolution_seconds",
             "sla_resolutions", "resolution_bucket")):
        # The duration once per ticket (``took``), then its bucket and counts from it.
        met = f"{epoch_second(dialect, at)} <= {epoch_second(dialect, due)}"
        counts = {count: "1", total: "took",
                  sla: f"CASE WHEN {due} IS NULL THEN 0 ELSE 1 END",
                  f"{sla}_met": f"CASE WHEN {met} THEN 1 ELSE 0 END"}
        buckets = {"response_bucket": no_bucket, "resolution_bucket": no_bucket,
                   bucket: duration_bucket_sql("took")}
        selects.append(
            f"SELECT {utc_day(dialect, at)} AS day, {keys}, "  # noqa: S608
            + _event_columns(counts, **buckets)
            + f" FROM (SELECT tickets.*, {seconds_after_opening(dialect, at)} AS took"  # noqa: S608
            f" FROM tickets WHERE {where} AND {at} IS NOT NULL) events_{count}")
    return " UNION ALL ".join(selects)


def _event_columns(counts, *, response_bucket, resolution_bucket):
    """An event row's select list after its keys: ``counts`` (SQL by name) for the counts
    that are not histograms, 0 for the others, then the two buckets."""
    return ", ".join(
        [f"{counts.get(name, '0')} AS {name}" for name in PLAIN_COUNTS]
        + [f"{response_bucket} AS response_bucket", f"{resolution_bucket} AS resolution_bucket"])


def duration_bucket_sql(seconds):
    """SQL for ``report_day.duration_bucket`` of the duration ``seconds`` (an SQL name)."""
    whens = " ".join(f"WHEN {seconds} < {edge} THEN {index}"
                     for index, edge in enumerate(DURATION_EDGES))
    return f"CASE {whens} ELSE {len(DURATION_EDGES)} END"


def report_sums():
    """SQL: the ``REPORT_COUNTS`` of a group of ``report_events`` rows, in that order: the
    counts summed, each histogram column counting the events in its bucket."""
    return ", ".join(
        [f"sum({name})" for name in PLAIN_COUNTS]
        + [f"sum(CASE WHEN {histogram}_bucket = {index} THEN 1 ELSE 0 END)"
           for histogram, names in (("response", RESPONSE_BUCKETS),
                                    ("resolution", RESOLUTION_BUCKETS))
           for index in range(len(names))])


def report_rollup_statements(dialect):
    """INSERTs refilling both report rollups from ``report_events`` (emptied before)."""
    names = ", ".join(REPORT_COUNTS)
    events = report_events(dialect)
    return [
        f"INSERT INTO {table} ({keys}, {names})"  # noqa: S608
        f" SELECT {keys}, {report_sums()} FROM ({events}) events GROUP BY {keys}"
        for table, keys in (("report_days", "day, reseller_id, category_id, priority"),
                            ("organisation_days", "day, reseller_id, organisation_id"))
    ]


def epoch_second(dialect, column):
    """SQL for the whole seconds since 1970 of the time in ``column`` (cut, not rounded)."""
    if dialect == "postgresql":
        return f"floor(extract(epoch FROM {column}))"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def seconds_after_opening(dialect, column):
    """SQL for the whole seconds from opening to ``column`` (see ``whole_seconds``)."""
    if dialect == "postgresql":
        return (f"CAST({epoch_second(dialect, column)}"
                f" - {epoch_second(dialect, 'created_at')} AS bigint)")
    return f"({epoch_second(dialect, column)} - {epoch_second(dialect, 'created_at')})"


def rebuild_statements(dialect):
    """The statements that empty and refill both tables from the live tickets."""
    day = day_opened(dialect)
    response = seconds_after_opening(dialect, "first_response_at")
    resolution = seconds_after_opening(dialect, "resolved_at")
    statements = [
        "DELETE FROM ticket_tallies",
        "DELETE FROM ticket_days",
        "DELETE FROM assignee_tallies",
        "DELETE FROM report_days",
        "DELETE FROM organisation_days",
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
        *report_rollup_statements(dialect),
    ]
    if dialect == "postgresql":
        # Hold writers off until the recount commits: a ticket changed meanwhile would
        # otherwise add its delta to rows the recount already counted it in, or not.
        statements.insert(0, "LOCK TABLE tickets IN SHARE MODE")
    return statements


def rebuild(connection):
    """Recount the tallies (``TALLY_TABLES``) from ``tickets``; the caller commits.

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
                 for table in TALLY_TABLES)


def move_organisation(connection, organisation_id, new_reseller_id):
    """Move an organisation's live tickets to ``new_reseller_id``'s tallies, in the caller's
    transaction, before its tickets' ``reseller_id`` is changed with one UPDATE.

    Four grouped reads of the organisation's tickets (by status, priority and category; by
    day; by assignee; by report place), each with the reseller its tickets had (normally
    the organisation's, but a ticket may have been moved alone), become the deltas the flush
    listener would have summed ticket by ticket, applied by the same upserts: a customer with
    100,000 tickets moves in a few statements, not 100,000 flushed rows.
    """
    dialect = connection.dialect.name
    new = NO_RESELLER if new_reseller_id is None else new_reseller_id
    where = "organisation_id = :organisation AND deleted_at IS NULL"
    live = f"FROM tickets WHERE {where}"
    run = partial(connection.execute, parameters={"organisation": organisation_id})
    deltas = Deltas()
    for reseller, status, priority, category, count in run(text(
            f"SELECT {RESELLER}, status, priority, category_id, count(*) {live}"
            f" GROUP BY {RESELLER}, status, priority, category_id")):
        deltas.tallies[(reseller, status, priority, category)] -= count
        deltas.tallies[(new, status, priority, category)] += count
    for assignee, reseller, status, priority, category, count in run(text(
            f"SELECT assignee_id, {RESELLER}, status, priority, category_id, count(*) {live}"
            " AND assignee_id IS NOT NULL"
            f" GROUP BY assignee_id, {RESELLER}, status, priority, category_id")):
        deltas.assignees[(assignee, reseller, status, priority, category)] -= count
        deltas.assignees[(assignee, new, status, priority, category)] += count
    day = day_opened(dialect)
    for opened_on, reseller, *counts in run(text(
            f"SELECT {day}, {RESELLER}, count(*), count(first_response_at),"
            f" coalesce(sum({seconds_after_opening(dialect, 'first_response_at')}), 0),"
            " count(resolved_at),"
            f" coalesce(sum({seconds_after_opening(dialect, 'resolved_at')}), 0)"
            f" {live} GROUP BY {day}, {RESELLER}")):  # then the columns of DAY_COUNTS
        opened_on = date.fromisoformat(opened_on) if isinstance(opened_on, str) else opened_on
        for key, sign in (((opened_on, reseller), -1), ((opened_on, new), 1)):
            day_counts = deltas.days.setdefault(key, [0] * len(counts))
            for index, count in enumerate(counts):
                day_counts[index] += sign * int(count)
    keys = "day, reseller_id, organisation_id, category_id, priority"
    for on, reseller, organisation, category, priority, *counts in run(text(
            f"SELECT {keys}, {report_sums()}"  # noqa: S608
            f" FROM ({report_events(dialect, where)}) events GROUP BY {keys}")):
        on = date.fromisoformat(on) if isinstance(on, str) else on
        counts = [int(n) for n in counts]
        deltas.add_report((on, reseller, organisation, category, priority), counts, -1)
        deltas.add_report((on, new, organisation, category, priority), counts, 1)
    apply_deltas(connection, deltas)
