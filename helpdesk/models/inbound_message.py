"""Mail that came in (over IMAP or from an MTA): one row per message, written before the
message is acted on, so each message is processed once (``services.mail_intake``).

``message_key`` is unique: the message's Message-ID, or ``sha256:<hex>`` of its bytes when it
has none (or one too long to index). Fetching a message again (a fetch job run twice, or one
killed halfway) finds its row and makes nothing new.

What ``state`` means:
- received:  stored, not acted on yet (the fetch commits this before it marks the message
             seen in the mailbox);
- processed: it opened ``ticket_id``, or added ``reply_id`` to it, in the same commit;
- ignored:   an auto-reply, a bounce or one of our own messages (``reason`` says which):
             it never opens a ticket or adds a reply;
- failed:    it could not be read or applied (``reason`` is the error); kept with its bytes
             for admins at /admin/mail/inbound, to retry or discard, never dropped;
- discarded: an admin discarded it after it failed (the row stays for the record).
"""

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

INBOUND_STATES = ("received", "processed", "ignored", "failed", "discarded")
# States an intake run may still act on: new, or failed and asked to try again.
PENDING_STATES = ("received", "failed")
INBOUND_SOURCES = ("imap", "mta", "demo")
MAX_KEY_LENGTH = 300


class InboundMessage(db.Model):
    """One message received, its bytes while they may still be needed, and what came of it."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), unique=True)
    source: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16), default="received", index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # why ignored, or the error
    notes: Mapped[str | None] = mapped_column(Text)  # for staff: files refused, a tag ignored
    from_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(Integer, default=0)
    # The message as received. Kept unless it was processed with nothing left out of it.
    raw = deferred(mapped_column(LargeBinary))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("replies.id"))
    # Opened a ticket for a sender we could not match to a customer (``services.mail_senders``).
    unknown_sender: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    processed_at = mapped_column(UTCDateTime)

    ticket = relationship("Ticket")

    def __repr__(self):
        return f"<InboundMessage {self.id} {self.state} {self.message_key[:40]!r}>"
