"""``/portal/tickets`` and ``/portal/tickets/<id>`` for subscribers and company admins."""

from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required

from helpdesk.access import get_visible_ticket, visible_replies, visible_tickets
from helpdesk.desk.views import page_number, paginate
from helpdesk.extensions import db
from helpdesk.models import Ticket
from helpdesk.pages import render_page

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.get("/tickets")
@login_required
def tickets():
    """The customer's tickets, latest update first."""
    if not current_user.is_customer:
        return redirect(url_for("desk.queue"))
    query = visible_tickets(current_user).order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    page = page_number()
    rows, has_next = paginate(query, page)
    return render_page(
        "portal/tickets.html", "portal/_ticket_list.html",
        tickets=rows, page=page, has_next=has_next,
    )


@bp.get("/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id):
    """One ticket as the customer sees it: public replies only."""
    ticket = get_visible_ticket(current_user, ticket_id)
    if not current_user.is_customer:
        return redirect(url_for("desk.ticket", ticket_id=ticket.id))
    replies = db.session.scalars(visible_replies(current_user, ticket)).all()
    return render_page("portal/ticket.html", "portal/_thread.html", ticket=ticket, replies=replies)
