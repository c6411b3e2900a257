"""The PSA's own lists (statuses, priorities, ticket types, clients, users, agents), cached
per connection so pages and mappings never wait on the PSA; refreshed by an admin or a job."""

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db

LOOKUP_KINDS = ("status", "priority", "ticket_type", "client", "user", "agent")


class PsaLookup(db.Model):
    """One choice the PSA offers, by its id on the PSA's side."""

    __tablename__ = "psa_lookups"
    __table_args__ = (
        UniqueConstraint("connection_id", "kind", "external_id",
                         name="uq_psa_lookups_connection_id_kind_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("psa_connections.id"))
    kind: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    extra: Mapped[dict] = mapped_column(JSON, default=dict)

    def __repr__(self):
        return f"<PsaLookup {self.kind} {self.external_id} {self.name!r}>"
