"""The PSA settings' audit entries as sentences (``helpdesk/admin/audit_sentences.py`` asks
here for every ``psa.*`` action).

Entries name their connection by id in ``field`` (``"3:base_url"``, ``"3:status.open"``,
``"3:organisation.12"``), so a sentence shows the connection's current name (or its number,
once deleted). Secrets are never in an entry: their changes read "changed the client secret".
"""

from flask import url_for
from markupsafe import Markup

from helpdesk.extensions import db
from helpdesk.models import Category, Organisation, PsaConnection
from helpdesk.params import parse_id
from helpdesk.services.psa_connections import SETTING_LABELS
from helpdesk.template_filters import status_label

SECRETS = {"client_secret": "client secret", "webhook_secret": "webhook secret"}


def _strong(text):
    if text is None or text == "":
        return Markup("<em>none</em>")
    return Markup("<strong>{}</strong>").format(text)


def _parts(entry):
    """(connection id, what) from the entry's field."""
    head, _, what = (entry.field or "").partition(":")
    return parse_id(head), what


def _connection(connection_id):
    connection = db.session.get(PsaConnection, connection_id) if connection_id else None
    if connection is None:
        return Markup("the PSA connection #{}").format(connection_id)
    return Markup('the PSA connection <a href="{}">{}</a>').format(
        url_for("admin_psa.connection", connection_id=connection.id), connection.name)


def _ours(kind, value):
    if kind == "status":
        return status_label(value)
    if kind == "priority":
        return value.capitalize()
    category = db.session.get(Category, parse_id(value)) if parse_id(value) else None
    return category.name if category else f"category #{value}"


def _linked(entry, what):
    """Whom a link entry is about: the subscriber (``subject_user``) or the organisation."""
    kind, _, local_id = what.partition(".")
    if kind == "user":
        from helpdesk.admin.audit_sentences import _person

        return Markup("the subscriber {}").format(_person(entry.subject_user))
    organisation = (db.session.get(Organisation, parse_id(local_id)) if parse_id(local_id)
                    else None)
    return Markup("the organisation {}").format(_strong(
        organisation.name if organisation else f"#{local_id}"))


def psa_predicate(entry):
    """What an admin did to a PSA connection, after their name."""
    connection_id, what = _parts(entry)
    on = _connection(connection_id)
    action = entry.action
    if action == "psa.connection_create":
        return Markup("created {}").format(on)
    if action in ("psa.connection_enable", "psa.connection_disable"):
        return Markup("{} sync with {}").format(
            "enabled" if action.endswith("enable") else "disabled", on)
    if action == "psa.connection_change" and what in SECRETS:
        return Markup("changed the {} of {}").format(SECRETS[what], on)
    if action == "psa.connection_change":
        return Markup("changed the {} of {} from {} to {}").format(
            SETTING_LABELS.get(what, what), on, _strong(entry.old_value),
            _strong(entry.new_value))
    if action == "psa.lookups":
        return Markup("fetched the lookups of {} ({})").format(on, entry.new_value)
    if action == "psa.mapping":
        kind, _, ours = what.partition(".")
        return Markup("mapped the {} {} to {} on {} (was {})").format(
            kind, _strong(_ours(kind, ours)), _strong(entry.new_value), on,
            _strong(entry.old_value))
    if action == "psa.link":
        words = "PSA user" if what.startswith("user.") else "PSA client"
        return Markup("linked {} to the {} {} on {} (was {})").format(
            _linked(entry, what), words, _strong(entry.new_value), on,
            _strong(entry.old_value))
    if action == "psa.default_client":
        return Markup("set the client for unlinked organisations on {} to {} (was {})").format(
            on, _strong(entry.new_value), _strong(entry.old_value))
    if action == "psa.new_ticket_field":
        return Markup("set the new-ticket field {} on {} to {} (was {})").format(
            what.partition(".")[2], on, _strong(entry.new_value), _strong(entry.old_value))
    return Markup("did {} on {}").format(action, on)
