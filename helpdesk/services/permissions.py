"""The services' own check of ``helpdesk.access``: every change asks before it writes.

Views, the CLI, jobs and the API all call the same services, so a rule checked here cannot be
bypassed by calling a service directly. Views may still ask ``may`` to decide what to show.
"""

from helpdesk.access import can_see, may, may_open_ticket_for
from helpdesk.services.errors import NotAllowed, TicketNotFound

REFUSALS = {
    "reply": "You may not reply to this ticket.",
    "internal_note": "You may not write internal notes on this ticket.",
    "edit": "You may not change this ticket.",
    "delete": "You may not delete this ticket.",
    "comment": "Only the customer comments on a ticket from the portal.",
    "rate": "Only the customer rates a ticket.",
    "set_team": "Only staff move a ticket to another team.",
}
CUSTOMER_REFUSALS = {
    "internal_note": "Only staff and resellers write internal notes.",
    "comment": "This ticket is closed. Open a new ticket if you need more help.",
    "rate": "You can rate a ticket once it is resolved.",
}


def require(actor, action, ticket):
    """Raise unless ``actor`` may do ``action`` to ``ticket``.

    ``TicketNotFound`` when the ticket is outside the actor's scope (so a refusal never
    confirms that it exists), else ``NotAllowed`` saying what the actor may not do.
    """
    if not can_see(actor, ticket):
        raise TicketNotFound
    if not may(actor, action, ticket):
        refusals = CUSTOMER_REFUSALS if actor.is_customer else {}
        raise NotAllowed(refusals.get(action) or REFUSALS[action])


def require_open_for(actor, subscriber):
    """Raise ``NotAllowed`` unless ``actor`` may open a ticket on ``subscriber``'s behalf.

    The message never names the subscriber: the actor may not be allowed to know them.
    """
    if not may_open_ticket_for(actor, subscriber):
        raise NotAllowed("You may not open a ticket for that person.")
