"""Time spent on a ticket, logged by staff or resellers (a PSA action with ``timetaken``)."""

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

MAX_MINUTES = 24 * 60


class TimeEntry(db.Model):
    """Minutes worked and what on; internal, never shown to subscribers."""

    __tablename__ = "time_entries"
    __table_args__ = (
        CheckConstraint(f"minutes BETWEEN 1 AND {MAX_MINUTES}", name="minutes_range"),
        Index("ix_time_entries_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("replies.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user = relationship("User", lazy="joined")

    def __repr__(self):
        return f"<TimeEntry {self.minutes}min ticket={self.ticket_id}>"
