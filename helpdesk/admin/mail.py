"""``/admin/mail``: account mail kept because no mail server is configured (no SMTP_HOST).

Without a mail server a password reset or set-password message is not dropped: it is kept
(``services.outgoing_mail``) and shown here, so an admin can pass the link on.
"""

from flask import Blueprint, render_template

from helpdesk.admin.views import admins_only
from helpdesk.mail import mail_configured
from helpdesk.services import outgoing_mail

bp = Blueprint("admin_mail", __name__, url_prefix="/admin/mail")
bp.before_request(admins_only)


@bp.get("")
def kept_mail():
    """The newest kept messages, with their text."""
    return render_template("admin/mail.html", messages=outgoing_mail.kept_page(),
                           configured=mail_configured())
