"""Reading the audit log: newest first, filtered by ticket or person, a page at a time.

Writing lives in ``helpdesk.services.audit``. Pages use a keyset cursor (``before``: the id
of the last entry shown), so paging stays fast and stable while new entries arrive.
"""

from flask import current_app
from sqlalchemy import func, or_, select

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, User
from helpdesk.params import parse_id
from helpdesk.search.query import ticket_number
from helpdesk.services.accounts import find_user
from helpdesk.services.errors import Refused

PER_PAGE = 50


class AuditFilterError(Refused):
    """A filter the log cannot apply; the message says why, ``field`` names the input."""


def ticket_id_from(text):
    """A ticket filter as typed: ``1042`` or ``TKT-1042``, read as the search box reads a
    ticket number (``search.ticket_number``); None when blank."""
    text = (text or "").strip()
    if not text:
        return None
    number = ticket_number(text, current_app.config["TICKET_PREFIX"])
    if number is None:
        raise AuditFilterError(f"{text!r} is not a ticket number.", field="ticket")
    return number[0]


class SeveralPeople(AuditFilterError):
    """More than one person matches the name typed: ``people`` lists them to pick from."""

    def __init__(self, text, people):
        super().__init__(f"{len(people)} people match {text!r}: pick one.", field="user")
        self.people = people


MAX_NAME_MATCHES = 20


def user_from(text):
    """A user filter as typed: an id, an email or a name (whole, or part of one); None when
    blank. Several people by that name raise ``SeveralPeople``."""
    text = (text or "").strip()
    if not text:
        return None
    user_id = parse_id(text)
    user = db.session.get(User, user_id) if user_id is not None else find_user(text)
    if user is not None:
        return user
    needle = " ".join(text.split()).lower()
    named = db.session.scalars(select(User).where(func.lower(User.name) == needle)
                               .order_by(User.name, User.email)).all()
    if not named:
        named = db.session.scalars(
            select(User).where(func.lower(User.name).contains(needle, autoescape=True))
            .order_by(User.name, User.email).limit(MAX_NAME_MATCHES + 1)).all()
    if len(named) == 1:
        return named[0]
    if named:
        raise SeveralPeople(text, named[:MAX_NAME_MATCHES])
    raise AuditFilterError(f"Nobody matches {text!r}.", field="user")


def entries_page(*, ticket_id=None, user=None, before=None, per_page=PER_PAGE):
    """One page of entries, newest first, and the cursor of the next page (or None).

    ``user`` matches entries the user did and entries done to them (sign-ins, disabling).
    ``before`` is the id of the last entry of the previous page.
    """
    query = select(AuditEntry)
    if ticket_id is not None:
        query = query.where(AuditEntry.ticket_id == ticket_id)
    if user is not None:
        query = query.where(or_(AuditEntry.actor_id == user.id,
                                AuditEntry.subject_user_id == user.id))
    if before is not None:
        cursor = db.session.get(AuditEntry, before)
        if cursor is not None:
            query = query.where(or_(
                AuditEntry.created_at < cursor.created_at,
                (AuditEntry.created_at == cursor.created_at) & (AuditEntry.id < cursor.id),
            ))
    query = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    rows = db.session.scalars(query.limit(per_page + 1)).unique().all()
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (rows[-1].id if has_more else None)
