"""The operator's webhooks: setting them up, their secrets, and sending a delivery again.

Admins only (the admin pages check; ``require_admin`` checks again, so no caller goes around
it). Every change is audited. A webhook's signing secret is made here (never typed), sealed
at rest (``helpdesk.psa.secrets``, the same key as the PSA's secrets), and shown once: when
the webhook is made and when a new one is made.
"""

import secrets
from types import SimpleNamespace
from urllib.parse import urlsplit

from sqlalchemy import func, select

from helpdesk.access import may_administer
from helpdesk.extensions import db
from helpdesk.models import WEBHOOK_EVENTS, Webhook, WebhookDelivery
from helpdesk.psa.secrets import seal
from helpdesk.services import audit
from helpdesk.services.errors import NotAllowed, Refused
from helpdesk.services.webhooks_out import OUTBOX

MAX_NAME_LENGTH = 100
MAX_URL_LENGTH = 500
EVENT_LABELS = {"ticket.created": "Ticket created", "ticket.replied": "Public reply",
                "ticket.status_changed": "Status changed"}
RECENT_DELIVERIES = 50


class WebhookError(Refused):
    """A webhook setting was refused; ``field`` names the input."""


def require_admin(actor):
    if actor is not None and not may_administer(actor):
        raise NotAllowed("Only admins set up webhooks.")


def all_webhooks():
    """Every webhook by name, with its count of failed deliveries: ``[(webhook, failed)]``."""
    failed = dict(db.session.execute(
        select(WebhookDelivery.webhook_id, func.count())
        .where(WebhookDelivery.state == "failed").group_by(WebhookDelivery.webhook_id)).all())
    return [(webhook, failed.get(webhook.id, 0))
            for webhook in db.session.scalars(select(Webhook).order_by(Webhook.name))]


def recent_deliveries(webhook, *, limit=RECENT_DELIVERIES):
    """The webhook's latest deliveries, newest first."""
    return db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)).all()


def _checked(name, url, events, *, webhook=None):
    name = " ".join((name or "").split())
    if not name:
        raise WebhookError("Give the webhook a name.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise WebhookError(f"A name can be at most {MAX_NAME_LENGTH} characters.",
                           field="name")
    taken = db.session.scalar(select(Webhook.id).where(func.lower(Webhook.name) == name.lower()))
    if taken is not None and (webhook is None or taken != webhook.id):
        raise WebhookError(f"There is a webhook named {name} already.", field="name")
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("Give the endpoint's full address, starting https:// (or http://).",
                           field="url")
    if len(url) > MAX_URL_LENGTH:
        raise WebhookError(f"An address can be at most {MAX_URL_LENGTH} characters.",
                           field="url")
    events = [event for event in WEBHOOK_EVENTS if event in set(events or [])]
    if not events:
        raise WebhookError("Choose at least one event to send.", field="events")
    return name, url, events


def new_secret():
    """A signing secret: random, shown once."""
    return f"whsec_{secrets.token_urlsafe(32)}"


def create_webhook(*, name, url, events, actor):
    """Make a webhook (enabled); returns ``(webhook, secret)``: the secret is shown once."""
    require_admin(actor)
    name, url, events = _checked(name, url, events)
    secret = new_secret()
    webhook = Webhook(name=name, url=url, events=events, secret_encrypted=seal(secret))
    db.session.add(webhook)
    db.session.flush()
    audit.record("webhook.create", actor=actor, field=name, new=f"{url} ({', '.join(events)})")
    db.session.commit()
    return webhook, secret


def update_webhook(webhook, *, name, url, events, enabled, actor):
    """Change a webhook's name, address, events and whether it is on."""
    require_admin(actor)
    name, url, events = _checked(name, url, events, webhook=webhook)
    before = f"{webhook.url} ({', '.join(webhook.events)}){'' if webhook.enabled else ', off'}"
    webhook.name, webhook.url, webhook.events, webhook.enabled = name, url, events, enabled
    after = f"{url} ({', '.join(events)}){'' if enabled else ', off'}"
    if before != after:
        audit.record("webhook.update", actor=actor, field=name, old=before, new=after)
    db.session.commit()
    return webhook


def rotate_secret(webhook, *, actor):
    """A new signing secret (the old one stops working at once); returns it, to show once."""
    require_admin(actor)
    secret = new_secret()
    webhook.secret_encrypted = seal(secret)
    audit.record("webhook.secret", actor=actor, field=webhook.name)
    db.session.commit()
    return secret


def delete_webhook(webhook, *, actor):
    """Remove a webhook and its deliveries' history."""
    require_admin(actor)
    audit.record("webhook.delete", actor=actor, field=webhook.name, old=webhook.url)
    db.session.execute(WebhookDelivery.__table__.delete().where(
        WebhookDelivery.webhook_id == webhook.id))
    db.session.delete(webhook)
    db.session.commit()


def send_again(delivery, *, actor):
    """Put a failed (or withheld) delivery back in the queue with fresh attempts; its body
    is the same, so the receiver can tell it by ``X-Helpdesk-Delivery``."""
    require_admin(actor)
    if delivery.state not in ("failed", "withheld"):
        raise WebhookError("Only a failed or withheld delivery can be sent again.",
                           field=None)
    delivery.state, delivery.attempts, delivery.claimed_at = "queued", 0, None
    ticket = SimpleNamespace(id=delivery.ticket_id) if delivery.ticket_id else None
    audit.record("webhook.send_again", actor=actor, ticket=ticket,
                 field=delivery.webhook.name, new=f"{delivery.event} {delivery.key}")
    db.session.commit()
    OUTBOX.dispatch([delivery.id])
    return delivery

