"""The subscriber portal: list, open, read, comment on and rate one's own tickets.

Every ticket is loaded through ``helpdesk.access`` (out of scope answers 404); the rules
about what a comment or a rating does live in the services. Staff and resellers who land
here are sent to the desk.
"""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from helpdesk.access import get_visible_ticket, may, ticket_scope, visible_tickets
from helpdesk.extensions import db
from helpdesk.keyset import decode_cursor, load_in_order, read_page
from helpdesk.models import Ticket
from helpdesk.pages import render_page, wants_fragment
from helpdesk.params import parse_int
from helpdesk.portal.forms import CommentForm, NewTicketForm, RatingForm
from helpdesk.portal.status_filters import STATUS_FILTERS, WAITING_ON_YOU, status_filter
from helpdesk.search import ticket_match
from helpdesk.search.jump import jump_to_ticket
from helpdesk.services import bell, ratings, replies, tickets
from helpdesk.services.tickets import TicketError
from helpdesk.timeline import attachments_by_reply, customer_ticket_version, timeline_for

bp = Blueprint("portal", __name__, url_prefix="/portal")

CLOSED_MESSAGE = ("This ticket is closed, so it can no longer take comments. "
                  "Open a new ticket if you need more help.")
NOT_RATABLE_MESSAGE = "You can rate a ticket once it is resolved."
ALREADY_RATED_MESSAGE = "This ticket has been rated already; a ticket is rated once."
# The list's order, latest public activity first: an index per scope column reads it in order.
PORTAL_ORDER = ((Ticket.public_updated_at, True), (Ticket.id, True))


def page_number():
    """The ``page`` query parameter as a positive int; junk answers 404 like a missing page."""
    page = parse_int(request.args.get("page", "1"), minimum=1)
    if page is None:
        abort(404)
    return page


@bp.get("/tickets", endpoint="tickets")
@login_required
def ticket_list():
    """The customer's tickets, latest public activity first, narrowed by a status pill.

    The tickets waiting on the customer's reply are pointed out: counted above the list
    (whatever the pill and search) and marked in it, as help desk portals do.
    ``page=N`` is the route's contract and works alone (an offset over index entries); the
    pager's links also carry the cursor of the page they lead from, so following them reads
    the same few index entries at any depth.
    """
    if not current_user.is_customer:
        return redirect(url_for("desk.queue"))
    pill = status_filter(request.args.get("status"))
    q = (request.args.get("q") or "").strip()[:200]
    if (jump := jump_to_ticket(q, endpoint="portal.ticket")) is not None:
        return jump
    where = [ticket_scope(current_user)]
    if pill.statuses:
        where.append(Ticket.status.in_(pill.statuses))
    match = ticket_match(q, include_internal=False, among=where)
    if match is not None:
        where.append(match)
    page = page_number()
    per_page = current_app.config["TICKETS_PER_PAGE"]
    found = read_page(
        where, PORTAL_ORDER, per_page=per_page, offset=(page - 1) * per_page,
        after=decode_cursor(request.args.get("after"), PORTAL_ORDER),
        before=decode_cursor(request.args.get("before"), PORTAL_ORDER),
    )
    return render_page(
        "portal/tickets.html", "portal/_ticket_list.html",
        tickets=load_in_order(visible_tickets(current_user), found.ids), page=page,
        has_next=found.has_next, next_cursor=found.next_cursor,
        prev_cursor=found.prev_cursor if page > 2 else None,
        pills=STATUS_FILTERS, pill=pill, q=q,
        waiting=WAITING_ON_YOU, waiting_count=_count_waiting_on(current_user),
    )


def _count_waiting_on(customer):
    """How many of the customer's tickets wait on their reply."""
    return db.session.scalar(
        select(func.count()).select_from(Ticket)
        .where(ticket_scope(customer), Ticket.status.in_(WAITING_ON_YOU.statuses)))


@bp.route("/tickets/new", methods=["GET", "POST"])
@login_required
def new_ticket():
    """Open a ticket; whose it is comes from the session, never from the form."""
    if not current_user.is_customer:
        return redirect(url_for("desk.queue"))
    form = NewTicketForm()
    if form.validate_on_submit():
        try:
            ticket = tickets.open_ticket(
                subscriber=current_user._get_current_object(), subject=form.subject.data,
                body=form.description.data, category=form.chosen_category(),
                priority=form.priority.data, files=request.files.getlist("attachments"),
            )
        except TicketError as error:
            _show_error(form, error, fields={"body": "description"})
        else:
            return redirect(url_for("portal.ticket", ticket_id=ticket.id), 303)
    status = (413 if request.uploads_refused else 422) if form.is_submitted() else 200
    return render_template("portal/new_ticket.html", form=form), status


@bp.get("/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id):
    """One ticket as the customer sees it: body, public replies and status changes."""
    ticket = get_visible_ticket(current_user, ticket_id)
    if not current_user.is_customer:
        return redirect(url_for("desk.ticket", ticket_id=ticket.id))
    answer = _ticket_answer(ticket)
    bell.mark_ticket_read(current_user, ticket.id)  # after drawing: its commit expires all
    return answer


@bp.get("/tickets/<int:ticket_id>/live")
@login_required
def ticket_live(ticket_id):
    """Polled by an open ticket: 204 while nothing public changed, else its header and
    timeline (an internal note does not wake it)."""
    ticket = get_visible_ticket(current_user, ticket_id)
    if not current_user.is_customer:
        return redirect(url_for("desk.ticket_live", ticket_id=ticket.id))
    if request.args.get("v") == customer_ticket_version(ticket):
        return "", 204
    return render_template(
        "portal/_ticket_live.html", ticket=ticket, entries=timeline_for(current_user, ticket),
        attachments=attachments_by_reply(current_user, ticket),
        ticket_version=customer_ticket_version)


@bp.post("/tickets/<int:ticket_id>/comments")
@login_required
def comment(ticket_id):
    """Add the customer's comment (which reopens the ticket); refused on a closed ticket."""
    ticket = get_visible_ticket(current_user, ticket_id)
    if not current_user.is_customer:
        return redirect(url_for("desk.ticket", ticket_id=ticket.id), 303)
    form = CommentForm()
    if not may(current_user, "comment", ticket):
        return _ticket_answer(ticket, comment_form=form, error=CLOSED_MESSAGE, status=409)
    if form.validate():
        try:
            reply = replies.add_reply(ticket, author=current_user._get_current_object(),
                                      body=form.body.data,
                                      files=request.files.getlist("attachments"))
        except TicketError as error:
            _show_error(form, error, fields={})
        else:
            return _after_change(ticket, anchor=f"reply-{reply.id}")
    return _ticket_answer(ticket, comment_form=form,
                          status=413 if request.uploads_refused else 422)


@bp.post("/tickets/<int:ticket_id>/rating")
@login_required
def rating(ticket_id):
    """Record the customer's satisfaction rating, once, on a resolved or closed ticket."""
    ticket = get_visible_ticket(current_user, ticket_id)
    if not current_user.is_customer:
        return redirect(url_for("desk.ticket", ticket_id=ticket.id), 303)
    form = RatingForm()
    if ticket.rating is not None:
        return _ticket_answer(ticket, error=ALREADY_RATED_MESSAGE, status=409)
    if not may(current_user, "rate", ticket):
        return _ticket_answer(ticket, error=NOT_RATABLE_MESSAGE, status=409)
    if form.validate():
        try:
            ratings.rate(ticket, customer=current_user._get_current_object(),
                         score=form.rating.data, comment=form.comment.data)
        except TicketError as error:
            _show_error(form, error, fields={})
        else:
            return _after_change(ticket, anchor="rating")
    return _ticket_answer(ticket, rating_form=form, status=422)


def _after_change(ticket, *, anchor):
    """htmx gets the refreshed ticket (with empty forms); a plain post is redirected (303)."""
    if wants_fragment():
        return _ticket_answer(ticket)
    return redirect(url_for("portal.ticket", ticket_id=ticket.id, _anchor=anchor), 303)


def _ticket_answer(ticket, *, comment_form=None, rating_form=None, error=None, status=200):
    """The ticket page or its fragment; forms passed in keep what the customer typed."""
    html, _, headers = render_page(
        "portal/ticket.html", "portal/_thread.html",
        ticket=ticket, entries=timeline_for(current_user, ticket), error=error,
        attachments=attachments_by_reply(current_user, ticket),
        ticket_version=customer_ticket_version, may_comment=may(current_user, "comment", ticket),
        may_rate=may(current_user, "rate", ticket) and ticket.rating is None,
        comment_form=comment_form or CommentForm(formdata=None),
        rating_form=rating_form or RatingForm(formdata=None),
    )
    return html, status, headers


def _show_error(form, error, *, fields):
    """Put a service's refusal beside the field it names (``fields`` maps service names)."""
    name = fields.get(error.field, error.field)
    field = form._fields.get(name) if name else None
    if field is None:
        field = next(f for f in form if f.name != "csrf_token")
    field.errors = [*field.errors, str(error)]
