"""Customer hubs: a subscriber's or an organisation's tickets, and opening one for them."""

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from helpdesk.access import may_open_ticket_for, may_view_customer, may_view_organisation
from helpdesk.desk.forms import NewTicketForm
from helpdesk.desk.queue_filters import QueueFilters
from helpdesk.desk.views import bp, desk_only, queue_page
from helpdesk.extensions import db
from helpdesk.models import Organisation, User
from helpdesk.pages import render_page
from helpdesk.params import parse_id
from helpdesk.services import tickets
from helpdesk.services.accounts import find_user
from helpdesk.services.tickets import TicketError


def _hub(template, *, filters, **context):
    return render_page(template, "desk/_queue_results.html", filters=filters,
                       **queue_page(current_user, filters), **context)


@bp.get("/customers/<int:user_id>")
@login_required
def customer(user_id):
    """A subscriber's hub: who they are and their tickets, with "New ticket" pre-filled."""
    if (elsewhere := desk_only()) is not None:
        return elsewhere
    person = db.session.get(User, user_id)
    if person is None or not may_view_customer(current_user, person):
        abort(404)
    filters = QueueFilters.from_args(request.args, live_by_default=False,
                                     staff=current_user.is_staff)
    filters.customer = person.id
    return _hub("desk/customer.html", filters=filters, person=person,
                can_open=may_open_ticket_for(current_user, person))


@bp.get("/organisations/<int:organisation_id>")
@login_required
def organisation(organisation_id):
    """An organisation's hub: its people and all their tickets."""
    if (elsewhere := desk_only()) is not None:
        return elsewhere
    org = db.session.get(Organisation, organisation_id)
    if org is None or not may_view_organisation(current_user, org):
        abort(404)
    filters = QueueFilters.from_args(request.args, live_by_default=False,
                                     staff=current_user.is_staff)
    filters.organisation = org.id
    members = _members(org)
    return _hub("desk/organisation.html", filters=filters, organisation=org, members=members,
                can_open=any(may_open_ticket_for(current_user, m) for m in members))


def _members(organisation):
    """The people of an organisation, by name."""
    return db.session.scalars(select(User).where(User.organisation_id == organisation.id)
                              .order_by(User.name)).all()


def _organisation_for_new_ticket():
    """The organisation ``?organisation=`` names, if the user may see it, with the members
    they may open a ticket for (its hub's "New ticket"); else ``(None, [])``."""
    org = db.session.get(Organisation, parse_id(request.args.get("organisation")) or 0)
    if org is None or not may_view_organisation(current_user, org):
        return None, []
    return org, [m for m in _members(org) if may_open_ticket_for(current_user, m)]


@bp.route("/tickets/new", methods=["GET", "POST"])
@login_required
def new_ticket():
    """Open a ticket on a subscriber's behalf (staff, or resellers with tickets.create)."""
    if (elsewhere := desk_only()) is not None:
        return elsewhere
    form = NewTicketForm()
    organisation, members = _organisation_for_new_ticket()
    if request.method == "GET" and len(members) == 1:
        form.subscriber.data = members[0].email
    customer_id = parse_id(request.args.get("customer")) if request.method == "GET" else None
    if customer_id is not None:
        person = db.session.get(User, customer_id)
        if person is not None and may_view_customer(current_user, person):
            form.subscriber.data = person.email
    if form.validate_on_submit():
        subscriber = find_user(form.subscriber.data)
        if subscriber is None or not may_open_ticket_for(current_user, subscriber):
            form.subscriber.errors.append("No subscriber you may open tickets for has that email.")
        else:
            try:
                ticket = tickets.open_ticket(
                    subscriber=subscriber, subject=form.subject.data, body=form.body.data,
                    category=form.category_choice(), priority=form.priority.data,
                    opened_by=current_user, files=request.files.getlist("attachments"))
            except TicketError as error:
                getattr(form, error.field, form.subject).errors.append(str(error))
            else:
                return redirect(url_for("desk.ticket", ticket_id=ticket.id), code=303)
    status = (413 if request.uploads_refused else 422) if request.method == "POST" else 200
    return render_template("desk/new_ticket.html", form=form, organisation=organisation,
                           members=members), status
