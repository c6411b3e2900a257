"""``/tickets`` (the queue) and ``/tickets/<id>`` for staff and resellers."""

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user, login_required

from helpdesk.access import get_visible_ticket, visible_replies, visible_tickets
from helpdesk.extensions import db
from helpdesk.models import STATUSES, Ticket
from helpdesk.pages import render_page

bp = Blueprint("desk", __name__)


def page_number():
    """The ``page`` query parameter as a positive int; junk answers 404 like a missing page."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        abort(404)
    return int(raw)


def paginate(query, page):
    """One page of ``query`` and whether another follows, without a slow total count."""
    per_page = current_app.config["TICKETS_PER_PAGE"]
    rows = db.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)).all()
    return rows[:per_page], len(rows) > per_page


@bp.get("/tickets")
@login_required
def queue():
    """The queue: every ticket the user may see, pressing ones first."""
    if current_user.is_customer:
        return redirect(url_for("portal.tickets"))
    status = request.args.get("status") or None
    query = visible_tickets(current_user)
    if status in STATUSES:
        query = query.where(Ticket.status == status)
    else:
        status = None
    page = page_number()
    tickets, has_next = paginate(query.order_by(*Ticket.queue_order()), page)
    return render_page(
        "desk/queue.html", "desk/_ticket_table.html",
        tickets=tickets, page=page, has_next=has_next, status=status, statuses=STATUSES,
    )


@bp.get("/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id):
    """One ticket with its thread: the full page, or the fragment for inline expansion."""
    ticket = get_visible_ticket(current_user, ticket_id)
    if current_user.is_customer:
        return redirect(url_for("portal.ticket", ticket_id=ticket.id))
    replies = db.session.scalars(visible_replies(current_user, ticket)).all()
    return render_page("desk/ticket.html", "desk/_ticket.html", ticket=ticket, replies=replies)
