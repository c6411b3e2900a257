"""A connection to one PSA instance (HaloPSA first), set up by an admin at /admin/psa."""

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

PSA_KINDS = ("halopsa",)  # the keys of helpdesk.psa.connector.ADAPTERS
# HaloPSA's hosted instances allow about 300 requests per rolling 5 minutes, shared with
# everything else the operator runs: by default the desk takes half.
DEFAULT_REQUEST_BUDGET = 150
BUDGET_WINDOW_SECONDS = 300
DEFAULT_PULL_MINUTES = 5


class PsaConnection(db.Model):
    """Where a PSA is and how to sign in to it, and how its sync stands.

    The client secret is stored encrypted (``client_secret_encrypted``, never shown again
    once saved); the webhook secret is what HaloPSA's webhook sends to prove itself.
    """

    __tablename__ = "psa_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="halopsa")
    base_url: Mapped[str] = mapped_column(String(500))
    auth_url: Mapped[str] = mapped_column(String(500))
    tenant: Mapped[str | None] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    webhook_secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Requests the desk may send in any rolling BUDGET_WINDOW_SECONDS (services.psa_budget).
    request_budget: Mapped[int] = mapped_column(Integer, default=DEFAULT_REQUEST_BUDGET)
    pull_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_PULL_MINUTES)
    # The PSA client new tickets of unmapped organisations go to (None: they wait, flagged).
    default_client_id: Mapped[str | None] = mapped_column(String(64))
    # What an admin filled in for the fields the PSA requires on a new ticket
    # (``Lookups.required_fields``), by the PSA's field name: sent with every new ticket
    # whose ticket type requires them (``services.psa_mappings.new_ticket_fields_for``).
    new_ticket_fields: Mapped[dict | None] = mapped_column(JSON)
    # Pull bookkeeping: the PSA's last-update high-water mark already read, and the last run.
    pulled_until = mapped_column(UTCDateTime)
    last_pull_started_at = mapped_column(UTCDateTime)
    last_pull_finished_at = mapped_column(UTCDateTime)
    last_pull_error: Mapped[str | None] = mapped_column(Text)
    # The last "Test connection": when, and what it said (ok or the PSA's error).
    checked_at = mapped_column(UTCDateTime)
    check_result: Mapped[str | None] = mapped_column(Text)
    lookups_fetched_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    def __repr__(self):
        return f"<PsaConnection {self.name} {self.kind}>"
