"""Account mail (password reset and set-password links) through an outbox
(``services.outbox``), like notifications: ``queue`` adds a row in the caller's transaction,
``OUTBOX.dispatch`` enqueues its send job after the commit (``jobs.mail``). Besides the
outbox's states a row is ``withheld`` when the recipient is disabled at send time, and
``kept`` (the message stored in the row, for admins to read at /admin/mail) when no mail
server is configured. /admin/mail lists kept account mail and kept notifications together
(``kept_page``).
"""

from collections import namedtuple

from sqlalchemy import and_, func, literal, or_, select, union_all

from helpdesk.extensions import db
from helpdesk.models import Notification, OutgoingMail
from helpdesk.params import parse_id, parse_utc
from helpdesk.services.outbox import Outbox

OUTBOX = Outbox(OutgoingMail, send_job="jobs.mail.send_mail", name="mail")


def queue(kind, recipient):
    """Add a message of ``kind`` to ``recipient`` to the caller's transaction (no commit)."""
    mail = OutgoingMail(kind=kind, recipient=recipient, to_email=recipient.email)
    db.session.add(mail)
    return mail


KeptMail = namedtuple("KeptMail", "source id created_at to_email subject body")
KEPT_PER_PAGE = 50


def kept_page(*, before=None, kind=None, to=None, per_page=KEPT_PER_PAGE):
    """The ``kept`` messages (no mail server was configured) for /admin/mail: account mail
    and notifications together, newest first, ``per_page`` of them after the cursor
    ``before`` (from ``kept_cursor``); and the next page's cursor (None on the last).

    ``kind``: only account mail (``"account"``) or one notification event (``EVENTS``), so
    an admin finds the acknowledgements among a day's SLA notices; ``to``: only messages to
    addresses containing it (any case)."""
    sources = [("mail", OutgoingMail), ("notification", Notification)]
    if kind == "account":
        sources = sources[:1]
    elif kind:
        sources = sources[1:]
    parts = []
    for source, model in sources:
        part = select(literal(source).label("source"), model.id, model.created_at,
                      model.to_email, model.subject, model.body).where(model.state == "kept")
        if source == "notification" and kind and kind != "account":
            part = part.where(Notification.kind == kind)
        if to:
            part = part.where(func.lower(model.to_email).contains(to.lower(), autoescape=True))
        parts.append(part)
    kept = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    query = select(kept).order_by(kept.c.created_at.desc(), kept.c.source.desc(),
                                  kept.c.id.desc()).limit(per_page + 1)
    if before is not None:
        created_at, source, row_id = before
        query = query.where(or_(
            kept.c.created_at < created_at,
            and_(kept.c.created_at == created_at, kept.c.source < source),
            and_(kept.c.created_at == created_at, kept.c.source == source, kept.c.id < row_id),
        ))
    rows = [KeptMail(*row) for row in db.session.execute(query).all()]
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (kept_cursor(rows[-1]) if more else None)


def kept_cursor(mail):
    """A page cursor after ``mail``: its time, source and id, as text for a link."""
    return f"{mail.created_at.isoformat()}~{mail.source}~{mail.id}"


def parse_kept_cursor(text):
    """``kept_cursor``'s text back as ``(created_at, source, id)``, or None when it is not
    one."""
    parts = (text or "").split("~")
    if len(parts) != 3 or parts[1] not in ("mail", "notification"):
        return None
    created_at, row_id = parse_utc(parts[0]), parse_id(parts[2])
    if created_at is None or row_id is None:
        return None
    return created_at, parts[1], row_id
