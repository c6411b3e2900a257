"""PSA connections as an admin sets them up: create, change, enable, test, fetch lookups.

Shared by the admin pages (``helpdesk/admin/psa.py``), their jobs (``jobs/psa_admin.py``) and
the CLI (``flask psa``), so a rule holds once. The client secret is sealed
(``helpdesk.psa.secrets``) before it reaches the row and is never shown again, only "set"; an
empty secret on an edit keeps the stored one. Every change is audited, secrets never: the
entry says "secret changed". Audit entries name their connection by id in ``field``
(``"3:base_url"``), since the connection's own name can change and be longer than the field.

``check`` and ``refresh_lookups`` talk to the PSA through ``connector_of``; ``check`` never
raises (its answer is stored on the connection), ``refresh_lookups`` raises ``PsaError`` with
the PSA's one-line message.
"""

import logging
import secrets
from contextlib import closing
from urllib.parse import urlsplit

from sqlalchemy import delete, func, insert, select

from helpdesk.extensions import db
from helpdesk.models import PsaConnection, PsaLookup
from helpdesk.models.psa_connection import (
    DEFAULT_PULL_MINUTES,
    DEFAULT_REQUEST_BUDGET,
    PSA_KINDS,
)
from helpdesk.models.timestamps import utcnow
from helpdesk.params import parse_id, parse_int
from helpdesk.psa.connector import PsaError
from helpdesk.psa.secrets import SecretUnreadable, seal, unseal
from helpdesk.services import audit
from helpdesk.services.errors import Refused
from helpdesk.services.psa_connector import connector_of, forget_token

log = logging.getLogger(__name__)

KIND_LABELS = {"halopsa": "HaloPSA"}
MAX_BUDGET = 300  # HaloPSA's hosted limit per rolling 5 minutes: more would be refused anyway
MAX_PULL_MINUTES = 24 * 60
MAX_SECRET_LENGTH = 1000
SECRET_FIELD = "client_secret"  # noqa: S105 (the form field naming it, not a secret)
CONNECTED = "Connected: "  # how a passed check's stored result starts
WEBHOOK_PATH = "/psa/webhooks/{connection_id}"  # the pull's endpoint (helpdesk/psa webhooks)
# What each changeable setting is called in the audit log and the form's messages.
SETTING_LABELS = {
    "name": "name", "kind": "PSA", "base_url": "base URL", "auth_url": "auth URL",
    "tenant": "tenant", "client_id": "client id", "request_budget": "request budget",
    "pull_minutes": "pull interval",
}


class PsaSetupError(Refused):
    """A connection's settings were refused. ``errors``: every field's message at once (the
    form shows them all); ``field`` and the message are the first of them."""

    def __init__(self, errors):
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)
        self.errors = errors


def kind_label(kind):
    """The PSA's name as people know it (``HaloPSA``)."""
    return KIND_LABELS.get(kind, kind)


def all_connections():
    """Every connection, by name."""
    return db.session.scalars(select(PsaConnection).order_by(PsaConnection.name)).all()


def find_connection(name_or_id):
    """A connection by name (any case) or by id, or None: what the CLI's ``--connection``
    takes."""
    text = (name_or_id or "").strip()
    found = db.session.scalar(select(PsaConnection).where(
        func.lower(PsaConnection.name) == text.lower()))
    if found is None and parse_id(text) is not None:
        found = db.session.get(PsaConnection, parse_id(text))
    return found


def audit_field(connection, what):
    """The audit entry's ``field`` for ``what`` of ``connection``: ``"3:base_url"``."""
    return f"{connection.id}:{what}"[:64]


def _url(value, field, errors):
    text = (value or "").strip()
    parts = urlsplit(text) if text else None
    if not text:
        errors[field] = f"Enter the {SETTING_LABELS[field]}."
    elif (len(text) > 500 or parts.scheme not in ("http", "https") or not parts.hostname
          or any(c.isspace() for c in text) or parts.query or parts.fragment):
        errors[field] = (f"The {SETTING_LABELS[field]} must be an http or https address "
                         "such as https://example.halopsa.com.")
    return text.rstrip("/")


def _number(value, field, errors, *, low, high, default):
    if value in (None, ""):
        return default
    number = parse_int(str(value).strip(), minimum=low, maximum=high)
    if number is None:
        errors[field] = f"The {SETTING_LABELS[field]} must be a whole number from {low} to {high}."
        return default
    return number


def _text(value, field, errors, *, limit, required):
    text = " ".join((value or "").split())
    if required and not text:
        errors[field] = f"Enter the {SETTING_LABELS[field]}."
    elif len(text) > limit:
        errors[field] = f"The {SETTING_LABELS[field]} can be at most {limit} characters."
    return text


def _checked(connection, *, name, kind, base_url, auth_url, tenant, client_id, client_secret,
             request_budget, pull_minutes):
    """The settings cleaned, or ``PsaSetupError`` naming every field that is wrong."""
    errors = {}
    values = {
        "name": _text(name, "name", errors, limit=100, required=True),
        "kind": kind,
        "base_url": _url(base_url, "base_url", errors),
        "auth_url": _url(auth_url, "auth_url", errors),
        "tenant": _text(tenant, "tenant", errors, limit=200, required=False) or None,
        "client_id": _text(client_id, "client_id", errors, limit=200, required=True),
        "request_budget": _number(request_budget, "request_budget", errors, low=1,
                                  high=MAX_BUDGET, default=DEFAULT_REQUEST_BUDGET),
        "pull_minutes": _number(pull_minutes, "pull_minutes", errors, low=1,
                                high=MAX_PULL_MINUTES, default=DEFAULT_PULL_MINUTES),
    }
    if kind not in PSA_KINDS:
        errors["kind"] = "Choose a PSA from the list."
    if not errors.get("name"):
        same = db.session.scalar(select(PsaConnection).where(
            func.lower(PsaConnection.name) == values["name"].lower()))
        if same is not None and same is not connection:
            errors["name"] = f"A connection named {same.name} already exists."
    secret = (client_secret or "").strip()
    if connection is None and not secret:
        errors[SECRET_FIELD] = "Enter the client secret."
    elif len(secret) > MAX_SECRET_LENGTH:
        errors[SECRET_FIELD] = f"The client secret can be at most {MAX_SECRET_LENGTH} characters."
    if errors:
        raise PsaSetupError(errors)
    return values, secret


def create_connection(*, name, base_url, auth_url, client_id, client_secret, actor,
                      kind="halopsa", tenant=None, request_budget=None, pull_minutes=None):
    """A new, enabled connection with its client secret sealed and a webhook secret made."""
    values, secret = _checked(
        None, name=name, kind=kind, base_url=base_url, auth_url=auth_url, tenant=tenant,
        client_id=client_id, client_secret=client_secret, request_budget=request_budget,
        pull_minutes=pull_minutes)
    connection = PsaConnection(**values, enabled=True, client_secret_encrypted=seal(secret),
                               webhook_secret_encrypted=seal(new_webhook_secret()))
    db.session.add(connection)
    db.session.flush()
    audit.record("psa.connection_create", actor=actor,
                 field=audit_field(connection, "connection"), new=connection.name)
    db.session.commit()
    return connection


def update_connection(connection, *, name, base_url, auth_url, client_id, actor,
                      kind=None, tenant=None, client_secret=None, request_budget=None,
                      pull_minutes=None):
    """Change a connection's settings; an empty ``client_secret`` keeps the stored one.
    Returns the names of the settings that changed."""
    values, secret = _checked(
        connection, name=name, kind=kind or connection.kind, base_url=base_url,
        auth_url=auth_url, tenant=tenant, client_id=client_id, client_secret=client_secret,
        request_budget=request_budget, pull_minutes=pull_minutes)
    changed = []
    for key, value in values.items():
        old = getattr(connection, key)
        if old != value:
            setattr(connection, key, value)
            audit.record("psa.connection_change", actor=actor,
                         field=audit_field(connection, key), old=old, new=value)
            changed.append(key)
    if secret and _stored_secret(connection) != secret:
        connection.client_secret_encrypted = seal(secret)
        audit.record("psa.connection_change", actor=actor,
                     field=audit_field(connection, "client_secret"), new="secret changed")
        changed.append("client_secret")
    db.session.commit()
    if changed:  # a token of the old settings may be kept: the next request asks anew
        forget_token(connection)
    return changed


def _stored_secret(connection):
    try:
        return unseal(connection.client_secret_encrypted)
    except SecretUnreadable:
        return None


def set_enabled(connection, *, enabled, actor):
    """Turn the connection's sync on or off (a disabled connection is neither pulled nor
    pushed to)."""
    if connection.enabled != enabled:
        connection.enabled = enabled
        audit.record("psa.connection_enable" if enabled else "psa.connection_disable",
                     actor=actor, field=audit_field(connection, "enabled"),
                     new=connection.name)
        db.session.commit()


def new_webhook_secret():
    """A fresh shared secret for the PSA's webhook to prove itself with."""
    return secrets.token_urlsafe(32)


def renew_webhook_secret(connection, *, actor):
    """A new webhook secret (the old one stops working: paste the new one into the PSA)."""
    connection.webhook_secret_encrypted = seal(new_webhook_secret())
    audit.record("psa.connection_change", actor=actor,
                 field=audit_field(connection, "webhook_secret"), new="secret changed")
    db.session.commit()


def webhook_secret(connection):
    """The webhook secret in clear, for the admin to paste into the PSA ('' if unreadable)."""
    try:
        return unseal(connection.webhook_secret_encrypted)
    except SecretUnreadable:
        return ""


def webhook_url(connection, *, public_url):
    """The address the PSA's webhook posts to (``PUBLIC_URL`` and the pull's endpoint)."""
    return public_url.rstrip("/") + WEBHOOK_PATH.format(connection_id=connection.id)


def check_passed(connection):
    """Did the last "Test connection" succeed? (None: never tested.)"""
    if connection.check_result is None:
        return None
    return connection.check_result.startswith(CONNECTED)


def check(connection, *, connector=None):
    """Sign in to the PSA and make one cheap read; store when and what it said. Never
    raises: a failure is stored and returned as the PSA's one-line message. The sign-in is
    a fresh one (not the token the jobs share), so the test proves the credentials."""
    try:
        with closing(connector or connector_of(connection, shared_token=False)) as psa:
            result = CONNECTED + psa.check()
    except PsaError as error:
        result = _one_line(error)
    except Exception as error:  # an adapter's bug must still end the check with an answer
        log.exception("checking PSA connection %s failed", connection.id)
        result = f"Unexpected error ({type(error).__name__}): see the server's log."
    connection.checked_at, connection.check_result = utcnow(), result[:2000]
    db.session.commit()
    return connection.check_result


def _one_line(error):
    return " ".join(str(error).split()) or type(error).__name__


def refresh_lookups(connection, *, actor=None, connector=None):
    """Fetch the PSA's lookups and put them in place of the cached ones, in one transaction.
    Returns ``{kind: count}``; raises ``PsaError`` (nothing changed) when the PSA fails."""
    with closing(connector or connector_of(connection)) as psa:
        lookups = psa.fetch_lookups()
    rows = _lookup_rows(connection, lookups)
    db.session.execute(delete(PsaLookup).where(PsaLookup.connection_id == connection.id))
    if rows:
        db.session.execute(insert(PsaLookup), rows)
    connection.lookups_fetched_at = utcnow()
    counts = {}
    for row in rows:
        counts[row["kind"]] = counts.get(row["kind"], 0) + 1
    if actor is not None:
        audit.record("psa.lookups", actor=actor, field=audit_field(connection, "lookups"),
                     new=describe_counts(counts))
    db.session.commit()
    return counts


def describe_counts(counts):
    """``{kind: n}`` in words: "5 statuses, 4 priorities, ..."."""
    words = {"status": "statuses", "priority": "priorities", "ticket_type": "ticket types",
             "client": "clients", "user": "users", "agent": "agents"}
    return ", ".join(f"{counts.get(kind, 0)} {plural}" for kind, plural in words.items())


def _lookup_rows(connection, lookups):
    """The rows of ``lookups`` (a ``Lookups``), one per kind and id (a PSA listing one twice
    keeps the first). A ticket type's ``extra`` carries the fields the PSA requires on a new
    ticket of that type (``required_fields``: ``[[field, label], ...]``)."""
    lists = {"status": lookups.statuses, "priority": lookups.priorities,
             "ticket_type": lookups.ticket_types, "client": lookups.clients,
             "user": lookups.users, "agent": lookups.agents}
    required = lookups.required_fields or {}
    rows, seen = [], set()
    for kind, items in lists.items():
        for item in items:
            key = (kind, str(item.external_id)[:64])
            if key in seen:
                continue
            seen.add(key)
            extra = dict(item.extra or {})
            if kind == "ticket_type" and required.get(item.external_id):
                extra["required_fields"] = [[str(f), str(label)] for f, label in
                                            required[item.external_id]]
            rows.append({"connection_id": connection.id, "kind": kind, "external_id": key[1],
                         "name": (item.name or key[1])[:300], "extra": extra})
    return rows
