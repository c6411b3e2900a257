"""Fill the bench database with N tickets, five replies each, on PostgreSQL or SQLite.

The services (``open_ticket``, ``add_reply``) render Markdown, audit and commit per row: fine
for people, hours for 100,000 tickets. Here the schema comes from the migrations and the rows
go in by bulk: people from Python on both databases (``bench.people``), tickets and replies by
``generate_series`` on PostgreSQL (``bench.bulk_postgresql``) and by batches drawn in Python on
SQLite (``bench.bulk_sqlite``), both from the shares of ``bench.shape`` and a fixed seed, so a
run is repeatable. What the services keep consistent is kept here too: ``queue_rank``, the
organisation and reseller copied from the subscriber, the search index, timestamps that follow
each other, and the time of each ticket's last public activity (what the portal shows and
sorts by). Every ticket body ends with a serial number of its own and subscribers have
people's names, so the bench can search for a word only one ticket has, and for a name.

Whatever the app maintains from those rows (the search index today; counter tallies and one
search vector per ticket as they arrive) is filled at the end, by ``_search_documents*`` and
``_after_seed``.
"""

import time
from dataclasses import dataclass

from sqlalchemy import select

from bench import bulk_postgresql, bulk_sqlite, content, database, people
from helpdesk.extensions import db
from helpdesk.models import Category
from helpdesk.services import accounts, tallies


@dataclass(frozen=True)
class Plan:
    """How big the bench help desk is."""

    tickets: int = 100_000
    replies_per_ticket: int = 5
    subscribers: int = 2000
    resellers: int = 4
    organisations: int = 40
    agents: int = 8


def seeded_ticket_count(url):
    """Tickets in the bench database, or None when it has no bench data (or no schema, or
    data seeded before the bench had teams, which the team filter's scenarios need)."""
    if database.dialect(url) == "sqlite" and not database.sqlite_path(url).exists():
        return None
    mark = "?" if database.dialect(url) == "sqlite" else "%s"
    try:
        with database.connect(url) as connection:
            row = connection.execute(
                "SELECT (SELECT count(*) FROM tickets),"  # noqa: S608 - a placeholder only
                f" EXISTS (SELECT 1 FROM users WHERE email = {mark}),"
                " EXISTS (SELECT 1 FROM teams)", (people.AGENT_EMAIL,)
            ).fetchone()
    except Exception:  # noqa: BLE001 - no database or no tables: not seeded
        return None
    return row[0] if row[1] and row[2] else None


def seed(app, url, plan, *, say=print):
    """Empty, migrate and fill the database at ``url`` (the app must point at it)."""
    started = time.perf_counter()
    sqlite = database.dialect(url) == "sqlite"
    database.create_database(url)
    database.reset_schema(url)
    database.migrate(app)
    with app.app_context():
        password_hash = accounts.hash_password(people.BENCH_PASSWORD)  # once, for every user
        categories = {c.name: c.id for c in db.session.scalars(select(Category))}
        db.engine.dispose()
    subjects, tickets = content.ticket_pool(categories)
    replies = content.reply_pools()
    with database.connect(url) as connection:
        (bulk_sqlite if sqlite else bulk_postgresql).prepare(connection)
        indexes = database.secondary_indexes(connection)
        database.drop_indexes(connection, indexes)
        people.add_people(connection, plan, password_hash)
        say(f"  people: {time.perf_counter() - started:.1f} s")
        if sqlite:
            bulk_sqlite.add_tickets_and_replies(connection, plan, subjects, tickets, replies)
        else:
            bulk_postgresql.add_tickets(connection, plan, subjects, tickets)
            say(f"  tickets: {time.perf_counter() - started:.1f} s")
            bulk_postgresql.add_replies(connection, plan, replies)
        say(f"  tickets and replies: {time.perf_counter() - started:.1f} s")
        _events(connection)
        if sqlite:
            _public_activity(connection)  # PostgreSQL's ticket insert set it already
            _search_documents_sqlite(connection)
        else:
            _search_documents(connection)
        tallies.rebuild(connection)  # the rows above went in as SQL, past the ORM's tallies
        _sla_clocks(connection, sqlite=sqlite)
        say(f"  events, search documents, tallies, SLA: {time.perf_counter() - started:.1f} s")
    # Without the updated rows' old versions, an index built now is usable at once by every
    # transaction; built over them, PostgreSQL hides it from transactions older than the
    # build (``indcheckxmin``), and any long transaction on the server sends the queue to
    # sequential scans.
    database.vacuum(url)
    with database.connect(url) as connection:
        (bulk_sqlite if sqlite else bulk_postgresql).prepare(connection)
        database.rebuild_indexes(connection, indexes)
        hidden = database.hidden_indexes(connection)
        say(f"  indexes: {time.perf_counter() - started:.1f} s")
    if hidden:
        say(f"  warning: {len(hidden)} indexes are hidden from transactions older than the"
            f" seeding ({', '.join(hidden[:3])}...): a long transaction was open on the"
            " server; timings suffer until it ends")
    _after_seed(app, url)
    database.vacuum_analyze(url)
    say(f"  seeded {plan.tickets} tickets in {time.perf_counter() - started:.1f} s")


def _events(connection):
    """A status event for every ticket that left ``open``, as the timeline would show."""
    connection.execute(
        "INSERT INTO ticket_events (ticket_id, actor_id, kind, old_value, new_value, internal,"
        " created_at)"
        " SELECT id, assignee_id, 'status', 'open', status, FALSE, first_response_at"
        " FROM tickets WHERE status <> 'open'"
    )


def _public_activity(connection):
    """Move each ticket's public clock to its last public reply or public event, as the
    services do (tickets start with their opening time). SQLite's two-argument ``max`` is
    PostgreSQL's ``greatest``; its times are text that sorts as time.

    On SQLite only: PostgreSQL's ticket insert computes the clock from the same rule
    (``bulk_postgresql.add_tickets``), because at 10,000,000 tickets this pass rewrote every
    ticket and ran for hours. ``tests/test_bench.py`` checks the two agree."""
    greatest = "max" if database.is_sqlite(connection) else "greatest"
    connection.execute(
        f"UPDATE tickets SET public_updated_at = {greatest}(tickets.public_updated_at, a.at)"  # noqa: S608
        " FROM (SELECT ticket_id, max(created_at) AS at FROM ("
        "   SELECT ticket_id, created_at FROM replies WHERE NOT internal"
        "   UNION ALL SELECT ticket_id, created_at FROM ticket_events WHERE NOT internal) p"
        "  GROUP BY ticket_id) a"
        " WHERE a.ticket_id = tickets.id"
    )


def _search_documents(connection):
    """One search document per ticket, rebuilt by the app's own set-based SQL."""
    from helpdesk.search import rebuild_sql

    for statement in rebuild_sql("postgresql"):
        connection.execute(statement)


def _search_documents_sqlite(connection):
    """The same documents in SQLite's FTS5 ``ticket_search`` table, by the app's own SQL."""
    from helpdesk.search import rebuild_sql

    for statement in rebuild_sql("sqlite"):
        connection.execute(statement)


# Resolution targets in hours by priority: the bench's clocks count wall time, not business
# hours (helpdesk/sla computes those per ticket, hours for a million): what the queue's SLA
# filter, sort and the sweep read is the share of states and due times, which this gives.
SLA_HOURS = {"urgent": 4, "high": 8, "normal": 24, "low": 40}


def _sla_clocks(connection, *, sqlite):
    """Each unresolved ticket's SLA state, due time and next check, in one UPDATE: paused in
    the waiting states, breached past due, at risk in its last fifth, else on time."""
    hours = "CASE priority " + " ".join(
        f"WHEN '{p}' THEN {h}" for p, h in SLA_HOURS.items()) + " END"

    def plus(column, amount):
        if sqlite:  # in SQLAlchemy's own format (six digits of microseconds), as compared
            return (f"strftime('%Y-%m-%d %H:%M:%S', {column}, '+' || ({amount}) || ' minutes')"
                    f" || substr({column}, 20, 7)")
        return f"{column} + ({amount}) * interval '1 minute'"

    due = plus("created_at", f"{hours} * 60")
    risk = plus("created_at", f"{hours} * 48")
    now = "strftime('%Y-%m-%d %H:%M:%S', 'now')" if sqlite else "now()"
    running = "status IN ('open', 'in_progress')"
    connection.execute(f"""
        UPDATE tickets SET
          sla_due_at = CASE WHEN {running} THEN {due} END,
          resolution_due_at = {due},
          sla_running_since = CASE WHEN {running} THEN created_at END,
          sla_state = CASE WHEN status IN ('resolved', 'closed') THEN NULL
                           WHEN NOT {running} THEN 'paused'
                           WHEN {due} <= {now} THEN 'breached'
                           WHEN {risk} <= {now} THEN 'at_risk' ELSE 'on_time' END,
          sla_next_check_at = CASE WHEN {running} AND {due} > {now} THEN
                                   CASE WHEN {risk} > {now} THEN {risk} ELSE {due} END END
        """)  # noqa: S608 - our own constants


def _after_seed(app, url):
    """Rebuild what the app maintains from the seeded rows, through the app's own rebuild
    functions (inside ``app.app_context()``), before statistics are gathered.

    The place for maintained aggregates such as the queue's counter tallies. ``url`` says
    which database (``database.dialect(url)``) if a rebuild differs.
    """
