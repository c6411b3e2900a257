"""Account mail (password reset and set-password links) through an outbox
(``services.outbox``), like notifications: ``queue`` adds a row in the caller's transaction,
``OUTBOX.dispatch`` enqueues its send job after the commit (``jobs.mail``). Besides the
outbox's states a row is ``withheld`` when the recipient is disabled at send time, and
``kept`` (the message stored in the row, for admins to read at /admin/mail) when no mail
server is configured.
"""

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import OutgoingMail
from helpdesk.services.outbox import Outbox

OUTBOX = Outbox(OutgoingMail, send_job="jobs.mail.send_mail", name="mail")


def queue(kind, recipient):
    """Add a message of ``kind`` to ``recipient`` to the caller's transaction (no commit)."""
    mail = OutgoingMail(kind=kind, recipient=recipient, to_email=recipient.email)
    db.session.add(mail)
    return mail


def kept_page(*, limit=100):
    """The newest ``kept`` messages (no mail server was configured), for /admin/mail."""
    return db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.state == "kept")
        .order_by(OutgoingMail.id.desc()).limit(limit)
    ).all()
