"""Writing the audit log. Every change a person makes goes through ``record``."""

import ipaddress

from flask import has_request_context, request

from helpdesk.extensions import db
from helpdesk.models import AuditEntry

MAX_IP_LENGTH = 45  # the column's size: an IPv6 address in its longest written form


def client_ip():
    """The client's address for this request (behind ``PROXY_COUNT`` proxies), or None.

    Behind proxies the address comes from a header, which can hold any text: only an IP
    address is kept.
    """
    if not has_request_context():
        return None
    try:
        address = str(ipaddress.ip_address(request.remote_addr or ""))
    except ValueError:
        return None
    return address if len(address) <= MAX_IP_LENGTH else None


def _text(value):
    if value is None:
        return None
    return str(value)


def record(action, *, actor, ticket=None, subject_user=None, field=None, old=None, new=None):
    """Add an audit entry to the session; the caller's transaction commits it."""
    entry = AuditEntry(
        action=action, actor_id=getattr(actor, "id", None),
        ticket_id=getattr(ticket, "id", None), subject_user_id=getattr(subject_user, "id", None),
        field=field, old_value=_text(old), new_value=_text(new), ip=client_ip(),
    )
    db.session.add(entry)
    return entry
