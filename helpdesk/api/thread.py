"""``/api/v1/tickets/<id>/replies`` and ``/handoff``: adding to a ticket's thread.

The same services as the desk and the portal: a reply's status rules, who may write an
internal note, what a handoff takes, all live there (``services.replies``, ``handoff``).
"""

from flask_login import current_user

from helpdesk.access import get_visible_ticket
from helpdesk.api import schemas, ticket_json
from helpdesk.api.blueprints import ApiBlueprint
from helpdesk.api.tickets import ETAG, with_etag
from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.services import handoff, replies

bp = ApiBlueprint("thread", __name__, url_prefix="/api/v1/tickets",
                  description="Replies, internal notes and handoffs")


@bp.post("/<int:ticket_id>/replies")
@bp.arguments(schemas.ReplyBody, as_kwargs=True)
@bp.response(201, schemas.ReplySchema)
@bp.problems(401, 403, 404, 422, 429)
def add_reply(ticket_id, body, internal, status=None):
    """A public reply, or (`internal`) an internal note, with an optional status.

    A staff or reseller reply moves the ticket to `waiting_on_customer` unless `status`
    says otherwise (`resolved` and `closed` take a public reply: the resolution); a
    customer's comment reopens it. Customers cannot write notes nor set the status.
    """
    ticket = get_visible_ticket(current_user, ticket_id)
    reply = replies.add_reply(ticket, author=current_user._get_current_object(), body=body,
                              internal=internal, status=status)
    return ticket_json.reply(current_user, reply)


@bp.post("/<int:ticket_id>/handoff")
@bp.arguments(schemas.HandoffBody, as_kwargs=True)
@bp.response(200, schemas.TicketDetailSchema, headers=ETAG)
@bp.problems(401, 403, 404, 422, 429)
def hand_off(ticket_id, assignee, body):
    """Hand the ticket over: reassign it and leave an internal note for the next person,
    at once (`tickets.edit` and `tickets.reply`)."""
    ticket = get_visible_ticket(current_user, ticket_id)
    handoff.hand_off(ticket, actor=current_user._get_current_object(),
                     to_user=db.session.get(User, assignee), note=body)
    return with_etag(ticket_json.detail(current_user, ticket), ticket)
