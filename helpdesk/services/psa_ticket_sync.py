"""A ticket's sync with the PSA, as its chip on the desk shows it: synced (with a link to the
PSA's ticket), pending (writes still to send) or failed (the reason; the writes behind it
wait). Staff and resellers only: the portal never asks.

Nothing at all without an enabled connection (no query: ``psa_outbox.enabled_connections``
is read once per request anyway); else one statement on the ticket's writes
(``ix_psa_writes_ticket_id_id``) and its link, and the failed write's reason only when
there is one.
"""

from dataclasses import dataclass

from sqlalchemy import case, func, select

from helpdesk.extensions import db
from helpdesk.models import PsaConnection, PsaLink, PsaWrite
from helpdesk.services.psa_outbox import enabled_connections, psa_label


@dataclass(frozen=True)
class TicketSync:
    """What the chip says: ``state`` is ``synced``, ``pending`` or ``failed``."""

    state: str
    psa: str  # HaloPSA
    external_id: str | None = None
    url: str | None = None
    pending: int = 0  # writes queued or being sent (behind a failed one too)
    reason: str | None = None  # why the first failed write failed

    @property
    def label(self):
        """The chip's words."""
        where = f"{self.psa} #{self.external_id}" if self.external_id else self.psa
        if self.state == "failed":
            return f"{where}: not sent"
        if self.state == "pending":
            return f"{where}: {self.pending} {'change' if self.pending == 1 else 'changes'} " \
                   "to send"
        return f"{where}: synced"


def ticket_sync(ticket):
    """The ticket's ``TicketSync``, or None when it does not sync (or there is no PSA)."""
    connections = enabled_connections()
    if not connections:
        return None
    of_ticket = PsaWrite.ticket_id == ticket.id
    link = (select(PsaLink.external_id, PsaLink.url, PsaLink.connection_id)
            .where(PsaLink.kind == "ticket", PsaLink.local_id == ticket.id)
            .limit(1).subquery())
    row = db.session.execute(
        select(
            select(func.count()).where(of_ticket, PsaWrite.state.in_(("queued", "sending")))
            .scalar_subquery().label("pending"),
            select(func.min(case((PsaWrite.state == "dead", PsaWrite.id))))
            .where(of_ticket).scalar_subquery().label("failed_id"),
            select(func.max(PsaWrite.connection_id)).where(of_ticket)
            .scalar_subquery().label("write_connection_id"),
            select(link.c.external_id).scalar_subquery().label("external_id"),
            select(link.c.url).scalar_subquery().label("url"),
            select(link.c.connection_id).scalar_subquery().label("link_connection_id"),
        )).one()
    connection_id = row.link_connection_id or row.write_connection_id
    if connection_id is None:
        return None
    connection = connections.get(connection_id) or db.session.get(PsaConnection,
                                                                  connection_id)
    common = {"psa": psa_label(connection.kind), "external_id": row.external_id,
              "url": row.url, "pending": row.pending}
    if row.failed_id is not None:
        reason = db.session.scalar(select(PsaWrite.last_error)
                                   .where(PsaWrite.id == row.failed_id))
        return TicketSync(state="failed", reason=reason, **common)
    if row.pending:
        return TicketSync(state="pending", **common)
    if row.external_id is None:
        return None  # its writes were discarded: the PSA does not have it
    return TicketSync(state="synced", **common)
