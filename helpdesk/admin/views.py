"""``/admin/...``: pages for the admin role. Anyone else is told the page does not exist."""

from flask import Blueprint, abort, request
from flask_login import current_user

from helpdesk.access import may_administer
from helpdesk.admin.audit_sentences import sentence
from helpdesk.extensions import login_manager
from helpdesk.pages import render_page
from helpdesk.params import parse_id
from helpdesk.services import audit_log

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    """Sign-in first; then 404 for every role but admin (the pages' existence is private)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not may_administer(current_user):
        abort(404)
    return None


@bp.get("/audit")
def audit():
    """The audit log as sentences, newest first, filtered by ``ticket`` and ``user`` (an
    email, a name or an id; several people by that name are listed to pick from), paged by
    ``before``."""
    ticket_text = request.args.get("ticket", "")
    user_text = request.args.get("user", "")
    before = request.args.get("before", "")
    errors, entries, next_before = {}, [], None
    try:
        ticket_id = audit_log.ticket_id_from(ticket_text)
    except audit_log.AuditFilterError as error:
        errors[error.field], ticket_id = str(error), None
    people = []
    try:
        user = audit_log.user_from(user_text)
    except audit_log.AuditFilterError as error:
        errors[error.field], user = str(error), None
        people = getattr(error, "people", [])
    before_id = parse_id(before) if before else None
    if before and before_id is None:
        abort(404)
    if not errors:
        entries, next_before = audit_log.entries_page(
            ticket_id=ticket_id, user=user, before=before_id)
    return render_page(
        "admin/audit.html", "admin/_audit_table.html",
        entries=entries, next_before=next_before, errors=errors, ticket_text=ticket_text,
        user_text=user_text, paged=bool(before), people=people, sentence=sentence,
    )
