"""The PSA's dead letters: writes the PSA refused for good or whose retries ran out.

An admin reads each one (ticket, kind, attempts, the request payload, the PSA's answer, the
error) at /admin/psa/dead-letters and either retries it or discards it with a reason, one
at a time or several at once; each is in the audit log with the admin as actor.

Retry puts the row back to ``queued`` with its attempts reset, so it gets the full round of
back-off again (after an outage, say). It is not sent blindly: a row that was attempted
before is looked up by its marker first (``services.psa_push``), so a write the PSA did
take is never made twice. Discard leaves the row ``discarded`` with the reason and who;
the ticket's later writes, which waited behind it, go on.
"""

from types import SimpleNamespace

from sqlalchemy import select, update

from helpdesk.extensions import db
from helpdesk.keyset import decode_cursor, read_page
from helpdesk.models import PsaWrite
from helpdesk.models.timestamps import utcnow
from helpdesk.services import audit, psa_outbox
from helpdesk.services.errors import Refused

PER_PAGE = 25
MAX_REASON_LENGTH = 500
MAX_SELECTED = 500
ORDER = ((PsaWrite.id, True),)  # newest first
KIND_LABELS = {"create_ticket": "new ticket", "update_ticket": "ticket change",
               "add_action": "reply or note", "upload_attachment": "attachment"}


class DeadLetterError(Refused):
    """A retry or discard that cannot be done; the message says why."""


def dead_page(*, cursor=None, per_page=PER_PAGE):
    """One page of dead writes, newest first (keyset: ``cursor`` from ``Page.next_cursor``),
    with their connection loaded: ``(rows, page)``."""
    after = decode_cursor(cursor, ORDER) if cursor else None
    page = read_page([PsaWrite.state == "dead"], ORDER, per_page=per_page, after=after)
    rows = []
    if page.ids:
        found = {row.id: row for row in db.session.scalars(
            select(PsaWrite).where(PsaWrite.id.in_(page.ids)))}
        rows = [found[row_id] for row_id in page.ids if row_id in found]
    return rows, page


def dead_count():
    """How many writes are dead (the page's heading)."""
    return db.session.scalar(select(db.func.count()).select_from(PsaWrite)
                             .where(PsaWrite.state == "dead"))


def dead_ids():
    """Every dead write's id (``all`` in a bulk form), oldest first, at most
    ``MAX_SELECTED``."""
    return db.session.scalars(select(PsaWrite.id).where(PsaWrite.state == "dead")
                              .order_by(PsaWrite.id).limit(MAX_SELECTED)).all()


def retry(write_ids, *, actor):
    """Put dead writes back in the queue (attempts reset); returns how many. Writes no
    longer dead (another admin was quicker) are left alone."""
    rows = _dead_rows(write_ids)
    if rows:
        db.session.execute(
            update(PsaWrite).where(PsaWrite.id.in_([row.id for row in rows]),
                                   PsaWrite.state == "dead")
            .values(state="queued", attempts=0, next_attempt_at=utcnow(), claimed_at=None)
            .execution_options(synchronize_session=False))
    return _finish(rows, action="psa.retry", actor=actor, reason=None)


def discard(write_ids, *, actor, reason):
    """Give dead writes up, with a reason (required); returns how many."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DeadLetterError("Say why these writes are given up.", field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise DeadLetterError(f"The reason can be at most {MAX_REASON_LENGTH} characters.",
                              field="reason")
    rows = _dead_rows(write_ids)
    if rows:
        db.session.execute(
            update(PsaWrite).where(PsaWrite.id.in_([row.id for row in rows]),
                                   PsaWrite.state == "dead")
            .values(state="discarded", discard_reason=reason,
                    discarded_by_id=getattr(actor, "id", None))
            .execution_options(synchronize_session=False))
    return _finish(rows, action="psa.discard", actor=actor, reason=reason)


def _dead_rows(write_ids):
    ids = sorted(set(write_ids or ()))[:MAX_SELECTED]
    if not ids:
        raise DeadLetterError("Pick at least one write.", field="write")
    rows = db.session.scalars(select(PsaWrite).where(PsaWrite.id.in_(ids),
                                                     PsaWrite.state == "dead")).all()
    if not rows:
        raise DeadLetterError("Those writes are no longer in the dead letters.",
                              field="write")
    return rows


def _finish(rows, *, action, actor, reason):
    """One audit entry per write, the commit, then each ticket's send job (its queue moves
    on: the retried write goes, or the writes behind a discarded one)."""
    for row in rows:
        audit.record(action, actor=actor, ticket=SimpleNamespace(id=row.ticket_id),
                     field=row.kind, old=row.key, new=reason)
    tickets = {(row.connection_id, row.ticket_id): row.id for row in rows}
    db.session.commit()
    for (connection_id, ticket_id), row_id in sorted(tickets.items()):
        psa_outbox.dispatch(connection_id, ticket_id, row_id, why=f"{action[4:]}{row_id}")
    return len(rows)
