"""Who an email is from on the desk, and the tickets of senders we do not know.

A message is accepted as a person's only when its From address is that of an active
customer (a subscriber or a company admin). Anyone else (an address we do not know, a
disabled account, staff and resellers, who answer on the desk, where a forged From cannot
speak for them) is an **unknown sender**: their message opens a ticket for the placeholder
subscriber "Unknown email sender", as the PSA pull does for contacts it cannot map
(``services.psa_people``). The placeholder is disabled, so nothing is mailed back to an
address nobody vouched for, and the desk already lists its tickets
(``/tickets?customer=<its id>``); the sender's address stays on the message's row
(``InboundMessage.from_address``) for staff to read. ``attach_sender`` moves such a ticket to
the customer staff pick.

The tickets are opened on the placeholder's behalf by the **email desk user** ("Email", an
agent that cannot sign in, under the reserved ``.invalid`` domain).
"""

from sqlalchemy import func, select

from helpdesk.access import may_open_ticket_for
from helpdesk.extensions import db
from helpdesk.models import InboundMessage, User
from helpdesk.models.user import CUSTOMER_ROLES
from helpdesk.services import accounts, tickets
from helpdesk.services.errors import NotAllowed, TicketError
from helpdesk.services.permissions import require

DESK_EMAIL = "email-intake@mail.invalid"
UNKNOWN_EMAIL = "unknown-sender@mail.invalid"


def desk_user():
    """The agent who opens tickets for unknown senders."""
    return accounts.system_person(email=DESK_EMAIL, name="Email", role="agent", disabled=False)


def unknown_sender():
    """The placeholder subscriber of tickets from senders we do not know."""
    return accounts.system_person(email=UNKNOWN_EMAIL, name="Unknown email sender",
                          role="subscriber", disabled=True)


def unknown_sender_id():
    """The placeholder's id without creating it (None: no such ticket was ever opened)."""
    return db.session.scalar(select(User.id).where(User.email == UNKNOWN_EMAIL))


def customer_of(address):
    """The active customer whose email is ``address`` (any case), or None."""
    return db.session.scalar(select(User).where(
        func.lower(User.email) == address.lower(), User.role.in_(sorted(CUSTOMER_ROLES)),
        User.disabled_at.is_(None)))


def is_flagged(ticket):
    """Is the ticket waiting for staff to attach it to a customer?"""
    return ticket.subscriber.email == UNKNOWN_EMAIL


def sender_of(ticket):
    """The address of the message that opened a flagged ticket (None when not found)."""
    return db.session.scalar(select(InboundMessage.from_address).where(
        InboundMessage.ticket_id == ticket.id, InboundMessage.unknown_sender.is_(True))
        .order_by(InboundMessage.id).limit(1))


def customer_by_email(address):
    """The customer (any state) with the email ``address``, for staff picking one, or None."""
    address = (address or "").strip().lower()
    if not address or len(address) > 254 or not address.isprintable():
        return None  # no one's address (and a NUL, PostgreSQL would refuse to compare)
    return db.session.scalar(select(User).where(
        func.lower(User.email) == address, User.role.in_(sorted(CUSTOMER_ROLES))))


def mail_panel(ticket):
    """What the desk's ticket page says about the ticket's email (one query), or None when
    there is nothing to say: ``flagged`` (from an unknown sender), ``sender`` (the address
    that opened it) and ``notes`` (``(received_at, sender, note)``: files refused, a tag the
    intake could not follow), oldest first."""
    rows = db.session.execute(select(
        InboundMessage.received_at, InboundMessage.from_address, InboundMessage.notes,
        InboundMessage.unknown_sender).where(
        InboundMessage.ticket_id == ticket.id,
        InboundMessage.notes.isnot(None) | InboundMessage.unknown_sender.is_(True))
        .order_by(InboundMessage.id)).all()
    flagged = is_flagged(ticket)
    if not rows and not flagged:
        return None
    sender = next((row.from_address for row in rows if row.unknown_sender), None)
    notes = [(row.received_at, row.from_address, note) for row in rows if row.notes
             for note in row.notes.splitlines()]
    return {"flagged": flagged, "sender": sender, "notes": notes}


def attach_sender(ticket, *, customer, actor):
    """Move a ticket from an unknown sender to ``customer`` (one commit): its subscriber,
    organisation and reseller become the customer's, with a timeline event and the audit
    entry; its SLA clock follows the new contract. ``tickets.edit`` on the ticket, and the
    customer must be one the actor may open tickets for (so a reseller cannot hand a ticket
    to another reseller's customer)."""
    require(actor, "edit", ticket)
    if not is_flagged(ticket):
        raise TicketError("This ticket already belongs to a customer.", field="customer")
    if customer is None or not customer.is_customer or not customer.is_active:
        raise TicketError("Choose an active customer.", field="customer")
    if not may_open_ticket_for(actor, customer):
        raise NotAllowed("You may not give tickets to that customer.")
    return tickets.move_to_customer(ticket, subscriber=customer,
                                    organisation=customer.organisation, actor=actor)
