"""The search box's jump: ``TKT-1042`` or ``1042``, submitted, opens that ticket.

A full-page request (the form without JavaScript, a typed or bookmarked URL) is redirected;
an htmx request gets ``HX-Redirect`` only when the form was submitted (Enter or the button),
which ``static/app.js`` marks with the ``X-Search-Submitted`` header: the live search that
runs on a pause in typing never jumps. Only a ticket the user may see is jumped to; anything
else answers as a search would (``ticket_match``: a ``TKT-`` number the user may not see
matches nothing, a bare number is searched as text), so the jump reveals nothing.
"""

from flask import current_app, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from helpdesk.access import ticket_scope
from helpdesk.extensions import db
from helpdesk.models import Ticket
from helpdesk.pages import wants_fragment
from helpdesk.search.query import ticket_number

SUBMITTED_HEADER = "X-Search-Submitted"


def jump_to_ticket(query, *, endpoint):
    """A redirect to the ticket ``query`` names (at ``endpoint``, e.g. ``desk.ticket``) when
    it is a ticket number the current user may see and the search was submitted, else None."""
    number = ticket_number(query, current_app.config["TICKET_PREFIX"])
    if number is None:
        return None
    live = wants_fragment() and request.headers.get(SUBMITTED_HEADER) != "1"
    if live:
        return None
    visible = db.session.scalar(
        select(Ticket.id).where(ticket_scope(current_user), Ticket.id == number[0]))
    if visible is None:
        return None
    url = url_for(endpoint, ticket_id=visible)
    if wants_fragment():
        return "", 204, {"HX-Redirect": url}
    return redirect(url, code=303)
