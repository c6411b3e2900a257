"""Tickets and their threads on SQLite: rows drawn in Python, inserted in batches.

SQLite has no ``generate_series`` (Python's sqlite3 is built without it) and its ``random()``
cannot be seeded, so the rows are drawn here from a seeded ``random.Random`` by the same
rules as ``bulk_postgresql``'s SQL (``bench.shape`` holds the shares and spans both use) and
inserted with ``executemany``, ``BATCH`` tickets and their replies at a time.
"""

import math
import random
from datetime import timedelta

from bench import content, database, shape
from helpdesk.models.ticket import UNRESOLVED_STATUSES, queue_rank
from helpdesk.models.timestamps import utcnow

BATCH = 10_000
TICKET_COLUMNS = (
    "id", "subject", "body", "body_html", "body_renderer", "status", "priority", "category_id",
    "subscriber_id", "organisation_id", "reseller_id", "assignee_id", "created_at",
    "updated_at", "public_updated_at", "first_response_at", "resolved_at", "closed_at",
    "queue_rank", "team_id",
)
REPLY_COLUMNS = ("ticket_id", "author_id", "body", "body_html", "body_renderer", "internal",
                 "created_at")


def prepare(connection):
    """Bulk-load settings for this connection (none of them outlives it)."""
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA journal_mode = MEMORY")
    connection.execute("PRAGMA cache_size = -200000")


def add_tickets_and_replies(connection, plan, subjects, pool, replies):
    """Every ticket and its thread, in batches (ids 1..N in a fresh table)."""
    rng = random.Random(shape.RANDOM_SEED)  # noqa: S311 - repeatable data, not secrets
    subscribers = connection.execute(
        "SELECT id, organisation_id, reseller_id FROM users WHERE email LIKE ?"
        " ORDER BY id", ("subscriber-%",)).fetchall()
    first_agent = connection.execute(
        "SELECT min(id) FROM users WHERE role = 'agent'").fetchone()[0]
    first_team = connection.execute("SELECT min(id) FROM teams").fetchone()[0]
    now = utcnow()
    for start in range(1, plan.tickets + 1, BATCH):
        tickets, thread = [], []
        for position in range(start, min(start + BATCH, plan.tickets + 1)):
            ticket = _ticket(rng, position, plan, subjects, pool, subscribers,
                             (first_agent, first_team), now)
            tickets.append(ticket)
            thread += _thread(rng, ticket, plan, replies, first_agent)
        database.insert_rows(connection, "tickets", TICKET_COLUMNS, tickets)
        database.insert_rows(connection, "replies", REPLY_COLUMNS, thread)


def _ticket(rng, position, plan, subjects, pool, subscribers, firsts, now):
    """One ticket row, as ``bulk_postgresql.add_tickets`` draws it (``firsts``: the first
    agent's and the first team's ids)."""
    first_agent, first_team = firsts
    r_status, r_priority, r_text, r_subscriber, r_age, r_assignee, r_step = (
        rng.random() for _ in range(7))
    j = math.floor(r_text * len(pool.source))
    serial = shape.serial_number(position)
    subscriber_id, organisation_id, reseller_id = subscribers[
        math.floor(plan.subscribers * r_subscriber ** shape.SUBSCRIBER_SKEW)]
    status = shape.choose(shape.STATUS_SHARES, r_status)
    priority = shape.choose(shape.PRIORITY_SHARES, r_priority)
    span = shape.UNRESOLVED_SPAN if status in UNRESOLVED_STATUSES else shape.HISTORY_SPAN
    opened = now - span * r_age
    step = timedelta(hours=1 + 23 * r_step)
    done = opened + step * 5
    assignee = None
    if status != "open" and r_assignee < shape.ASSIGNED_SHARE:
        assignee = first_agent + math.floor(r_assignee / shape.ASSIGNED_SHARE * plan.agents)
    closing = shape.CLOSING_DELAY if status == "closed" else timedelta(0)
    team = shape.team_number(position, pool.category[j])
    return (
        position, subjects[j], f"{pool.source[j]}\n\nSerial number: {serial}",
        f"{pool.html[j]}\n<p>Serial number: {serial}</p>", content.RENDERER_VERSION, status,
        priority, pool.category[j], subscriber_id, organisation_id, reseller_id, assignee,
        opened, min(done + closing, now), opened, min(opened + step, now),
        min(done, now) if status in ("resolved", "closed") else None,
        min(done + closing, now) if status == "closed" else None,
        queue_rank(status, priority),
        None if team is None else first_team + team,
    )


def _thread(rng, ticket, plan, replies, first_agent):
    """A ticket's replies: customer and support take turns, some are internal notes."""
    ticket_id, status, subscriber_id, assignee = ticket[0], ticket[5], ticket[8], ticket[11]
    created, updated = ticket[12], ticket[13]
    count = plan.replies_per_ticket
    rows = []
    for k in range(1, count + 1):
        internal, r_text = rng.random() < shape.NOTE_SHARE, rng.random()
        if internal:
            kind = "note"
        elif k == count and status in ("resolved", "closed"):
            kind = "resolution"
        else:
            kind = "customer" if k % 2 == 1 else "support"
        texts = replies[kind]
        index = math.floor(r_text * len(texts.source))
        author = (assignee or first_agent) if internal or k % 2 == 0 else subscriber_id
        rows.append((ticket_id, author, texts.source[index], texts.html[index],
                     content.RENDERER_VERSION, internal,
                     created + (updated - created) * k / (count + 1)))
    return rows
