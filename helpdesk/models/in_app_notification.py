"""In-app notifications: the bell in the header and its list (``services.bell``)."""

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow


class InAppNotification(db.Model):
    """One ticket event shown to one person under the bell, unread until ``read_at``.

    Written in the transaction of the change, like the mail's outbox row, and unique by
    ``(kind, key, user_id)`` like it. The bell counts a person's unread rows through a partial
    index, so the count reads only those.
    """

    __tablename__ = "in_app_notifications"
    __table_args__ = (
        UniqueConstraint("kind", "key", "user_id", name="uq_in_app_notifications_kind_key_user_id"),
        Index("ix_in_app_notifications_unread", "user_id",
              postgresql_where=text("read_at IS NULL"), sqlite_where=text("read_at IS NULL")),
        Index("ix_in_app_notifications_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)  # an SLA detail; never reply text
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at = mapped_column(UTCDateTime)

    ticket = relationship("Ticket", lazy="joined")
    actor = relationship("User", foreign_keys=[actor_id], lazy="joined")

    def __repr__(self):
        return f"<InAppNotification {self.kind} {self.key} to={self.user_id}>"
