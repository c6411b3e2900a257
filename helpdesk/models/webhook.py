"""Webhooks out: an operator's endpoint told of ticket events, and each delivery to it.

A ``Webhook`` is an admin's setting (a URL, the events it wants, a signing secret sealed at
rest). A ``WebhookDelivery`` is an outbox row (``services.outbox``) written in the same
transaction as the event, with its JSON body fixed then, sent by a job
(``jobs.webhooks``); ``(webhook_id, event, key)`` is unique, so an event announced twice is
delivered once.
"""

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

WEBHOOK_EVENTS = ("ticket.created", "ticket.replied", "ticket.status_changed")
# A delivery's ``state``, as an outbox row (``services.outbox``): queued (waiting, or waiting
# for its retry after ``last_error``), sending (one worker holds it), sent (the endpoint
# answered 2xx), failed (refused for good, or the last retry failed: shown to admins at
# /admin/webhooks, where it can be sent again), withheld (the webhook was disabled or
# deleted before it went).
DELIVERY_STATES = ("queued", "sending", "sent", "failed", "withheld")


class Webhook(db.Model):
    """An endpoint of the operator's that hears of ticket events, signed with its secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    def __repr__(self):
        return f"<Webhook {self.name} {self.url}>"


class WebhookDelivery(db.Model):
    """One event for one webhook: the body as it will be signed and sent, and how it went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event", "key",
                         name="uq_webhook_deliveries_webhook_id_event_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"),
                                            index=True)
    event: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120))  # the event's idempotency key
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    body: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    claimed_at = mapped_column(UTCDateTime)
    sent_at = mapped_column(UTCDateTime)

    webhook = relationship("Webhook", lazy="joined")

    def __repr__(self):
        return f"<WebhookDelivery {self.event} {self.key} to={self.webhook_id} {self.state}>"
