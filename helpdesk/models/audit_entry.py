"""The audit log: every change a person makes, with who, what, old and new value, when, IP."""

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One audited action. ``actor_id`` is None for the CLI and the system itself."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_ticket_id_created_at", "ticket_id", "created_at"),
        Index("ix_audit_entries_actor_id_created_at", "actor_id", "created_at"),
        Index("ix_audit_entries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    actor = relationship("User", foreign_keys=[actor_id], lazy="joined")
    subject_user = relationship("User", foreign_keys=[subject_user_id], lazy="joined")

    def __repr__(self):
        return f"<AuditEntry {self.action} ticket={self.ticket_id}>"
