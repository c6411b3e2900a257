"""Webhooks out: ticket events told to the operator's own endpoints, signed, by a job.

Three events, each written by the ticket services in the change's own transaction:
- ``ticket.created``: a ticket was opened (``tickets.open_ticket``);
- ``ticket.replied``: a public reply or a customer's comment (``replies.add_reply``); an
  internal note never is, so its text never leaves the desk this way;
- ``ticket.status_changed``: the status moved (``tickets.add_event``), with old and new.

``record`` writes one ``WebhookDelivery`` per enabled webhook that wants the event, its JSON
body fixed then (the ticket as it was at that moment), unique on ``(webhook, event, key)``;
the rows' send jobs are enqueued when the transaction commits, so a rolled-back change sends
nothing. ``jobs.webhooks`` signs and posts each one (``signed_headers``), retries with
back-off (``services.outbox``), and leaves a delivery that keeps failing ``failed`` on
``/admin/webhooks``, where an admin sees why and can send it again. History imported from a
PSA (``notifications.held_back``) fires no webhook, as it mails nobody.

Signing: ``X-Helpdesk-Signature: sha256=<hex>``, the HMAC-SHA256 with the webhook's secret of
``<X-Helpdesk-Timestamp>.<body>``, so a receiver can check the sender and refuse an old
message replayed.
"""

import hashlib
import hmac
import json

from flask import current_app
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Webhook, WebhookDelivery
from helpdesk.models.timestamps import utcnow
from helpdesk.services import notifications
from helpdesk.services.outbox import Outbox

OUTBOX = Outbox(WebhookDelivery, send_job="jobs.webhooks.send_delivery", name="webhook")


def record(event_name, ticket, *, key, at=None, reply=None, status=None):
    """Write the deliveries of one event on ``ticket`` (no commit). ``key`` names the event
    (``reply-12``): recorded again, nothing more is sent. ``reply``: the public reply told
    of; ``status``: ``(old, new)``. Returns the rows written."""
    return _write(_wanting(event_name), event_name, ticket, key=key, at=at, reply=reply,
                  status=status)


def record_status_change(ticket, ticket_event, *, at):
    """``ticket.status_changed`` for a status event just added (flushed for its id only when
    some webhook wants it)."""
    webhooks = _wanting("ticket.status_changed")
    if not webhooks:
        return []
    db.session.flush()
    return _write(webhooks, "ticket.status_changed", ticket, key=f"event-{ticket_event.id}",
                  at=at, status=(ticket_event.old_value, ticket_event.new_value))


def _wanting(event_name):
    """The enabled webhooks that want ``event_name`` (none while history is imported)."""
    if notifications.is_held_back():
        return []
    return [webhook for webhook in db.session.scalars(
        select(Webhook).where(Webhook.enabled.is_(True)).order_by(Webhook.id))
        if event_name in (webhook.events or [])]


def _write(webhooks, event_name, ticket, *, key, at, reply=None, status=None):
    if not webhooks:
        return []
    if reply is not None and reply.internal:
        raise ValueError("an internal note is never told to a webhook")
    body = _body(event_name, ticket, key=key, at=at or utcnow(), reply=reply, status=status)
    written = []
    for webhook in webhooks:
        if db.session.scalar(select(WebhookDelivery.id).filter_by(
                webhook_id=webhook.id, event=event_name, key=key)) is not None:
            continue
        delivery = WebhookDelivery(webhook_id=webhook.id, event=event_name, key=key,
                                   ticket_id=ticket.id, body=body)
        db.session.add(delivery)
        written.append(delivery)
    if written:
        db.session.flush()
        OUTBOX.dispatch_on_commit(written)
    return written


def _body(event_name, ticket, *, key, at, reply, status):
    """What the endpoint receives: the event, and the ticket as it is now."""
    body = {"event": event_name, "key": key, "occurred_at": at.isoformat(),
            "ticket": _ticket(ticket)}
    if reply is not None:
        author = reply.author
        body["reply"] = {"id": reply.id, "body": reply.body,
                         "created_at": (reply.created_at or at).isoformat(),
                         "author": _person(author, role=True)}
    if status is not None:
        body["status"] = {"old": status[0], "new": status[1]}
    return body


def _ticket(ticket):
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return {
        "id": ticket.id, "number": ticket.number, "subject": ticket.subject,
        "status": ticket.status, "priority": ticket.priority,
        "category": ticket.category.name if ticket.category is not None else None,
        "subscriber": _person(ticket.subscriber),
        "organisation": _named(ticket.organisation), "reseller": _named(ticket.reseller),
        "assignee": _person(ticket.assignee),
        "created_at": ticket.created_at.isoformat() if ticket.created_at else None,
        "url": f"{base}/tickets/{ticket.id}",
    }


def _person(user, *, role=False):
    if user is None:
        return None
    person = {"id": user.id, "name": user.name, "email": user.email}
    if role:
        person["role"] = user.role
    return person


def _named(row):
    return None if row is None else {"id": row.id, "name": row.name}


def body_bytes(delivery):
    """The body as sent and signed: compact JSON, keys sorted (the same bytes each retry)."""
    return json.dumps(delivery.body, separators=(",", ":"), sort_keys=True).encode()


def signature(secret, timestamp, body):
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` of ``<timestamp>.<body>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def signed_headers(delivery, *, secret, timestamp):
    """The headers of one attempt at ``delivery``."""
    return {"Content-Type": "application/json", "User-Agent": "helpdesk-webhooks/1",
            "X-Helpdesk-Event": delivery.event, "X-Helpdesk-Delivery": str(delivery.id),
            "X-Helpdesk-Timestamp": str(timestamp),
            "X-Helpdesk-Signature": signature(secret, timestamp, body_bytes(delivery))}
