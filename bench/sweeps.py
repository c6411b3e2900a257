"""The background sweeps, timed in process at the bench's size (issue 10: the SLA sweep
must touch only the tickets near a threshold, under 1 s at 1,000,000 tickets).

The SLA sweep (``helpdesk.sla.sweep.sweep``, every minute from ``jobs/cron.py``) runs three
times, as if an hour had passed with no sweep (every check due within the hour at once, up to
one batch: the worst minute), then as the two minutes after, each over what fell due since.
Each run is timed
whole (selection, every claim, event, audit entry and notice, each commit), with the
statements it sent and the tickets it read, so a cost that follows the whole table rather than
the tickets due would show as time and statements out of proportion to the tickets read.

The runs share one transaction that is rolled back afterwards (the sweep's commits become
savepoints in it, as in the tests), so every bench run measures the same backlog of the
seeded data rather than what an earlier run left; a commit's flush to disk is not in the
times (the sweep commits in groups: a few per run).
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import event

from helpdesk.extensions import db

TARGET_MS = 1000.0  # per run, at 1,000,000 tickets
# Each run, and how far ahead of now it runs.
RUNS = (("SLA sweep: an hour's checks at once (up to a batch)", timedelta(hours=1)),
        ("SLA sweep: the minute after", timedelta(hours=1, minutes=1)),
        ("SLA sweep: the minute after that", timedelta(hours=1, minutes=2)))


@dataclass
class Sweep:
    """One timed run of a sweep."""

    label: str
    ms: float
    statements: int
    read: int
    changed: int

    @property
    def met(self):
        return self.ms < TARGET_MS


def sla_sweeps(app):
    """Run the SLA sweep ``len(RUNS)`` times; a ``Sweep`` for each."""
    from helpdesk.models.timestamps import utcnow
    from helpdesk.sla.sweep import sweep

    done = []
    with app.app_context():
        statements = []

        def count(*_args):
            statements.append(1)

        db.session.remove()
        connection = db.engine.connect()
        outer = connection.begin()
        session = _joined_session(db, connection)
        db.session.registry.set(session)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            start = utcnow()
            for label, ahead in RUNS:
                statements.clear()
                started = time.perf_counter()
                result = sweep(now=start + ahead)
                ms = (time.perf_counter() - started) * 1000
                done.append(Sweep(label, ms, len(statements), result.checked,
                                  result.state_changes + result.escalations + result.closed))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
            session.close()
            db.session.registry.clear()
            outer.rollback()
            connection.close()
    return done


def _joined_session(database, connection):
    """A ``db.session`` on ``connection``'s transaction, whose commits are savepoints."""
    base = type(database.session.session_factory())

    class Joined(base):
        def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
            return connection

    return Joined(database, bind=connection, join_transaction_mode="create_savepoint")


def sweeps_table(sweeps):
    """The sweeps' runs, with the target."""
    if not sweeps:
        return "(not measured in this run)"
    lines = ["| run | ms | statements | tickets read | changes | verdict |",
             "|---|--:|--:|--:|--:|---|"]
    for s in sweeps:
        verdict = "ok" if s.met else f"**MISS** (≥ {TARGET_MS:.0f} ms)"
        lines.append(f"| {s.label} | {s.ms:,.1f} | {s.statements:,} | {s.read:,} | {s.changed:,}"
                     f" | {verdict} |")
    return "\n".join(lines)
