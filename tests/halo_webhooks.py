"""Halo-style webhook deliveries from the loopback HaloPSA, for the desk's webhook endpoint.

Halo posts JSON to the webhook's URL, with Basic auth or a header of the admin's choosing.
A full payload carries the ticket (and the action, for action events); an "event information
only" payload carries just what happened to which record; batching sends a JSON array of
payloads in one delivery. Redelivery sends the same ``id`` again. The desk treats any of
these as a hint and fetches the ticket.

    halo_webhooks.post(url, ticket_event(halo.store, ticket_id), basic=("halo", "pw"))
    batch = [ticket_event(store, a, event_only=True), ticket_event(store, b, event_only=True)]
    halo_webhooks.post(url, batch, secret=("X-Halo-Secret", "s"))
    headers, body = delivery(ticket_event(store, ticket_id), basic=("halo", "pw"))  # test client
"""

import base64
import uuid
from datetime import UTC, datetime

import httpx

from tests.halo_store import halo_time


def ticket_event(store, ticket_id, *, event="Ticket Updated", action_id=None, event_only=False,
                 delivery_id=None):
    """One payload about a ticket: full (the ticket, the action) or event information only."""
    payload = {"id": delivery_id or str(uuid.uuid4()), "event": event,
               "object_id": ticket_id, "ticket_id": ticket_id,
               "timestamp": halo_time(datetime.now(UTC))}
    if event_only:
        return payload
    payload["ticket"] = store.ticket(ticket_id)
    if action_id is not None:
        payload["action_id"] = action_id
        payload["action"] = dict(store.actions[action_id])
    return payload


def delivery(payloads, *, basic=None, secret=None):
    """(headers, JSON body) of one delivery: a payload, or a list of them (a batch)."""
    headers = {"Content-Type": "application/json", "User-Agent": "HaloWebhook"}
    if basic is not None:
        token = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    if secret is not None:
        headers[secret[0]] = secret[1]
    return headers, payloads


def post(url, payloads, *, basic=None, secret=None, timeout=5.0):
    """Deliver ``payloads`` to ``url`` over HTTP; the desk's response."""
    headers, body = delivery(payloads, basic=basic, secret=secret)
    return httpx.post(url, json=body, headers=headers, timeout=timeout)
