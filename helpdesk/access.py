"""Who may see which tickets, and what they may do to them.

Every ticket query goes through ``visible_tickets`` (or ``ticket_scope``): lists, detail pages,
partials, searches, counts, exports, the API and notifications. A ticket outside the scope
answers 404, never 403. ``may`` answers the same question for a ticket already loaded, plus
what the user may do to it; the services call it before every change (``services.permissions``).
Moving a ticket to another team (``set_team``) is for staff alone: teams are the operator's own
people, so no reseller permission grants it.

| role          | sees                                   | internal notes |
|---------------|----------------------------------------|----------------|
| subscriber    | tickets they opened                    | never          |
| company_admin | every ticket of their organisation     | never          |
| reseller      | own subscribers' tickets (all with tickets.view_all) | yes |
| agent, admin  | all                                    | yes            |

The table is written once, in ``scope_of``, as data (a ``Scope``: everything, nothing, or the
tickets whose column equals a value). The SQL filter (``ticket_scope``), the check on a loaded
ticket (``can_see``), the customer hubs and opening tickets on someone's behalf all derive from
it, so they cannot drift apart; the access tests check SQL and Python agree for generated users
and tickets.

Attachments follow their ticket, and an internal note's files follow the note
(``visible_attachments``). The admin pages are for the admin role only (``may_administer``).
"""

from dataclasses import dataclass

from flask import abort
from sqlalchemy import and_, false, func, not_, or_, select, true

from helpdesk.extensions import db
from helpdesk.models import Attachment, Reply, Ticket, TicketEvent
from helpdesk.models.ticket import CUSTOMER_STATUSES
from helpdesk.models.ticket_event import PUBLIC_EVENT_KINDS

ACTIONS = frozenset({"view", "reply", "internal_note", "edit", "delete", "comment", "rate",
                     "set_team"})
# Staff only, whatever a reseller's permissions: teams are the operator's own people.
STAFF_ACTIONS = ("reply", "internal_note", "edit", "delete", "set_team")
# The ticket columns a scope may match on: who opened it, their organisation, their reseller.
SCOPE_COLUMNS = ("subscriber_id", "organisation_id", "reseller_id")


@dataclass(frozen=True)
class Scope:
    """The tickets someone may see, as data: ``everything``, or the tickets whose ``column``
    equals ``value`` (no column: nothing). Deleted tickets are outside every scope."""

    everything: bool = False
    column: str | None = None
    value: int | None = None

    def condition(self, model=Ticket):
        """The scope as an SQL condition on ``Ticket`` (or on another table with the scope's
        column, such as the counters' tallies)."""
        if self.everything:
            return true()
        if self.column is None:
            return false()
        return getattr(model, self.column) == self.value

    def admits(self, **columns):
        """Does a ticket with these ``SCOPE_COLUMNS`` values fall in the scope? A column not
        given does not match, as NULL never equals anything in SQL."""
        if self.everything:
            return True
        if self.column is None:
            return False
        found = columns.get(self.column)
        return found is not None and found == self.value


EVERYTHING = Scope(everything=True)
NOTHING = Scope()


def _matching(column, value):
    """The tickets whose ``column`` equals ``value``; nothing when there is no value."""
    return NOTHING if value is None else Scope(column=column, value=value)


def is_signed_in(user):
    """A signed-in, active user: anyone else sees and may nothing."""
    return user is not None and user.is_authenticated and user.is_active


def scope_of(user):
    """The one visibility rule of the table above, as a ``Scope``."""
    if not is_signed_in(user):
        return NOTHING
    if user.is_staff:
        return EVERYTHING
    if user.role == "reseller":
        if "tickets.view_all" in user.permissions:
            return EVERYTHING
        if "tickets.view" in user.permissions:
            return _matching("reseller_id", user.reseller_id)
        return NOTHING
    if user.role == "company_admin" and user.organisation_id is not None:
        return _matching("organisation_id", user.organisation_id)
    if user.is_customer:
        return _matching("subscriber_id", user.id)
    return NOTHING


def ticket_scope(user):
    """The SQL condition selecting the tickets ``user`` may see (deleted ones excluded)."""
    return Ticket.deleted_at.is_(None) & scope_of(user).condition()


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
    """The scope rule for a loaded ticket: ``ticket_scope`` evaluated in Python."""
    if ticket.deleted_at is not None:
        return False
    return scope_of(user).admits(**{column: getattr(ticket, column) for column in SCOPE_COLUMNS})


def sees_internal_notes(user):
    """Staff and resellers read internal notes; subscribers and company admins never do."""
    return is_signed_in(user) and not user.is_customer


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
        return action in STAFF_ACTIONS
    granted = {
        "reply": "tickets.reply",
        "internal_note": "tickets.reply",
        "edit": "tickets.edit",
        "delete": "tickets.delete",
    }
    return action in granted and granted[action] in user.permissions


def may_open_ticket_for(user, subscriber):
    """May ``user`` open a ticket on behalf of ``subscriber`` (a customer-role user)?

    Customers open their own; staff and resellers (with ``tickets.create``) open tickets that
    will be in their scope: the new ticket takes the subscriber's organisation and reseller.
    """
    if not is_signed_in(user) or not subscriber.is_customer:
        return False
    if user.is_customer:
        return subscriber.id == user.id
    if user.role == "reseller" and "tickets.create" not in user.permissions:
        return False
    return scope_of(user).admits(subscriber_id=subscriber.id,
                                 organisation_id=subscriber.organisation_id,
                                 reseller_id=subscriber.reseller_id)


def may_view_customer(user, person):
    """May ``user`` open the hub of ``person`` (a subscriber or company admin)?"""
    return person.is_customer and _may_view_customers_of(user, person.reseller_id)


def may_view_organisation(user, organisation):
    """May ``user`` open an organisation's hub?"""
    return _may_view_customers_of(user, organisation.reseller_id)


def _may_view_customers_of(user, reseller_id):
    """Hubs are desk pages: staff see every customer, a reseller those whose tickets would be
    in their scope (their own subscribers, or all with tickets.view_all)."""
    if not is_signed_in(user) or user.is_customer:
        return False
    return scope_of(user).admits(reseller_id=reseller_id)


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
    return is_signed_in(user) and user.role == "admin"


def visible_events(user, ticket):
    """``select(TicketEvent)`` of a ticket's timeline as ``user`` may read it, oldest first.

    Customers get public events only (status changes): never an assignment, a handoff or
    anything else that names staff or shows internal work; and no change between two statuses
    they read alike (``in_progress`` to ``on_hold`` would say "In progress" twice).
    """
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if not sees_internal_notes(user):
        query = query.where(TicketEvent.internal.is_(False),
                            TicketEvent.kind.in_(sorted(PUBLIC_EVENT_KINDS)),
                            not_(_alike_to_customers()))
    return query.order_by(TicketEvent.created_at, TicketEvent.id)


def _alike_to_customers():
    """SQL: a status event between two statuses a customer reads the same
    (``models.ticket.reads_alike_to_customers``)."""
    old, new = (func.coalesce(value, "") for value in (TicketEvent.old_value,
                                                         TicketEvent.new_value))
    return or_(false(), *(
        and_(TicketEvent.kind == "status", old.in_(shown.statuses), new.in_(shown.statuses))
        for shown in CUSTOMER_STATUSES if len(shown.statuses) > 1
    ))
