"""A ticket: one request from a subscriber, worked by staff or the subscriber's reseller."""

from flask import current_app
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, case
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

STATUSES = (
    "open", "in_progress", "waiting_on_customer", "waiting_on_vendor", "on_hold",
    "resolved", "closed",
)
UNRESOLVED_STATUSES = STATUSES[:5]
PRIORITIES = ("low", "normal", "high", "urgent")


def _in(column, values):
    """A CHECK clause body: ``column IN ('a', 'b')``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Ticket(db.Model):
    """A ticket. The number shown to people is the id with the configured prefix."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status_known"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority_known"),
        CheckConstraint("length(subject) BETWEEN 1 AND 500", name="subject_length"),
        Index("ix_tickets_updated_at", "updated_at"),
        Index("ix_tickets_status_priority", "status", "priority"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_renderer: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(32), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Set by the services on every change people care about (not on any write at all).
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    first_response_at = mapped_column(UTCDateTime)
    resolved_at = mapped_column(UTCDateTime)
    closed_at = mapped_column(UTCDateTime)
    deleted_at = mapped_column(UTCDateTime)

    category = relationship("Category", lazy="joined")
    subscriber = relationship("User", foreign_keys=[subscriber_id], lazy="joined")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    organisation = relationship("Organisation", lazy="joined")
    reseller = relationship("Reseller", lazy="joined")
    replies = relationship(
        "Reply", back_populates="ticket", order_by="Reply.created_at, Reply.id",
        lazy="raise_on_sql",
    )

    @property
    def number(self):
        """The ticket number people quote, e.g. ``TKT-1042``."""
        return f"{current_app.config['TICKET_PREFIX']}-{self.id}"

    @property
    def is_unresolved(self):
        """Still being worked: not resolved and not closed."""
        return self.status in UNRESOLVED_STATUSES

    @classmethod
    def queue_order(cls):
        """Default queue order: unresolved urgent and high first, then the latest update."""
        pressing = case(
            (cls.status.in_(UNRESOLVED_STATUSES) & cls.priority.in_(("urgent", "high")), 0),
            else_=1,
        )
        return (pressing, cls.updated_at.desc(), cls.id.desc())

    def __repr__(self):
        return f"<Ticket {self.id} {self.status}>"
