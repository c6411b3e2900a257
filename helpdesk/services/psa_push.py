"""Sending the PSA outbox: one ticket's writes, in order, each exactly once.

``send_ticket`` (the job ``jobs.psa.send_writes``, one per connection and ticket) sends the
ticket's due rows in id order: a row waits while an earlier row of its ticket is not sent
(``queued``, ``sending`` by another worker, or ``dead`` until an admin retries or discards
it), so writes to one ticket keep their order and its actions follow its creation.

Each row is claimed first (a conditional UPDATE, ``queued`` to ``sending``, committed), so two
workers never send the same row. Then:
- before any attempt but a row's very first, and after an ``OutcomeUnknown`` (a timeout, a
  reset, a lost response), the PSA is asked for the write by its marker, and a hit counts
  as sent: a write is never made twice;
- sent: the PSA's id and the links (ticket, reply, time entry, attachment) are kept, the row
  is ``sent``;
- a transient error goes back to ``queued`` after a back-off (``RETRY_SECONDS``; a 429 waits
  what the PSA asked); after the last attempt the row is ``dead``;
- ``BudgetSpent``: back to ``queued`` without counting an attempt, ``BUDGET_WAIT`` later;
- a non-transient error (the PSA refused it, a mapping is missing) is ``dead`` at once.

The audit log has one entry per attempt that reached (or may have reached) the PSA, with the
request payload and the answer: a retried write shows every request that went out, which is
what an admin needs when the PSA holds something unexpected. ``sweep`` takes back rows a
killed worker left ``sending`` and re-dispatches rows whose job was lost.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import case, select, update

from helpdesk.extensions import db
from helpdesk.models import PsaConnection, PsaLink, PsaWrite
from helpdesk.models.timestamps import utcnow
from helpdesk.psa.connector import BudgetSpent, OutcomeUnknown, PsaError, RateLimited
from helpdesk.services import audit, psa_outbox, psa_requests
from helpdesk.services.psa_connector import connector_of

log = logging.getLogger(__name__)

RETRY_SECONDS = (10, 60, 300, 900, 3600)  # after attempts 1..5; the 6th failure is dead
MAX_ATTEMPTS = len(RETRY_SECONDS) + 1
BUDGET_WAIT = timedelta(seconds=30)  # the budget's window rolls: try again soon
# Far longer than one write takes (a few requests of at most 20 s, a 429's wait), so a live
# worker is never overtaken; RQ kills a psa job after 600 s.
SENDING_TIMEOUT = timedelta(minutes=15)
LEFT_BEHIND_AFTER = timedelta(minutes=2)  # a due row's job has had time to run
PENDING_STATES = ("queued", "sending", "dead")  # not through yet: later rows wait
WORKER_GONE = "the worker stopped while sending (no result recorded)"


@dataclass(frozen=True)
class Claim:
    """One worker's hold on one row, at its ``attempt`` (``attempts`` after the claim):
    ``row`` has the row's columns as they were claimed (a plain row, nothing to reload)."""

    row: object
    attempt: int


# What an attempt reads of its row, returned by the claim itself.
CLAIMED = (PsaWrite.id, PsaWrite.connection_id, PsaWrite.ticket_id, PsaWrite.kind,
           PsaWrite.key, PsaWrite.marker, PsaWrite.change, PsaWrite.attempts,
           PsaWrite.last_error)


def send_ticket(connection_id, ticket_id, *, connector=None, now=None, schedule=True):
    """Send the due writes of one ticket to one connection, oldest first, until one is not
    sent; returns how many were sent. ``connector``: one to reuse (else one is made and
    closed); ``now``: the clock (tests and the bench drive it); ``schedule``: enqueue the
    job of a retry's back-off (the sweep would find it anyway)."""
    stored = db.session.get(PsaConnection, connection_id)
    if stored is None or not stored.enabled:
        return 0
    connection = SimpleNamespace(id=stored.id, kind=stored.kind, name=stored.name,
                                 default_client_id=stored.default_client_id,
                                 new_ticket_fields=stored.new_ticket_fields)
    own = None
    sent = 0
    try:
        while True:
            moment = now or utcnow()
            claim = _claim_head(connection_id, ticket_id, moment)
            if claim is None:
                return sent  # done, not due yet, behind a row not through, or taken
            if connector is None:
                try:
                    connector = own = connector_of(stored)
                except PsaError as error:  # the secret cannot be read: an admin must act
                    _dead(claim, connection, error=str(error), payload=None)
                    return sent
            if _attempt(claim, connection, connector, moment, schedule=schedule) != "sent":
                return sent
            sent += 1
    finally:
        if own is not None:
            own.close()


def _claim_head(connection_id, ticket_id, now):
    """Take the ticket's oldest write that is not through yet, if it is queued and due, for
    sending: one conditional UPDATE, committed before anything is sent, so of two workers
    exactly one gets it (PostgreSQL makes the second wait for the first's commit, then finds
    the row no longer queued). None when there is nothing to send now: no write left, the
    oldest one not due, ``sending`` elsewhere or ``dead`` (the later ones wait behind it)."""
    head = (select(PsaWrite.id)
            .where(PsaWrite.ticket_id == ticket_id, PsaWrite.connection_id == connection_id,
                   PsaWrite.state.in_(PENDING_STATES))
            .order_by(PsaWrite.id).limit(1).scalar_subquery())
    row = db.session.execute(
        update(PsaWrite)
        .where(PsaWrite.id == head, PsaWrite.state == "queued",
               PsaWrite.next_attempt_at <= now)
        .values(state="sending", attempts=PsaWrite.attempts + 1, claimed_at=now)
        .returning(*CLAIMED)
        .execution_options(synchronize_session=False)).first()
    db.session.commit()
    return None if row is None else Claim(row=row, attempt=row.attempts)


def _attempt(claim, connection, connector, now, *, schedule):
    """One attempt at one claimed row; returns the state it was left in."""
    row = claim.row
    tried_before = claim.attempt > 1 or row.last_error is not None
    try:
        request = psa_requests.build(row, connection)
    except psa_requests.NotSendable as error:
        return _dead(claim, connection, error=str(error), payload=None)
    try:
        external_id, how = None, None
        if tried_before and request.find is not None:
            external_id = request.find(connector)
            how = "found by its marker (not sent again)" if external_id else None
        if how is None:
            external_id, how = request.send(connector), "sent"
    except BudgetSpent:
        _wait_for_budget(claim, now, schedule=schedule)
        return "queued"
    except OutcomeUnknown as unknown:
        external_id = _find_after(request, connector)
        if external_id is None:
            return _failed(claim, connection, unknown, request.payload, now, schedule=schedule)
        how = f"found by its marker after: {unknown} (not sent again)"
    except PsaError as error:
        return _failed(claim, connection, error, request.payload, now, schedule=schedule)
    return _sent(claim, connection, request, external_id, how, connector)


def _find_after(request, connector):
    """After an unknown outcome: the write's id if the PSA has it, else None (also when
    asking fails: the next attempt asks again before sending)."""
    if request.find is None:
        return None
    try:
        return request.find(connector)
    except PsaError:
        return None


def _settle(claim, **values):
    """Record how a claim ended, if it is still ours (the sweep may have taken a stalled
    claim back and another worker claimed the row again). False, and nothing kept, if not."""
    settled = db.session.execute(
        update(PsaWrite)
        .where(PsaWrite.id == claim.row.id, PsaWrite.state == "sending",
               PsaWrite.attempts == claim.attempt)
        .values(**values)
        .execution_options(synchronize_session=False)).rowcount
    if settled != 1:
        db.session.rollback()
        log.warning("PSA write %s: attempt %s was taken back before it ended", claim.row.id,
                    claim.attempt)
    return settled == 1


def _audit(claim, connection, payload, outcome):
    """The attempt in the audit log: the request sent and the PSA's answer."""
    row = claim.row
    audit.record("psa.write", actor=None, ticket=SimpleNamespace(id=row.ticket_id),
                 field=row.kind, old=psa_requests.payload_text(payload) if payload else None,
                 new=f"{psa_outbox.psa_label(connection.kind)} {connection.name}, attempt "
                     f"{claim.attempt}: {outcome}")


def _sent(claim, connection, request, external_id, how, connector):
    exchange = connector.last_exchange  # the PSA's answer to the last request: its status
    status = exchange.status if exchange is not None else None
    if not _settle(claim, state="sent", sent_at=utcnow(), external_id=external_id,
                   request_payload=request.payload, response_status=status,
                   response_body=None, last_error=None):
        return "taken back"
    url = None
    if request.ticket_link and external_id is not None:
        url = connector.ticket_url(external_id)
    for kind, local_id in request.links:
        _link(connection.id, kind, local_id, external_id, url=url if kind == "ticket" else None)
    if request.fields:
        _remember_fields(connection.id, claim.row.ticket_id, request.fields)
    _audit(claim, connection, request.payload,
           f"{how}" + (f", id {external_id}" if external_id else "")
           + (f" (HTTP {status})" if status else ""))
    db.session.commit()
    return "sent"


def _link(connection_id, kind, local_id, external_id, *, url=None):
    """Keep what our row is in the PSA (a link the pull wrote first stays)."""
    if external_id is None:
        return
    db.session.execute(
        psa_outbox.insert_ignoring(PsaLink)
        .values(connection_id=connection_id, kind=kind, local_id=local_id,
                external_id=str(external_id), url=url, synced_at=utcnow())
        .on_conflict_do_nothing(index_elements=["connection_id", "kind", "local_id"]))


def _remember_fields(connection_id, ticket_id, fields):
    """The PSA now holds ``fields`` (status and priority ids) as we sent them: the ticket's
    link keeps them as the PSA's last known values, so that a pull, even the first of a
    ticket we created, sees the PSA keeping them rather than changing them, and a newer
    change of ours still waiting in the outbox stands though the PSA's ticket was updated
    later for another reason."""
    link = db.session.scalar(select(PsaLink).where(
        PsaLink.connection_id == connection_id, PsaLink.kind == "ticket",
        PsaLink.local_id == ticket_id))
    if link is not None:
        link.remote_fields = {**(link.remote_fields or {}), **fields}


def _failed(claim, connection, error, payload, now, *, schedule):
    """A refused or failed attempt: back to the queue after its back-off, or dead."""
    if not error.transient or claim.attempt >= MAX_ATTEMPTS:
        return _dead(claim, connection, error=_said(error), payload=payload, psa_error=error)
    if isinstance(error, RateLimited):
        wait = timedelta(seconds=max(1, float(error.retry_after or 1)))
    else:
        wait = timedelta(seconds=RETRY_SECONDS[claim.attempt - 1])
    at = now + wait
    if not _settle(claim, state="queued", next_attempt_at=at, claimed_at=None,
                   request_payload=payload, response_status=error.status,
                   response_body=_trim(error.response_body), last_error=_said(error)):
        return "taken back"
    _audit(claim, connection, payload,
           f"{_said(error)}; next attempt in {int(wait.total_seconds())} s")
    db.session.commit()
    if schedule:
        psa_outbox.dispatch(connection.id, claim.row.ticket_id, claim.row.id,
                            attempts=claim.attempt, at=at)
    return "queued"


def _dead(claim, connection, *, error, payload, psa_error=None):
    """For the dead letters: the PSA refused it for good, or the retries are spent."""
    if not _settle(claim, state="dead", claimed_at=None, request_payload=payload,
                   response_status=getattr(psa_error, "status", None),
                   response_body=_trim(getattr(psa_error, "response_body", None)),
                   last_error=error[:2000]):
        return "taken back"
    _audit(claim, connection, payload, f"{error}; now in the dead letters")
    db.session.commit()
    return "dead"


def _wait_for_budget(claim, now, *, schedule):
    """The budget is spent: back to the queue as it was, the attempt not counted, and a job
    for when the window has rolled on (its own job id: this attempt's is running now)."""
    at = now + BUDGET_WAIT
    if not _settle(claim, state="queued", attempts=claim.attempt - 1, claimed_at=None,
                   next_attempt_at=at):
        return
    db.session.commit()
    if schedule:
        psa_outbox.dispatch(claim.row.connection_id, claim.row.ticket_id, claim.row.id,
                            attempts=claim.attempt - 1, at=at,
                            why=f"budget{int(at.timestamp())}")


def _said(error):
    """What the PSA answered, in one line: ``HTTP 400: Summary is required``."""
    return f"HTTP {error.status}: {error}" if error.status else str(error)


def _trim(body):
    if body is None:
        return None
    return body if isinstance(body, str) and len(body) <= 4000 else str(body)[:4000]


def due_tickets(*, now=None, connection_id=None, limit=None):
    """``(connection_id, ticket_id)`` pairs with a queued row due by ``now``."""
    query = (select(PsaWrite.connection_id, PsaWrite.ticket_id)
             .where(PsaWrite.state == "queued", PsaWrite.next_attempt_at <= (now or utcnow()))
             .group_by(PsaWrite.connection_id, PsaWrite.ticket_id)
             .order_by(PsaWrite.connection_id, PsaWrite.ticket_id))
    if connection_id is not None:
        query = query.where(PsaWrite.connection_id == connection_id)
    if limit is not None:
        query = query.limit(limit)
    return [tuple(row) for row in db.session.execute(query)]


def sweep(*, now=None, claimed_before=None, due_before=None, limit=1000):
    """The minutely sweep: rows left ``sending`` since before ``claimed_before`` (their worker
    died) go back to ``queued`` (``dead`` when no attempt is left) and are dispatched at
    once; tickets whose due rows were due before ``due_before`` and whose job will not run
    get a new one. Returns how many tickets were dispatched."""
    now = now or utcnow()
    claimed_before = claimed_before or now - SENDING_TIMEOUT
    due_before = due_before or now - LEFT_BEHIND_AFTER
    taken_back = db.session.execute(
        update(PsaWrite)
        .where(PsaWrite.state == "sending", PsaWrite.claimed_at < claimed_before)
        .values(state=case((PsaWrite.attempts >= MAX_ATTEMPTS, "dead"), else_="queued"),
                last_error=WORKER_GONE, next_attempt_at=now, claimed_at=None)
        .returning(PsaWrite.connection_id, PsaWrite.ticket_id, PsaWrite.id, PsaWrite.state,
                   PsaWrite.attempts)
        .execution_options(synchronize_session=False)).all()
    db.session.commit()
    seen, dispatched = set(), 0
    for connection_id, ticket_id, row_id, state, attempts in taken_back:
        if state == "queued" and (connection_id, ticket_id) not in seen:
            seen.add((connection_id, ticket_id))
            psa_outbox.dispatch(connection_id, ticket_id, row_id, attempts=attempts)
            dispatched += 1
    heads = db.session.execute(
        select(PsaWrite.connection_id, PsaWrite.ticket_id, PsaWrite.id, PsaWrite.attempts)
        .where(PsaWrite.state == "queued", PsaWrite.next_attempt_at < due_before)
        .order_by(PsaWrite.id).limit(limit)).all()
    for connection_id, ticket_id, row_id, attempts in heads:
        if (connection_id, ticket_id) in seen:
            continue  # the ticket's oldest due row names its job
        seen.add((connection_id, ticket_id))
        if not psa_outbox.job_pending(connection_id, ticket_id, row_id, attempts):
            psa_outbox.dispatch(connection_id, ticket_id, row_id, attempts=attempts)
            dispatched += 1
    return dispatched
