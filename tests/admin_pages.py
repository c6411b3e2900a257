"""Helpers for the admin page tests: posting forms as a browser does, reading the audit."""

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import AuditEntry
from tests.conftest import csrf_token_from


def post(client, action, data=None, *, page="/admin/users", htmx=False):
    """Post a form with the CSRF token of ``page`` (the page the form is on)."""
    token = csrf_token_from(client.get(page).text)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(action, data={"csrf_token": token, **(data or {})}, headers=headers)


def audit_entries(app, action):
    """(actor id, subject user id, field, old, new) of every entry of ``action``, oldest first."""
    with app.app_context():
        return [(e.actor_id, e.subject_user_id, e.field, e.old_value, e.new_value)
                for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                            .order_by(AuditEntry.id))]
