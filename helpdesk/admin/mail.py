"""``/admin/mail``: outgoing mail kept because no mail server is configured (no SMTP_HOST).

Without a mail server a password reset or set-password message, or a notification, is not
dropped: it is kept (``services.outgoing_mail``, ``jobs.notifications``) and shown here,
newest first, so an admin can read it and pass a link on.
"""

from flask import Blueprint, abort, render_template, request

from helpdesk.admin.views import admins_only
from helpdesk.mail import mail_configured
from helpdesk.services import outgoing_mail

bp = Blueprint("admin_mail", __name__, url_prefix="/admin/mail")
bp.before_request(admins_only)


@bp.get("")
def kept_mail():
    """The kept messages, newest first, with their text; paged by ``before`` (a cursor)."""
    before_text = request.args.get("before", "")
    before = outgoing_mail.parse_kept_cursor(before_text) if before_text else None
    if before_text and before is None:
        abort(404)
    messages, next_before = outgoing_mail.kept_page(before=before)
    return render_template("admin/mail.html", messages=messages, next_before=next_before,
                           paged=before is not None, configured=mail_configured())
