"""Sending webhook deliveries (``services.webhooks_out``), and the sweep for rows left behind.

Both are safe to run twice and on two workers at once: only the worker that claims a row
sends it (``services.outbox``). An endpoint's 2xx is ``sent``; a refusal that retrying will
not change (a 4xx other than 408 and 429) is ``failed`` at once; a network error, a timeout,
a 408, 429 or 5xx is retried with back-off, and ``failed`` after the last attempt. Failed
deliveries are listed on ``/admin/webhooks`` with the reason, to be sent again.
"""

import time

import httpx
from flask import current_app

from helpdesk.models.timestamps import utcnow
from helpdesk.psa.secrets import SecretUnreadable, unseal
from helpdesk.services.webhooks_out import OUTBOX, body_bytes, signed_headers
from jobs.notifications import SENDING_TIMEOUT, STALLED_AFTER

RETRIED_STATUSES = frozenset({408, 429})


class EndpointFailed(Exception):
    """The endpoint did not take the delivery this time (transient: retried)."""


def send_delivery(delivery_id):
    """Send one delivery if this run claims it; returns the row's state."""
    return OUTBOX.send(delivery_id, _send)


def _send(delivery):
    """Post the signed body: the state to record and the row's fields."""
    webhook = delivery.webhook
    if not webhook.enabled:
        return "withheld", {"error": "the webhook was disabled before it was sent"}
    try:
        secret = unseal(webhook.secret_encrypted)
    except SecretUnreadable as error:
        return "failed", {"error": f"the webhook's secret cannot be read: {error}"}
    headers = signed_headers(delivery, secret=secret, timestamp=int(time.time()))
    try:
        response = httpx.post(webhook.url, content=body_bytes(delivery), headers=headers,
                              timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"],
                              follow_redirects=False)
    except httpx.HTTPError as error:
        raise EndpointFailed(f"{webhook.url}: {type(error).__name__}: {error}") from error
    status = response.status_code
    if 200 <= status < 300:
        return "sent", {"response_status": status}
    if status in RETRIED_STATUSES or status >= 500:
        raise EndpointFailed(f"{webhook.url} answered HTTP {status}")
    return "failed", {"response_status": status,
                      "error": f"{webhook.url} refused it: HTTP {status} "
                               f"{response.text[:200]!r}"}


def dispatch_stalled():
    """Periodic sweep: a new send job for deliveries whose job will not run, and for rows a
    dead worker left ``sending``. Returns how many were dispatched."""
    now = utcnow()
    return OUTBOX.dispatch_left_behind(claimed_before=now - SENDING_TIMEOUT,
                                       created_before=now - STALLED_AFTER)
