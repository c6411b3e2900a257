"""What of ours is what in the PSA: one row per linked thing, both ways.

``kind`` names our table: ``ticket``, ``organisation`` (a PSA client), ``user`` (a subscriber
as a PSA end user), ``reply`` (a public reply or internal note as an action), ``time_entry``
(an action with time), ``attachment``. Writes we sent and actions we pulled both leave a
link, so a pull recognises the echo of our own write and a second delivery of a PSA action
adds nothing.
"""

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

LINK_KINDS = ("ticket", "organisation", "user", "reply", "time_entry", "attachment")


class PsaLink(db.Model):
    """Our ``kind`` row ``local_id`` is the PSA's ``external_id`` on ``connection_id``."""

    __tablename__ = "psa_links"
    __table_args__ = (
        UniqueConstraint("connection_id", "kind", "local_id",
                         name="uq_psa_links_connection_id_kind_local_id"),
        Index("ix_psa_links_connection_id_kind_external_id",
              "connection_id", "kind", "external_id"),
        # A ticket's link, from the ticket page's sync chip.
        Index("ix_psa_links_kind_local_id", "kind", "local_id"),
        # The tickets whose PSA actions are still to be read, newest first (services.psa_pull).
        Index("ix_psa_links_connection_id_actions_due_at", "connection_id", "actions_due_at",
              postgresql_where=text("actions_due_at IS NOT NULL"),
              sqlite_where=text("actions_due_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("psa_connections.id"))
    kind: Mapped[str] = mapped_column(String(20))
    local_id: Mapped[int] = mapped_column()
    external_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(500))  # the PSA's page, tickets only
    # The PSA's last-update time of what we last read or wrote (tickets): a pull that finds
    # nothing newer has nothing to do; two changes to one field: the later one wins.
    remote_updated_at = mapped_column(UTCDateTime)
    synced_at = mapped_column(UTCDateTime, default=utcnow)
    # Tickets only, kept by the pull (services.psa_pull_apply). The PSA's field values as last
    # read (``status``, ``priority``, ``client``, ``user`` ids): a pull tells a field the PSA
    # changed from one we changed, and re-homes a ticket flagged for mapping once its client
    # or user is mapped.
    remote_fields: Mapped[dict | None] = mapped_column(JSON)
    # The PSA's update time of a change whose actions we have not read yet (a page of changes
    # carries no actions; reading them costs a request each, spent as the budget allows).
    actions_due_at = mapped_column(UTCDateTime)

    def __repr__(self):
        return f"<PsaLink {self.kind} {self.local_id}={self.external_id}>"
