"""The PSA outbox: one row per write the PSA should receive, written in the same transaction
as the change that causes it (``services.psa_outbox``), sent by a job in order per ticket.

``key`` is the write's idempotency key (``reply-12``, ``status-88``): the same change
announced twice is one row. ``marker`` is what the adapter stores in the PSA to find the
write again when an attempt's outcome is unknown, and to recognise its echo in a pull.
"""

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

# What the row asks of the PSA (the connector method it becomes).
WRITE_KINDS = ("create_ticket", "update_ticket", "add_action", "upload_attachment")
# - queued:    waiting to be sent (``next_attempt_at``: not before; ``attempts`` > 0: a retry);
# - sending:   claimed by one worker (``claimed_at``);
# - sent:      the PSA took it (``sent_at``, ``external_id``, ``response_status``);
# - dead:      the last retry failed or the PSA refused it for good: in the dead letters,
#              where an admin retries it (back to queued) or discards it with a reason;
# - discarded: an admin gave it up (``discard_reason``, ``discarded_by_id``).
WRITE_STATES = ("queued", "sending", "sent", "dead", "discarded")


class PsaWrite(db.Model):
    """One write for the PSA, with its request, its last response and its fate."""

    __tablename__ = "psa_writes"
    __table_args__ = (
        UniqueConstraint("connection_id", "key", name="uq_psa_writes_connection_id_key"),
        # A ticket's writes in order (sending, and the ticket's sync chip).
        Index("ix_psa_writes_ticket_id_id", "ticket_id", "id"),
        # The sweep and the dashboard: rows by state.
        Index("ix_psa_writes_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("psa_connections.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(120))
    marker: Mapped[str] = mapped_column(String(64))
    # What to send, in our words (ids of ours and values), turned into the PSA's request at
    # send time; the request actually sent is in ``request_payload``.
    change: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at = mapped_column(UTCDateTime, default=utcnow)
    claimed_at = mapped_column(UTCDateTime)
    request_payload: Mapped[dict | None] = mapped_column(JSON)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(64))
    discard_reason: Mapped[str | None] = mapped_column(Text)
    discarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at = mapped_column(UTCDateTime)

    connection = relationship("PsaConnection")
    ticket = relationship("Ticket")

    def __repr__(self):
        return f"<PsaWrite {self.kind} {self.key} {self.state}>"
