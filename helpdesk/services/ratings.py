"""Satisfaction ratings: a customer rates a resolved or closed ticket once, 1 to 5.

A rating is public activity: the customer sees it on the ticket, and staff see it arrive.
"""

from helpdesk.extensions import db
from helpdesk.models.timestamps import utcnow
from helpdesk.params import parse_int
from helpdesk.services import audit
from helpdesk.services.permissions import require
from helpdesk.services.tickets import TicketError, mark_activity

MAX_COMMENT_LENGTH = 2000


def rate(ticket, *, customer, score, comment=None):
    """Record the rating; refuse a second one, a bad score, an unresolved ticket, or anyone but
    a customer who sees the ticket (``may(customer, "rate", ticket)``)."""
    require(customer, "rate", ticket)
    if ticket.rating is not None:
        raise TicketError("This ticket has been rated already.", field="rating")
    score = parse_int(score, minimum=1, maximum=5)
    if score is None:
        raise TicketError("Choose a rating from 1 to 5.", field="rating")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise TicketError(f"The comment can be at most {MAX_COMMENT_LENGTH} characters.",
                          field="comment")
    now = utcnow()
    ticket.rating, ticket.rating_comment, ticket.rated_at = score, comment or None, now
    mark_activity(ticket, at=now, public=True)
    audit.record("ticket.rating", actor=customer, ticket=ticket, field="rating", new=score)
    db.session.commit()
    return ticket
