"""``/admin/psa/dead-letters``: the PSA writes that did not go through, to retry or discard.

Admins only (404 for everyone else). Each dead write shows its ticket, kind, attempts, the
request payload, the PSA's answer and the error; retry and discard (with a reason) work one
at a time and for several at once, every one in the audit log (``services.psa_dead_letters``).
Plain forms that redirect; a refused discard (no reason) comes back with what was typed.
"""

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.keyset import decode_cursor
from helpdesk.pages import render_page
from helpdesk.params import parse_ids
from helpdesk.services import psa_dead_letters as service
from helpdesk.services.psa_requests import payload_text

bp = Blueprint("admin_psa_dead_letters", __name__, url_prefix="/admin/psa/dead-letters")
bp.before_request(admins_only)

PAGE, FRAGMENT = "admin/psa_dead_letters.html", "admin/_psa_dead_letters.html"


def _context(*, cursor=None, error=None, error_field=None, error_row=None, reason=""):
    rows, paging = service.dead_page(cursor=cursor)
    return {"rows": rows, "paging": paging, "total": service.dead_count(), "cursor": cursor,
            "kinds": service.KIND_LABELS, "payload_text": payload_text, "error": error,
            "error_field": error_field, "error_row": error_row, "reason": reason}


@bp.get("")
def dead_letters():
    """The dead writes, newest first, a page at a time (``after``: a keyset cursor)."""
    cursor = request.args.get("after") or None
    if cursor and decode_cursor(cursor, service.ORDER) is None:
        abort(404)
    return render_page(PAGE, FRAGMENT, **_context(cursor=cursor))


def _refused(error, *, row=None):
    return refused(PAGE, **_context(error=str(error), error_field=error.field, error_row=row,
                                    reason=request.form.get("reason", "")))


def _back():
    return url_for("admin_psa_dead_letters.dead_letters")


def _writes(count):
    return "write" if count == 1 else "writes"


@bp.post("/<int:write_id>/retry")
def retry_one(write_id):
    """Put one dead write back in the queue."""
    try:
        service.retry([write_id], actor=current_user)
    except service.DeadLetterError as error:
        return _refused(error, row=write_id)
    return changed(f"Write {write_id} is back in the queue.", _back())


@bp.post("/<int:write_id>/discard")
def discard_one(write_id):
    """Give one dead write up, with a reason."""
    try:
        service.discard([write_id], actor=current_user, reason=request.form.get("reason"))
    except service.DeadLetterError as error:
        return _refused(error, row=write_id)
    return changed(f"Write {write_id} was discarded.", _back())


def _selected():
    """The writes a bulk form picked: the ticked ones, or every dead one with ``all``."""
    if request.form.get("all"):
        return service.dead_ids()
    return parse_ids(request.form.getlist("write"), limit=service.MAX_SELECTED) or []


@bp.post("/retry")
def retry_many():
    """Put the picked dead writes back in the queue."""
    try:
        count = service.retry(_selected(), actor=current_user)
    except service.DeadLetterError as error:
        return _refused(error)
    return changed(f"{count} {_writes(count)} back in the queue.", _back())


@bp.post("/discard")
def discard_many():
    """Give the picked dead writes up, with one reason."""
    try:
        count = service.discard(_selected(), actor=current_user,
                                reason=request.form.get("reason"))
    except service.DeadLetterError as error:
        return _refused(error)
    return changed(f"{count} {_writes(count)} discarded.", _back())
