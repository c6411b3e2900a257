"""``/admin/mail``: outgoing mail kept because no mail server is configured (no SMTP_HOST).

Without a mail server a password reset or set-password message, or a notification, is not
dropped: it is kept (``services.outgoing_mail``, ``jobs.notifications``) and shown here,
newest first, so an admin can read it and pass a link on.
"""

from flask import Blueprint, abort, render_template, request

from helpdesk.admin.views import admins_only
from helpdesk.mail import mail_configured
from helpdesk.services import outgoing_mail
from helpdesk.services.notification_preferences import EVENT_LABELS

# The choices of the page's "What" filter: account mail, then each notification event.
KINDS = {"account": "Account mail (password links)", **EVENT_LABELS}

bp = Blueprint("admin_mail", __name__, url_prefix="/admin/mail")
bp.before_request(admins_only)


@bp.get("")
def kept_mail():
    """The kept messages, newest first, with their text; paged by ``before`` (a cursor),
    narrowed by ``kind`` (account mail or one notification event) and ``to``."""
    before_text = request.args.get("before", "")
    before = outgoing_mail.parse_kept_cursor(before_text) if before_text else None
    if before_text and before is None:
        abort(404)
    kind = request.args.get("kind", "")
    if kind not in KINDS:
        kind = ""
    to = request.args.get("to", "").strip()[:254]
    messages, next_before = outgoing_mail.kept_page(before=before, kind=kind or None,
                                                    to=to or None)
    return render_template("admin/mail.html", messages=messages, next_before=next_before,
                           paged=before is not None, configured=mail_configured(),
                           kinds=KINDS, kind=kind, to=to)
