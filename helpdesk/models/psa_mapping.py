"""Which of the PSA's statuses, priorities and categories (ticket types) stand for ours."""

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db

MAPPING_KINDS = ("status", "priority", "category")


class PsaMapping(db.Model):
    """Ours (a status or priority name, a category id as text) to theirs (a PSA lookup id).

    One row per value of ours: what we send. Reading the PSA's changes, a PSA value maps
    back to the first of ours that names it.
    """

    __tablename__ = "psa_mappings"
    __table_args__ = (
        UniqueConstraint("connection_id", "kind", "ours",
                         name="uq_psa_mappings_connection_id_kind_ours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("psa_connections.id"))
    kind: Mapped[str] = mapped_column(String(20))
    ours: Mapped[str] = mapped_column(String(64))
    theirs: Mapped[str] = mapped_column(String(64))

    def __repr__(self):
        return f"<PsaMapping {self.kind} {self.ours}->{self.theirs}>"
