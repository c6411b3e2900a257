"""A PSA's webhook delivery: who sent it, and which tickets it names.

Authentication. The connection's webhook secret (sealed at rest, set on its admin page) is
presented either as the password of HTTP Basic auth (any user name: HaloPSA's webhook form
asks for both) or in the ``X-Webhook-Secret`` header (HaloPSA's custom header option), and
compared in constant time. A connection without a secret accepts no delivery.

The body is a hint, never the data: HaloPSA sends one payload or a batch (a JSON array),
full (the ticket, maybe the action) or "event information only" (just ids). We take the
ticket ids from it and read each ticket from the PSA ourselves, so a forged or stale body
can at most cause a read.
"""

import base64
import binascii
import hmac
import json

from helpdesk.psa.secrets import SecretUnreadable, unseal

HEADER_NAME = "X-Webhook-Secret"
MAX_PAYLOADS = 500  # in one delivery; Halo's batches are far smaller
MAX_ID_LENGTH = 64  # psa_links.external_id


class WebhookRefused(ValueError):
    """A body the endpoint cannot use; the message says why (answered with 400)."""


def _same(given, secret):
    return hmac.compare_digest(given.encode(), secret.encode())


def _basic_password(authorization):
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]


def authenticated(connection, *, authorization, secret_header):
    """Does the delivery present the connection's webhook secret?"""
    try:
        secret = unseal(connection.webhook_secret_encrypted)
    except SecretUnreadable:
        return False
    if not secret:
        return False
    password = _basic_password(authorization)
    # Both compared whatever the first gave, so the time taken says nothing.
    basic_ok = _same(password or "", secret) and password is not None
    header_ok = _same(secret_header or "", secret) and secret_header is not None
    return basic_ok or header_ok


def _ticket_id(payload):
    """The ticket a payload is about, or None (an event about something else)."""
    candidates = [payload.get("ticket_id")]
    for key in ("ticket", "action"):
        inner = payload.get(key)
        if isinstance(inner, dict):
            candidates.append(inner.get("id") if key == "ticket" else inner.get("ticket_id"))
    if "ticket" in str(payload.get("event") or payload.get("object_type") or "").lower():
        candidates.append(payload.get("object_id"))
    for candidate in candidates:
        if isinstance(candidate, bool) or candidate in (None, ""):
            continue
        text = str(candidate).strip()
        if text.isdigit() and 0 < len(text) <= MAX_ID_LENGTH and int(text) > 0:
            return str(int(text))
    return None


def ticket_ids_of(raw):
    """The PSA ticket ids a delivery names, each once, in order; ``WebhookRefused`` for a
    body that is not a JSON object or array of objects."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebhookRefused(f"The body is not JSON: {error}.") from None
    payloads = body if isinstance(body, list) else [body]
    if len(payloads) > MAX_PAYLOADS:
        raise WebhookRefused(f"A delivery may hold at most {MAX_PAYLOADS} payloads.")
    if not all(isinstance(payload, dict) for payload in payloads):
        raise WebhookRefused("Expected a JSON object, or an array of objects.")
    ids = (_ticket_id(payload) for payload in payloads)
    return list(dict.fromkeys(ticket_id for ticket_id in ids if ticket_id is not None))
