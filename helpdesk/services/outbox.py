"""The outbox: rows written with the change that causes them, sent afterwards by a job.

Notifications (``services.notifications``) and account mail (``services.outgoing_mail``)
are outboxes: a table with ``state``, ``attempts``, ``claimed_at``, ``last_error``,
``sent_at`` and ``created_at``, and one RQ send job per row. ``Outbox`` is their life cycle,
written once:

- ``dispatch`` enqueues a committed row's send job (one job id per row, however often);
  Redis being away leaves the row ``queued`` for the sweep. ``dispatch_on_commit`` is what
  services call while writing rows: their jobs are enqueued when the transaction commits,
  and forgotten when it rolls back, so no caller has to remember to and a rolled-back change
  sends nothing.
- ``send`` runs in the job: it ``claim``s the row, which makes it ``sending`` in one
  conditional UPDATE, so two workers (or RQ delivering the job twice) never both send it;
  only the claimer ``settle``s it, with the state its sender returns, or puts it back to
  ``queued`` after a transient failure (``retry_later``) until the last attempt, ``failed``.
- ``dispatch_left_behind`` is the periodic sweep: rows ``sending`` since before a timeout
  (their worker died) go back to ``queued``, and every ``queued`` row whose job will not run
  gets a new one.

That makes delivery at least once: a worker that dies after the mail server took the
message but before it recorded ``sent`` leaves ``sending``, and the message goes out again.
A rare duplicate (with the same Message-ID) is better than a message silently lost.
"""

import logging
from dataclasses import dataclass

import redis
from rq.job import Job, JobStatus
from sqlalchemy import case, event, select, update
from sqlalchemy.orm import Session

from helpdesk.extensions import db
from helpdesk.models.timestamps import utcnow
from helpdesk.queues import RETRY_INTERVALS, enqueue, get_redis

log = logging.getLogger(__name__)

MAX_ATTEMPTS = len(RETRY_INTERVALS) + 1
# RQ statuses of a job that will still run; any other (or no job at all) means none will.
PENDING_JOB_STATUSES = frozenset({
    JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED,
})


def describe(error):
    """An exception as one line for ``last_error``: its type and message."""
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class Claim:
    """One worker's hold on one row: which row, which attempt, and the row loaded.

    ``attempt`` tells this claim from a later one (every claim adds one to ``attempts``).
    """

    row_id: int
    attempt: int
    row: object


class Outbox:
    """The life cycle of one outbox table (``model``), sent by the job named ``send_job``
    (a dotted name, so services need not import jobs); ``name`` prefixes job ids and logs."""

    def __init__(self, model, *, send_job, name):
        self.model, self.send_job, self.name = model, send_job, name
        _OUTBOXES.append(self)

    @property
    def _pending_key(self):
        return f"{self.name}_rows_to_dispatch"  # in session.info

    def dispatch_on_commit(self, rows):
        """Enqueue the send jobs of ``rows`` (flushed) once the session's transaction
        commits; nothing if it rolls back."""
        db.session.info.setdefault(self._pending_key, set()).update(row.id for row in rows)

    def send_job_id(self, row_id):
        """The RQ job id of a row's send job: one id, however often it is enqueued."""
        return f"{self.name}-{row_id}"

    def dispatch(self, row_ids):
        """Enqueue the send job of committed rows; Redis trouble leaves them for the sweep."""
        for row_id in row_ids:
            try:
                enqueue(self.send_job, row_id, queue="notifications",
                        job_id=self.send_job_id(row_id))
            except redis.RedisError as error:
                log.warning("%s %s stays queued for the sweep: %s", self.name, row_id, error)

    def claim(self, row_id):
        """Take a queued row for sending: a ``Claim`` for the one caller that got it.

        One UPDATE with the state in its WHERE clause decides, so of two workers claiming at
        once exactly one changes the row (PostgreSQL makes the second wait for the first's
        commit, then finds the row no longer queued; SQLite has one writer at a time). The
        claim is committed before anything is sent, so everyone else sees ``sending`` from
        then on. None when the row is not queued (sent, settled otherwise, or being sent).
        """
        model = self.model
        attempt = db.session.execute(
            update(model)
            .where(model.id == row_id, model.state == "queued")
            .values(state="sending", attempts=model.attempts + 1, claimed_at=utcnow())
            .returning(model.attempts)
            .execution_options(synchronize_session=False)
        ).scalar()
        db.session.commit()
        if attempt is None:
            return None
        return Claim(row_id=row_id, attempt=attempt, row=db.session.get(model, row_id))

    def settle(self, claim, *, state, error=None, **fields):
        """Record how a claim ended (and any other ``fields`` of the row); False, and nothing
        written, when it was no longer ours: the sweep took a stalled claim back and another
        worker claimed the row again, so the first worker's late result changes nothing."""
        model = self.model
        values = {"state": state, "last_error": error[:2000] if error else None, **fields}
        if state == "sent":
            values["sent_at"] = utcnow()
        settled = db.session.execute(
            update(model)
            .where(model.id == claim.row_id, model.state == "sending",
                   model.attempts == claim.attempt)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if settled != 1:
            log.warning("%s %s: attempt %s was taken back before it ended %s",
                        self.name, claim.row_id, claim.attempt, state)
        return settled == 1

    def retry_later(self, claim, *, error):
        """After a failed attempt: back to ``queued`` for the retry, or ``failed`` after the
        last. Returns the state recorded."""
        db.session.rollback()  # the failure may have left the session unusable
        state = "failed" if claim.attempt >= MAX_ATTEMPTS else "queued"
        self.settle(claim, state=state, error=error)
        return state

    def send(self, row_id, sender):
        """Send one row if this run claims it; returns the row's state.

        ``sender(row)`` sends (or decides not to) and returns ``(state, fields)``: the final
        state and what to record with it (``error`` and any column of the row). Whatever it
        raises is transient: recorded on the row, which goes back to ``queued``, and raised
        again so that RQ retries with back-off; after the last attempt the row is ``failed``.
        """
        taken = self.claim(row_id)
        if taken is None:  # already settled, or another worker is sending it right now
            row = db.session.get(self.model, row_id)
            return row.state if row else "missing"
        try:
            state, fields = sender(taken.row)
        except Exception as error:
            state = self.retry_later(taken, error=describe(error))
            log.warning("%s %s, attempt %s: %s (now %s)", self.name, row_id, taken.attempt,
                        describe(error), state)
            raise
        # Not inside the try: once the mail server has the message, a failure to record it
        # must not put the row back for another send (the sweep will, after the timeout).
        self.settle(taken, state=state, **fields)
        return state

    def take_back_stalled_claims(self, claimed_before):
        """Hand rows stuck in ``sending`` since before ``claimed_before`` back to the queue
        (their worker died mid-send); one with no attempts left is ``failed``. Returns the
        ids put back to ``queued``."""
        model = self.model
        returned = db.session.execute(
            update(model)
            .where(model.state == "sending", model.claimed_at < claimed_before)
            .values(state=case((model.attempts >= MAX_ATTEMPTS, "failed"), else_="queued"),
                    last_error="the worker stopped while sending (no result recorded)")
            .returning(model.id, model.state)
            .execution_options(synchronize_session=False)
        ).all()
        db.session.commit()
        return [row_id for row_id, state in returned if state == "queued"]

    def queued_without_a_job(self, created_before):
        """Ids of ``queued`` rows made before ``created_before`` that no RQ job will send:
        the job never reached Redis (it was away at commit time), or it is gone (Redis lost
        it, or it ended without settling the row)."""
        model = self.model
        waiting = db.session.scalars(
            select(model.id).where(model.state == "queued", model.created_at < created_before)
            .order_by(model.id)
        ).all()
        jobs = Job.fetch_many([self.send_job_id(i) for i in waiting], connection=get_redis())
        return [row_id for row_id, job in zip(waiting, jobs, strict=True)
                if job is None or job.get_status(refresh=False) not in PENDING_JOB_STATUSES]

    def dispatch_left_behind(self, *, claimed_before, created_before):
        """The sweep: a new send job for rows a dead worker left ``sending`` (claimed before
        ``claimed_before``) and for ``queued`` rows older than ``created_before`` whose job
        will not run. Returns how many were dispatched."""
        taken_back = self.take_back_stalled_claims(claimed_before)
        stalled = sorted(set(taken_back) | set(self.queued_without_a_job(created_before)))
        self.dispatch(stalled)
        return len(stalled)


_OUTBOXES = []  # every Outbox made, for the session hooks below


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session):
    """Enqueue the send jobs of the rows this transaction wrote, now that they are committed
    (Redis being away leaves them for the sweep, ``Outbox.dispatch``)."""
    for outbox in _OUTBOXES:
        pending = session.info.pop(outbox._pending_key, None)
        if pending:
            outbox.dispatch(sorted(pending))


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session, previous_transaction):
    """Rolled back: the rows are gone, and nothing is sent."""
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        for outbox in _OUTBOXES:
            session.info.pop(outbox._pending_key, None)
