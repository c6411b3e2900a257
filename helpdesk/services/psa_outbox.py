"""The PSA outbox: which tickets sync where, and the rows written with the change itself.

The services call ``record`` where a change the PSA should know is made (a ticket opened, a
reply or internal note, a status or priority change, a file within the PSA's cap), in the same
transaction: the row is committed with the change or not at all. After the commit its send
job is enqueued (``jobs.psa.send_writes``, one per connection and ticket); the sweep
(``jobs.psa.sweep_writes``) re-dispatches anything left behind. Sending is
``services.psa_push``.

Which tickets sync (``connection_for``): a ticket linked to a connection (``psa_links`` kind
``ticket``, or a ``create_ticket`` row already written for it) syncs there, and nowhere else;
an unlinked ticket syncs to the enabled connection that maps its organisation to a PSA
client, else to an enabled connection with a default client; else nowhere. A ticket that
syncs but is not in the PSA yet (opened before the connection existed) gets its
``create_ticket`` row first, so its actions have a ticket to go to.

A desk without a PSA pays nothing: the enabled connections are read once per request (or
job) and kept in ``g``; with none, ``record`` returns at once and writes no row.

Changes that came FROM the PSA (the pull applies them through the same services, with
``origin="psa"``) are not recorded: the PSA already has them.
"""

import logging

import redis
from flask import g, has_app_context
from rq.job import Job
from sqlalchemy import event, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from helpdesk.extensions import db
from helpdesk.models import PsaConnection, PsaLink, PsaWrite, TicketEvent
from helpdesk.models.timestamps import utcnow
from helpdesk.psa.connector import ATTACHMENT_CAPS
from helpdesk.queues import enqueue, get_redis
from helpdesk.services.outbox import PENDING_JOB_STATUSES

log = logging.getLogger(__name__)

SEND_JOB = "jobs.psa.send_writes"  # by name: jobs import the services, not back
FROM_PSA = "psa"  # ``origin`` of a change the pull applies: never sent back
PSA_LABELS = {"halopsa": "HaloPSA", "connectwise": "ConnectWise", "autotask": "Autotask"}
_CONNECTIONS = "psa_enabled_connections"  # g: this request's enabled connections
_PENDING = "psa_writes_to_dispatch"  # session.info: {(connection, ticket): newest row id}


def psa_label(kind):
    """A PSA kind as people write it: ``HaloPSA``."""
    return PSA_LABELS.get(kind, kind)


def enabled_connections():
    """The enabled connections, read once per request or job: ``{id: PsaConnection}``
    (detached copies of the few columns routing needs are enough, so no lazy loads)."""
    cached = g.get(_CONNECTIONS)
    if cached is None:
        rows = db.session.execute(
            select(PsaConnection.id, PsaConnection.kind, PsaConnection.name,
                   PsaConnection.default_client_id)
            .where(PsaConnection.enabled.is_(True)).order_by(PsaConnection.id)).all()
        cached = {row.id: row for row in rows}
        g.setdefault(_CONNECTIONS, cached)
    return cached


def forget_connections():
    """Read the enabled connections again at the next ``record`` (one was added or changed)."""
    g.pop(_CONNECTIONS, None)


@event.listens_for(PsaConnection, "after_insert")
@event.listens_for(PsaConnection, "after_update")
@event.listens_for(PsaConnection, "after_delete")
def _connections_changed(mapper, connection, target):
    """A connection saved in this app context: the next routing reads them again."""
    if has_app_context():  # without one nothing is cached either
        forget_connections()


def connection_for(ticket):
    """The enabled connection ``ticket`` syncs to (a row of ``enabled_connections``), or
    None; and whether the PSA has (or will have) the ticket: ``(connection, linked)``.

    One statement, on indexed columns: the ticket's link, its ``create_ticket`` row, its
    organisation's link and the connections with a default client, best first.
    """
    connections = enabled_connections()
    if not connections:
        return None, False
    candidates = [
        select(PsaLink.connection_id, literal(0).label("rank"))
        .where(PsaLink.kind == "ticket", PsaLink.local_id == ticket.id),
        select(PsaWrite.connection_id, literal(1).label("rank"))
        .where(PsaWrite.ticket_id == ticket.id, PsaWrite.kind == "create_ticket"),
    ]
    if ticket.organisation_id is not None:
        candidates.append(
            select(PsaLink.connection_id, literal(2).label("rank"))
            .where(PsaLink.kind == "organisation", PsaLink.local_id == ticket.organisation_id))
    found = db.session.execute(union_all(*candidates)).all()
    linked = [connection_id for connection_id, rank in found if rank < 2]
    if linked:  # the PSA has the ticket there: there or nowhere (a disabled connection)
        connection = connections.get(min(linked))
        return connection, connection is not None
    for connection_id, _ in sorted(found, key=lambda row: (row.rank, row.connection_id)):
        if connection_id in connections:
            return connections[connection_id], False
    for connection in connections.values():
        if connection.default_client_id:
            return connection, False
    return None, False


def record(ticket, *, kind, key, change, origin=None):
    """Add the write ``kind`` (a ``WRITE_KINDS`` name) for ``ticket`` to the caller's
    transaction, unless the ticket syncs nowhere or the change came from the PSA
    (``origin="psa"``). ``key`` is the idempotency key (``reply-12``): announced twice, it
    is one row. ``change`` says what to send in our words (ids and values); the send job
    reads the rest from the current data. Returns the row's id, or None when nothing was
    written. The send job is enqueued after the commit."""
    if origin == FROM_PSA:
        return None
    connection, linked = connection_for(ticket)
    if connection is None:
        return None
    if not linked and kind != "create_ticket":
        _add(connection.id, ticket.id, kind="create_ticket", key=f"ticket-{ticket.id}",
             change=ticket_snapshot(ticket))
    return _add(connection.id, ticket.id, kind=kind, key=key, change=change)


def record_attachment(ticket, attachment, *, origin=None):
    """Record a file for the PSA, within that PSA's cap; a file over it is not sent, and the
    ticket's timeline says so (staff only). Returns the row's id or None."""
    if origin == FROM_PSA:
        return None
    connection, _ = connection_for(ticket)
    if connection is None:
        return None
    cap = ATTACHMENT_CAPS.get(connection.kind)
    if cap is not None and attachment.size > cap:
        db.session.add(TicketEvent(
            ticket_id=ticket.id, kind="psa_sync", internal=True, created_at=utcnow(),
            new_value=f"{attachment.filename} not sent: too large for "
                      f"{psa_label(connection.kind)} ({cap // (1024 * 1024)} MB)"))
        return None
    return record(ticket, kind="upload_attachment", key=f"attachment-{attachment.id}",
                  change={"attachment_id": attachment.id})


def record_field_change(ticket, event, *, origin=None):
    """Record a status or priority change (a timeline ``event``) as a ticket update; other
    events (assignment, category, team, SLA) stay ours. Its key names the event."""
    field = FIELD_CHANGES.get(event.kind)
    if field is None or origin == FROM_PSA or not enabled_connections():
        return None
    if event.id is None:
        db.session.flush()  # the event's id is the write's key
    return record(ticket, kind="update_ticket", key=f"{event.kind}-{ticket.id}-{event.id}",
                  change={field: event.new_value}, origin=origin)


# Timeline event kinds the PSA hears of, and the field of ours each one changes. (A category
# is a ticket type there, set on a new ticket: ``TicketChanges`` cannot change it.)
FIELD_CHANGES = {"status": "status", "priority": "priority"}


def ticket_snapshot(ticket):
    """What a new PSA ticket says of ours at the moment it is recorded."""
    return {"status": ticket.status, "priority": ticket.priority,
            "category_id": ticket.category_id}


def _add(connection_id, ticket_id, *, kind, key, change):
    """Insert the row unless its key is there (one statement: ``ON CONFLICT DO NOTHING``);
    its id, or None when it was there already."""
    now = utcnow()
    statement = (
        insert_ignoring(PsaWrite)
        .values(connection_id=connection_id, ticket_id=ticket_id, kind=kind, key=key,
                marker=f"hd-{key}", change=change, state="queued", attempts=0,
                next_attempt_at=now, created_at=now)
        .on_conflict_do_nothing(index_elements=["connection_id", "key"])
        .returning(PsaWrite.id)
    )
    row_id = db.session.execute(statement).scalar()
    if row_id is not None:
        pending = db.session.info.setdefault(_PENDING, {})
        pending[(connection_id, ticket_id)] = max(row_id, pending.get((connection_id,
                                                                       ticket_id), 0))
    return row_id


def insert_ignoring(model):
    """An INSERT of ``model`` in the database's dialect, for ``.on_conflict_do_nothing``."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(model)


def send_job_id(connection_id, ticket_id, row_id, attempts=0, why=""):
    """The RQ job id of a ticket's send job for the row that asked for it (at that row's
    attempt count, and ``why`` if that is not enough): enqueued twice, it is one job."""
    return f"psa-{connection_id}-{ticket_id}-w{row_id}-a{attempts}{'-' + why if why else ''}"


def dispatch(connection_id, ticket_id, row_id, *, attempts=0, at=None, why=""):
    """Enqueue the send job of a ticket's committed rows on the ``psa`` queue (at ``at``:
    a retry's back-off). Redis being away leaves the rows for the sweep."""
    try:
        enqueue(SEND_JOB, connection_id, ticket_id, queue="psa", at=at,
                job_id=send_job_id(connection_id, ticket_id, row_id, attempts, why))
    except redis.RedisError as error:
        log.warning("PSA writes of ticket %s stay queued for the sweep: %s", ticket_id, error)


def job_pending(connection_id, ticket_id, row_id, attempts):
    """Will the send job of that row and attempt still run?"""
    job = Job.fetch_many([send_job_id(connection_id, ticket_id, row_id, attempts)],
                         connection=get_redis())[0]
    return job is not None and job.get_status(refresh=False) in PENDING_JOB_STATUSES


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session):
    """Enqueue the send jobs of the rows this transaction wrote, now that they exist."""
    pending = session.info.pop(_PENDING, None)
    for (connection_id, ticket_id), row_id in sorted((pending or {}).items()):
        dispatch(connection_id, ticket_id, row_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session, previous_transaction):
    """Rolled back: the rows are gone, and nothing is sent."""
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
