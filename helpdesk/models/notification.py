"""Outgoing notifications: an outbox row per message, sent by a job, never sent twice."""

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

# queued: waiting for the job; sent; skipped (no mail server configured); failed (gave up)
NOTIFICATION_STATES = ("queued", "sent", "skipped", "failed")


class Notification(db.Model):
    """One message to one person about one reply. The unique key makes retries harmless."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("kind", "reply_id", "recipient_id",
                         name="uq_notifications_kind_reply_id_recipient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("replies.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at = mapped_column(UTCDateTime)

    recipient = relationship("User", lazy="joined")
    reply = relationship("Reply", lazy="joined")

    def __repr__(self):
        return f"<Notification {self.kind} reply={self.reply_id} {self.state}>"
