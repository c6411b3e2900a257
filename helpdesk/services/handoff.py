"""Shift handoff: reassign a ticket and leave an internal note for the next person, at once."""

from helpdesk.extensions import db
from helpdesk.services import audit
from helpdesk.services.permissions import require
from helpdesk.services.replies import add_reply
from helpdesk.services.tickets import TicketError, apply_assignee


def hand_off(ticket, *, actor, to_user, note):
    """Reassign ``ticket`` to ``to_user`` with a required internal note, in one transaction.

    The audit log records both names (from and to), the time and the IP. It takes both
    ``tickets.edit`` (the reassignment) and ``tickets.reply`` (the note), asked up front so a
    refusal changes nothing.
    """
    require(actor, "edit", ticket)
    require(actor, "internal_note", ticket)
    if to_user is None:
        raise TicketError("Choose who takes the ticket over.", field="assignee")
    if not (note or "").strip():
        raise TicketError("A handoff needs a note for the next person.", field="body")
    previous = ticket.assignee
    try:
        apply_assignee(ticket, to_user, actor=actor, note=note.strip())
        audit.record("ticket.handoff", actor=actor, ticket=ticket, subject_user=to_user,
                     field="assignee", old=previous.name if previous else None, new=to_user.name)
        return add_reply(ticket, author=actor, body=note, internal=True)
    except Exception:
        db.session.rollback()
        raise
