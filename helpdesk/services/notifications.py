"""Notifications: a message to a person about a ticket event, by mail (through an outbox,
``services.outbox``) and in the app (the bell, ``services.bell``).

``notify(event, ticket, recipients, key=...)`` is the one way in. It writes, in the caller's
transaction, one ``Notification`` (mail) and one ``InAppNotification`` per recipient and
channel the recipient keeps on (``services.notification_preferences``); ``key`` names the
event, and ``(kind, key, recipient)`` is unique, so announcing the same event twice makes one
row. The mail rows are dispatched to their send job (``jobs.notifications``) when the
transaction commits (``Outbox.dispatch_on_commit``), so no caller has to remember to, and a
rolled-back change sends nothing.

Who is told of what (the services call ``notify``):
- ``ticket_created``: the subscriber, an acknowledgement quoting number and subject;
- ``public_reply``: a staff or reseller public reply, to the subscriber, with its text;
- ``customer_reply``: to ``recipients_of_customer_reply``;
- ``assigned``: assignment and handoff, to the new assignee, with the handoff note;
- ``sla_at_risk``, ``sla_breached``: to the recipients the SLA sweep names.

History is told to nobody: within ``held_back()`` (a PSA pull importing what happened there
before the desk was connected) ``notify`` writes nothing, so a first import of thousands of
old tickets and their replies mails no one.

Internal notes never reach a customer: a reply a recipient may not read (``visible_replies``)
and a note (always internal: a handoff's, an SLA detail) are never written for a customer,
and ``why_withheld`` asks again at send time. Besides the outbox's states a mail is
``withheld`` (the recipient may no longer read it) or ``kept`` (no mail server: the message
is stored for /admin/mail).
"""

from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.access import may, visible_replies
from helpdesk.extensions import db
from helpdesk.models import InAppNotification, Notification, Reply, User
from helpdesk.services.notification_preferences import EVENTS, channels_for
from helpdesk.services.outbox import Outbox

OUTBOX = Outbox(Notification, send_job="jobs.notifications.send_notification",
                name="notification")
_HELD_BACK = "notifications_held_back"  # session.info: within held_back()


@contextmanager
def held_back(when=True):
    """Within it (when ``when``), ``notify`` tells nobody: for history being imported, whose
    events happened before anyone here could have been told."""
    if not when:
        yield
        return
    before = db.session.info.get(_HELD_BACK, False)
    db.session.info[_HELD_BACK] = True
    try:
        yield
    finally:
        db.session.info[_HELD_BACK] = before


def is_held_back():
    """Are we within ``held_back()`` (importing history: nobody is told)?"""
    return bool(db.session.info.get(_HELD_BACK))


def notify(event_name, ticket, recipients, *, key, reply=None, note=None, actor=None):
    """Tell ``recipients`` of an event on ``ticket`` (no commit): a mail and an in-app
    notification each, as their channels say. ``key`` identifies the event (``reply-12``):
    called again with the same key, nobody gets a second one. ``reply`` is the reply told of
    (its text goes in the mail), ``note`` a handoff note or an SLA detail (staff only),
    ``actor`` who caused it (named in the app). Returns the mail rows written."""
    if event_name not in EVENTS:
        raise ValueError(f"unknown notification event {event_name!r}")
    if is_held_back():
        return []
    written = []
    for recipient in _distinct(recipients):
        if not _may_be_told(recipient, ticket, reply=reply, note=note):
            continue
        channels = channels_for(recipient, event_name)
        if channels.email:
            mail = _add_once(Notification, Notification(
                kind=event_name, key=key, ticket_id=ticket.id, recipient_id=recipient.id,
                reply_id=reply.id if reply is not None else None, note=note,
            ), kind=event_name, key=key, recipient_id=recipient.id)
            if mail is not None:
                written.append(mail)
        if channels.in_app:
            _add_once(InAppNotification, InAppNotification(
                kind=event_name, key=key, ticket_id=ticket.id, user_id=recipient.id,
                actor_id=getattr(actor, "id", None),
                note=note if event_name.startswith("sla_") else None,
            ), kind=event_name, key=key, user_id=recipient.id)
    OUTBOX.dispatch_on_commit(written)
    return written


def recipients_of_customer_reply(ticket):
    """Who hears of a customer's reply: the assignee; else the ticket's team (when tickets
    have teams); else the active users of the ticket's reseller. ``notify`` leaves out anyone
    who may not see the ticket."""
    if ticket.assignee is not None:
        return [ticket.assignee]
    team = getattr(ticket, "team", None)
    if team is not None:
        members = [getattr(member, "user", member) for member in team.members]
        if members:
            return members
    if ticket.reseller_id is not None:
        return db.session.scalars(
            select(User).where(User.role == "reseller", User.reseller_id == ticket.reseller_id,
                               User.disabled_at.is_(None)).order_by(User.id)
        ).all()
    return []


def why_withheld(notification):
    """Why the recipient must not get this message now, or None when they may read it.

    Asked at send time, not when the row was written: between the two the recipient may have
    been disabled, lost a permission, or the ticket may have been deleted.
    """
    recipient, reply, ticket = notification.recipient, notification.reply, notification.ticket
    if not recipient.is_active:
        return "the recipient's account is disabled"
    if ticket.deleted_at is not None:
        return "the ticket was deleted"
    if not may(recipient, "view", ticket):
        return "the recipient may no longer see the ticket"
    if reply is not None and not _may_read(recipient, ticket, reply):
        return "the recipient may not read this reply (an internal note)"
    if notification.note and recipient.is_customer:
        return "the recipient may not read this note (it is internal)"
    return None


def _may_be_told(recipient, ticket, *, reply, note):
    """May ``recipient`` hear of this at all: active, sees the ticket, may read the reply,
    and no internal note for a customer."""
    if recipient is None or not recipient.is_active or not may(recipient, "view", ticket):
        return False
    if reply is not None and not _may_read(recipient, ticket, reply):
        return False
    return not (note and recipient.is_customer)


def _may_read(recipient, ticket, reply):
    """Is ``reply`` in the thread as ``recipient`` reads it (``access.visible_replies``)?"""
    if reply.id is None:
        db.session.flush()
    readable = visible_replies(recipient, ticket).where(Reply.id == reply.id)
    return db.session.scalar(readable.with_only_columns(Reply.id)) is not None


def _distinct(people):
    """Each person once, in the order given (None left out)."""
    seen = set()
    for person in people:
        if person is not None and person.id not in seen:
            seen.add(person.id)
            yield person


def _add_once(model, row, **unique):
    """Add ``row`` unless a row with the ``unique`` values exists (written by an earlier call,
    or by another transaction at the same moment: the unique constraint decides). The row, or
    None when it was there already."""
    if db.session.scalar(select(model.id).filter_by(**unique)) is not None:
        return None
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return None
    return row
