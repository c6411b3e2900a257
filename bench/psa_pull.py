"""PSA pull throughput (issue 11): tickets per second read from a loopback HaloPSA holding
``TICKETS`` tickets, within the connection's request budget.

The loopback HaloPSA (``tests/halo_server.py``: real HTTP on 127.0.0.1) is seeded with
``TICKETS`` tickets and enforces hosted Halo's own limit (300 requests per rolling 5
minutes); the connection has the desk's default budget (150, half of it). One run of the
pull (``services.psa_pull.pull``, as the schedule, "Pull now" and ``flask psa sync`` run it)
is timed whole: 100 pages of 100, every ticket opened through the desk's own services (search
index, SLA clock, routing, tallies, rollups), its link written, the actions read as the
budget allows.

Each new ticket is a ticket of the desk, so the run goes into a scratch database beside the
bench's (``<bench>_psa_pull`` on PostgreSQL, a file beside the SQLite one), migrated first
and dropped after: the bench's own data stays as seeded.
"""

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bench import database

TICKETS = 10_000
BUDGET = 150  # the default: half of hosted Halo's 300 per 5 minutes
HALO_LIMIT = 300
HALO_STATUSES = {"open": "1", "in_progress": "2", "waiting_on_vendor": "3",
                 "waiting_on_customer": "4", "resolved": "8", "closed": "9"}
HALO_PRIORITIES = {"urgent": "1", "high": "2", "normal": "3", "low": "4"}


@dataclass
class Pull:
    """One timed pull: tickets read and created, in how long, with how many requests."""

    tickets: int
    created: int
    seconds: float
    requests: int
    budget: int
    throttled: int  # 429s the loopback Halo had to answer (should be none)
    budget_spent: bool

    @property
    def per_second(self):
        return self.created / self.seconds if self.seconds else 0.0


def scratch_url(url, suffix="_psa_pull"):
    """The scratch database's URL beside the bench's (named with ``suffix``; the mail
    intake's bench has one of its own)."""
    if database.dialect(url) == "sqlite":
        path = database.sqlite_path(url)
        return f"sqlite:///{path.with_name(path.stem + suffix + '.db')}"
    parsed = make_url(database.plain_url(url))
    return parsed.set(database=f"{parsed.database}{suffix}").render_as_string(
        hide_password=False)


def _maintenance(url):
    """The PostgreSQL server's ``postgres`` database, to create and drop others from."""
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def drop_scratch(url):
    """No scratch database (a run may have left one)."""
    if database.dialect(url) == "sqlite":
        Path(database.sqlite_path(url)).unlink(missing_ok=True)
        return
    with database.connect(_maintenance(url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def recreate_scratch(url):
    """An empty scratch database."""
    drop_scratch(url)
    if database.dialect(url) != "sqlite":
        with database.connect(_maintenance(url), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{make_url(url).database}"')


def pull_throughput(url, *, make_app, tickets=TICKETS):
    """Seed a loopback HaloPSA, pull it into a scratch database, time it: a ``Pull``.
    ``make_app(url)``: the app on a database URL (the bench's own factory)."""
    from helpdesk.extensions import db
    from helpdesk.models import PsaConnection, PsaMapping
    from helpdesk.psa.secrets import seal
    from helpdesk.queues import get_redis
    from helpdesk.services.psa_pull import pull
    from tests.halo_server import HaloServer

    scratch = scratch_url(url)
    recreate_scratch(scratch)
    app = make_app(scratch)
    try:
        database.migrate(app)
        with HaloServer() as halo, app.app_context():
            halo.store.seed_tickets(tickets)
            halo.limit_rate(HALO_LIMIT, per_seconds=300)
            connection = PsaConnection(
                name="bench loopback", kind="halopsa", base_url=halo.url,
                auth_url=halo.auth_url, client_id=halo.client_id,
                client_secret_encrypted=seal(halo.client_secret), request_budget=BUDGET)
            db.session.add(connection)
            db.session.flush()
            for kind, table in (("status", HALO_STATUSES), ("priority", HALO_PRIORITIES)):
                db.session.add_all(PsaMapping(connection_id=connection.id, kind=kind,
                                              ours=ours, theirs=theirs)
                                   for ours, theirs in table.items())
            db.session.commit()
            connection_id = connection.id
            redis = get_redis()
            for key in redis.scan_iter(match=f"helpdesk:psa-*:{connection_id}*"):
                redis.delete(key)  # a budget or token left by an earlier run
            started = time.perf_counter()
            result = pull(connection_id)
            seconds = time.perf_counter() - started
            db.session.remove()
            return Pull(tickets=result.read, created=result.created, seconds=seconds,
                        requests=len(halo.received), budget=BUDGET,
                        throttled=sum(1 for r in halo.received if r.status == 429),
                        budget_spent=result.budget_spent)
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_scratch(scratch)


def pull_table(run):
    """The pull's figures as a Markdown table."""
    if run is None:
        return "(not measured in this run)"
    return "\n".join([
        "| tickets read | created | seconds | tickets per second | HTTP requests | budget "
        "| 429s | budget spent |",
        "|--:|--:|--:|--:|--:|--:|--:|:--|",
        f"| {run.tickets:,} | {run.created:,} | {run.seconds:,.1f} | {run.per_second:,.1f} "
        f"| {run.requests:,} | {run.budget} per 5 min | {run.throttled} "
        f"| {'yes' if run.budget_spent else 'no'} |"])
