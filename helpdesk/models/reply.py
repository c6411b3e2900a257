"""A reply in a ticket's thread: public, or an internal note staff and resellers only see."""

from sqlalchemy import Boolean, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow


class Reply(db.Model):
    """One message in a thread; ``internal`` marks an internal note."""

    __tablename__ = "replies"
    __table_args__ = (Index("ix_replies_ticket_id_created_at", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    body_renderer: Mapped[int] = mapped_column(default=0)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    ticket = relationship("Ticket", back_populates="replies", foreign_keys=[ticket_id])
    author = relationship("User", lazy="joined")
    attachments = relationship("Attachment", back_populates="reply", lazy="raise_on_sql")

    def __repr__(self):
        return f"<Reply {self.id} ticket={self.ticket_id} internal={self.internal}>"
