"""Who may see which tickets, and what they may do to them.

Every ticket query goes through ``visible_tickets`` (or ``ticket_scope``): lists, detail pages,
partials, searches, counts, exports, the API and notifications. A ticket outside the scope
answers 404, never 403. ``may`` answers the same question for a ticket already loaded, plus
what the user may do to it; the access tests check that both agree for every role.

| role          | sees                                   | internal notes |
|---------------|----------------------------------------|----------------|
| subscriber    | tickets they opened                    | never          |
| company_admin | every ticket of their organisation     | never          |
| reseller      | own subscribers' tickets (all with tickets.view_all) | yes |
| agent, admin  | all                                    | yes            |

Attachments follow their ticket, and an internal note's files follow the note
(``visible_attachments``). The admin pages are for the admin role only (``may_administer``).
"""

from flask import abort
from sqlalchemy import false, or_, select, true

from helpdesk.extensions import db
from helpdesk.models import Attachment, Reply, Ticket, TicketEvent
from helpdesk.models.ticket_event import PUBLIC_EVENT_KINDS

ACTIONS = frozenset({"view", "reply", "internal_note", "edit", "delete", "comment", "rate"})


def ticket_scope(user):
    """The SQL condition selecting the tickets ``user`` may see (deleted ones excluded)."""
    return Ticket.deleted_at.is_(None) & _role_scope(user)


def _role_scope(user):
    """The per-role half of ``ticket_scope``; a user who fits no rule sees nothing."""
    if user is None or not user.is_authenticated or not user.is_active:
        return false()
    if user.is_staff:
        return true()
    if user.role == "reseller":
        if "tickets.view_all" in user.permissions:
            return true()
        if "tickets.view" in user.permissions and user.reseller_id is not None:
            return Ticket.reseller_id == user.reseller_id
        return false()
    if user.role == "company_admin" and user.organisation_id is not None:
        return Ticket.organisation_id == user.organisation_id
    if user.role in ("subscriber", "company_admin"):
        return Ticket.subscriber_id == user.id
    return false()


def visible_tickets(user):
    """``select(Ticket)`` limited to what ``user`` may see; add filters and order to it."""
    return select(Ticket).where(ticket_scope(user))


def get_visible_ticket(user, ticket_id):
    """Load one ticket the user may see, or answer 404 (never 403: its existence is private)."""
    ticket = db.session.scalar(visible_tickets(user).where(Ticket.id == ticket_id))
    if ticket is None:
        abort(404)
    return ticket


def can_see(user, ticket):
    """The scope rule for a loaded ticket; must agree with ``ticket_scope``."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if ticket.deleted_at is not None:
        return False
    if user.is_staff:
        return True
    if user.role == "reseller":
        if "tickets.view_all" in user.permissions:
            return True
        return (
            "tickets.view" in user.permissions
            and user.reseller_id is not None
            and ticket.reseller_id == user.reseller_id
        )
    if user.role == "company_admin" and user.organisation_id is not None:
        return ticket.organisation_id == user.organisation_id
    return user.role in ("subscriber", "company_admin") and ticket.subscriber_id == user.id


def sees_internal_notes(user):
    """Staff and resellers read internal notes; subscribers and company admins never do."""
    return user.is_authenticated and user.is_active and not user.is_customer


def may(user, action, ticket):
    """May ``user`` do ``action`` to ``ticket``? ``view`` is the scope rule itself."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not can_see(user, ticket):
        return False
    if action == "view":
        return True
    if user.is_customer:
        if action == "comment":
            return ticket.status != "closed"
        if action == "rate":
            return ticket.status in ("resolved", "closed")
        return False
    if user.is_staff:
        return action in ("reply", "internal_note", "edit", "delete")
    granted = {
        "reply": "tickets.reply",
        "internal_note": "tickets.reply",
        "edit": "tickets.edit",
        "delete": "tickets.delete",
    }
    return action in granted and granted[action] in user.permissions


def may_open_ticket_for(user, subscriber):
    """May ``user`` open a ticket on behalf of ``subscriber`` (a customer-role user)?"""
    if not (user.is_authenticated and user.is_active) or not subscriber.is_customer:
        return False
    if user.is_staff:
        return True
    if user.role == "reseller":
        if "tickets.create" not in user.permissions:
            return False
        return (
            "tickets.view_all" in user.permissions
            or subscriber.reseller_id == user.reseller_id
        )
    return subscriber.id == user.id


def may_view_customer(user, person):
    """May ``user`` open the hub of ``person`` (a subscriber or company admin)?"""
    return person.is_customer and _may_view_customers_of(user, person.reseller_id)


def may_view_organisation(user, organisation):
    """May ``user`` open an organisation's hub?"""
    return _may_view_customers_of(user, organisation.reseller_id)


def _may_view_customers_of(user, reseller_id):
    """Staff see every customer; a reseller their own (or all, with tickets.view_all)."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_staff:
        return True
    if user.role != "reseller":
        return False
    if "tickets.view_all" in user.permissions:
        return True
    return ("tickets.view" in user.permissions and reseller_id is not None
            and reseller_id == user.reseller_id)


def visible_replies(user, ticket):
    """``select(Reply)`` of a ticket's thread as ``user`` may read it, oldest first."""
    query = select(Reply).where(Reply.ticket_id == ticket.id)
    if not sees_internal_notes(user):
        query = query.where(Reply.internal.is_(False))
    return query.order_by(Reply.created_at, Reply.id)


def visible_attachments(user, ticket):
    """``select(Attachment)`` of a ticket the user may see; files of internal notes only for
    those who read internal notes. Load ``ticket`` with ``get_visible_ticket`` first."""
    query = select(Attachment).where(Attachment.ticket_id == ticket.id)
    if not sees_internal_notes(user):
        query = query.outerjoin(Reply, Attachment.reply_id == Reply.id).where(
            or_(Attachment.reply_id.is_(None), Reply.internal.is_(False))
        )
    return query.order_by(Attachment.created_at, Attachment.id)


def get_visible_attachment(user, ticket, attachment_id):
    """One attachment of ``ticket`` the user may see, or 404 (another ticket's file, or an
    internal note's file for a customer, does not exist for them)."""
    attachment = db.session.scalar(
        visible_attachments(user, ticket).where(Attachment.id == attachment_id)
    )
    if attachment is None:
        abort(404)
    return attachment


def may_administer(user):
    """The admin pages (audit log, settings) are for active admins; everyone else gets 404."""
    return bool(user is not None and user.is_authenticated and user.is_active
                and user.role == "admin")


def visible_events(user, ticket):
    """``select(TicketEvent)`` of a ticket's timeline as ``user`` may read it, oldest first.

    Customers get public events only (status changes): never an assignment, a handoff or
    anything else that names staff or shows internal work.
    """
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if not sees_internal_notes(user):
        query = query.where(TicketEvent.internal.is_(False),
                            TicketEvent.kind.in_(sorted(PUBLIC_EVENT_KINDS)))
    return query.order_by(TicketEvent.created_at, TicketEvent.id)
