"""``/admin/mail/inbound``: the mail that came in (over IMAP or from the MTA) and what came of
it. Admins only; everyone else gets 404.

A message that could not be taken in (``failed``) is kept with its bytes and waits here:
**retry** runs the intake on it again (after the cause is fixed: a category restored, a
customer created), **discard** gives up on it, and the row stays for the record. Every
message can be downloaded as it arrived (``.eml``).
"""

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from helpdesk.admin.answers import changed
from helpdesk.admin.views import admins_only
from helpdesk.params import parse_id
from helpdesk.services import inbound_mail, mail_intake, mail_senders
from helpdesk.services.mail_fetch import imap_configured

bp = Blueprint("admin_inbound_mail", __name__, url_prefix="/admin/mail/inbound")
bp.before_request(admins_only)


@bp.get("")
def inbound():
    """The messages of one state (``state``; failed first by default), newest first."""
    counts = inbound_mail.counts()
    state = request.args.get("state") or ("failed" if counts["failed"] else "processed")
    if state not in (*inbound_mail.TABS, "all"):
        abort(404)
    before_text = request.args.get("before", "")
    before = parse_id(before_text) if before_text else None
    if before_text and before is None:
        abort(404)
    messages, next_before = inbound_mail.page(state=None if state == "all" else state,
                                              before=before)
    return render_template(
        "admin/inbound_mail.html", messages=messages, kept=inbound_mail.kept_ids(messages),
        next_before=next_before, state=state,
        counts=counts, cap=inbound_mail.COUNT_CAP, tabs=inbound_mail.TABS, paged=before is not None,
        imap=imap_configured(), unknown_sender_id=mail_senders.unknown_sender_id())


@bp.post("/<int:inbound_id>/retry")
def retry(inbound_id):
    """Run the intake on a failed message again."""
    try:
        row = mail_intake.retry(inbound_id, actor=current_user)
    except mail_intake.IntakeError:
        abort(404)
    if row.state == "failed":
        message = f"Message {inbound_id} failed again: {row.reason}"
    elif row.state == "processed":
        message = f"Message {inbound_id} was taken in."
    else:
        message = f"Message {inbound_id} is {row.state}: {row.reason}"
    return changed(message, url_for("admin_inbound_mail.inbound", state="failed"))


@bp.post("/<int:inbound_id>/discard")
def discard(inbound_id):
    """Give up on a failed message (the row and its bytes stay)."""
    try:
        mail_intake.discard(inbound_id, actor=current_user)
    except mail_intake.IntakeError:
        abort(404)
    return changed(f"Message {inbound_id} was discarded.",
                   url_for("admin_inbound_mail.inbound", state="failed"))


@bp.get("/<int:inbound_id>/raw")
def raw(inbound_id):
    """The message as it arrived, as a file to save (never shown in the browser)."""
    row, data = inbound_mail.raw_of(inbound_id)
    if row is None or data is None:
        abort(404)
    return data, 200, {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="inbound-{row.id}.eml"',
        "X-Content-Type-Options": "nosniff",
    }
