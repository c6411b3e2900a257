"""Notification mail: an outbox row per message to one person about one ticket event, sent by
a job, never sent twice; ``(kind, key, recipient_id)`` is unique, so the same event for the
same person makes one row however often it is announced (``services.notifications.notify``)."""

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

# What a row's ``state`` means (``services.notifications`` moves it; ``last_error`` says why
# for every state but ``sent``):
# - queued:   waiting for a worker; with ``attempts`` > 0 it waits for its retry after a
#             transient failure (``last_error`` is that failure);
# - sending:  claimed by one worker (``claimed_at``), which is talking to the mail server;
# - sent:     the mail server took it (``sent_at``);
# - withheld: not sent because at send time the recipient could not read it (disabled,
#             no longer sees the ticket, the ticket was deleted, the reply is an internal note
#             and the recipient a customer);
# - kept:     not sent because no mail server is configured (no ``SMTP_HOST``): the message
#             is kept in ``to_email``, ``subject`` and ``body`` for admins at /admin/mail;
# - skipped:  (before 0020) not sent for want of a mail server, and not kept;
# - failed:   given up: the message could not be built, or the last retry failed.
NOTIFICATION_STATES = ("queued", "sending", "sent", "withheld", "kept", "skipped", "failed")
FINAL_STATES = frozenset({"sent", "withheld", "kept", "skipped", "failed"})


class Notification(db.Model):
    """One message to one person about one ticket event. The unique key makes retries and
    repeated announcements harmless."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("kind", "key", "recipient_id",
                         name="uq_notifications_kind_key_recipient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    # The event's idempotency key (``reply-12``, ``ticket-1042``, ``assignment-77``...).
    key: Mapped[str] = mapped_column(String(120))
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("replies.id"))  # the reply told of
    note: Mapped[str | None] = mapped_column(Text)  # a handoff note, an SLA detail
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    # Every claim adds one, so ``attempts`` also tells one claim from the next.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    to_email: Mapped[str | None] = mapped_column(String(254))  # kept rows only
    subject: Mapped[str | None] = mapped_column(String(600))  # kept rows only
    body: Mapped[str | None] = mapped_column(Text)  # kept rows only (the text part)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    claimed_at = mapped_column(UTCDateTime)  # when a worker last claimed it
    sent_at = mapped_column(UTCDateTime)

    recipient = relationship("User", lazy="joined")
    reply = relationship("Reply", lazy="joined")
    ticket = relationship("Ticket")

    def __repr__(self):
        return f"<Notification {self.kind} {self.key} to={self.recipient_id} {self.state}>"
