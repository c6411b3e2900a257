"""Account mail (password reset, set-password links) as an outbox: a row, sent by a job."""

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

MAIL_KINDS = ("password_reset", "set_password")
# A row's ``state`` (``services.outgoing_mail`` moves it), as for notifications:
# - queued, sending, sent, failed: as in ``models.notification``;
# - withheld: not sent because at send time the recipient was disabled;
# - kept: no mail server (no ``SMTP_HOST``): the message is kept in ``subject`` and ``body``
#   for admins to read at /admin/mail, instead of being dropped.
MAIL_STATES = ("queued", "sending", "sent", "withheld", "kept", "failed")


class OutgoingMail(db.Model):
    """One account message to one person. The message is built at send time from the user,
    so nothing secret (the link) is stored, except in a ``kept`` row."""

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    to_email: Mapped[str | None] = mapped_column(String(254))  # as sent or kept
    subject: Mapped[str | None] = mapped_column(String(300))  # kept rows only
    body: Mapped[str | None] = mapped_column(Text)  # kept rows only
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    claimed_at = mapped_column(UTCDateTime)
    sent_at = mapped_column(UTCDateTime)

    recipient = relationship("User", lazy="joined")

    def __repr__(self):
        return f"<OutgoingMail {self.kind} to={self.recipient_id} {self.state}>"
