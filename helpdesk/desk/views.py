"""``/tickets`` (the queue) and ``/tickets/<id>`` for staff and resellers."""

from urllib.parse import parse_qsl, urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from helpdesk.access import get_visible_ticket, may, ticket_scope
from helpdesk.desk.choices import filter_form, queue_choices
from helpdesk.desk.counters import STATES, queue_counters
from helpdesk.desk.queue_filters import QueueFilters
from helpdesk.desk.rows import queue_row, row_columns
from helpdesk.desk.ticket_context import ticket_context
from helpdesk.extensions import db
from helpdesk.keyset import decode_cursor, read_page
from helpdesk.models import PRIORITIES, STATUSES, SavedView
from helpdesk.pages import render_page, wants_fragment
from helpdesk.search.jump import jump_to_ticket
from helpdesk.services import bell
from helpdesk.services.tickets import assignable_users
from helpdesk.template_filters import STATUS_LABELS

bp = Blueprint("desk", __name__)


def desk_only():
    """Customers belong in the portal: send them there."""
    if current_user.is_customer:
        return redirect(url_for("portal.tickets"))
    return None


def queue_page(user, filters):
    """One page of the queue: the ids by keyset (``after``/``before``) or by offset (``page``),
    and those rows with what a row shows, joined to the page's ids only. One query, whatever
    the depth or page size."""
    per_page = current_app.config["TICKETS_PER_PAGE"]
    order = filters.order
    scope = ticket_scope(user)
    page = read_page(
        [scope, *filters.conditions(user)], order, per_page=per_page,
        after=decode_cursor(filters.after, order), before=decode_cursor(filters.before, order),
        offset=(filters.page - 1) * per_page, partitions=filters.partitions(),
        rows=row_columns(scope),
    )
    return {"tickets": page.rows, "next_cursor": page.next_cursor,
            "prev_cursor": page.prev_cursor}


@bp.get("/tickets")
@login_required
def queue():
    """The queue: every ticket the user may see, filtered, pressing ones first."""
    if (elsewhere := desk_only()) is not None:
        return elsewhere
    filters = QueueFilters.from_args(request.args, staff=current_user.is_staff)
    if (jump := jump_to_ticket(filters.q, endpoint="desk.ticket")) is not None:
        return jump
    surroundings = {} if wants_fragment() else queue_surroundings(current_user, filters)
    return render_page("desk/queue.html", "desk/_queue_results.html", filters=filters,
                       **queue_page(current_user, filters), **surroundings)


def queue_surroundings(user, filters):
    """What the full queue page shows around the results: the filter form and the saved
    views (helpdesk.desk.choices). An htmx filter or paging request swaps only the results,
    so it skips them."""
    choices = queue_choices(user)
    return {"filter_form": filter_form(filters, choices), "saved_views": choices["saved_views"]}


@bp.get("/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id):
    """One ticket with its thread: the full page, or the fragment for inline expansion."""
    ticket = get_visible_ticket(current_user, ticket_id)
    if current_user.is_customer:
        return redirect(url_for("portal.ticket", ticket_id=ticket.id))
    answer = render_page("desk/ticket.html", "desk/_ticket.html",
                         **ticket_context(current_user, ticket))
    bell.mark_ticket_read(current_user, ticket.id)  # after drawing: its commit expires all
    return answer


@bp.get("/tickets/<int:ticket_id>/row")
@login_required
def ticket_row(ticket_id):
    """One queue row, re-rendered when the ticket changed elsewhere on the page."""
    if current_user.is_customer:
        abort(404)
    return render_template("desk/_ticket_row.html", ticket=queue_row(current_user, ticket_id))


@bp.get("/tickets/counters")
@login_required
def counters():
    """The scoped counters, loaded after the queue so the queue itself stays fast; with
    ``assignee=me``, those of "My tickets"."""
    if current_user.is_customer:
        abort(404)
    mine = request.args.get("assignee") == "me"
    return render_template("desk/_counters.html", states=STATES,
                           counters=queue_counters(current_user, mine=mine))


@bp.post("/tickets/views")
@login_required
def save_view():
    """Save the current filters under a name (replacing a view of the same name)."""
    if current_user.is_customer:
        abort(404)
    name = (request.form.get("name") or "").strip()[:80]
    query = urlencode([(k, v) for k, v in parse_qsl(request.form.get("query", ""))
                       if k not in ("after", "before", "page")])
    if not name:
        flash("Give the view a name.", "error")
        return redirect(url_for("desk.queue") + ("?" + query if query else ""), code=303)
    view = db.session.scalar(select(SavedView).where(
        SavedView.user_id == current_user.id, SavedView.name == name))
    if view is None:
        view = SavedView(user_id=current_user.id, name=name)
        db.session.add(view)
    view.query = query
    db.session.commit()
    flash(f"Saved the view “{name}”.", "info")
    return redirect(url_for("desk.queue") + ("?" + query if query else ""), code=303)


@bp.post("/tickets/views/<int:view_id>/delete")
@login_required
def delete_view(view_id):
    """Delete one of the user's saved views."""
    view = db.session.get(SavedView, view_id)
    if view is None or view.user_id != current_user.id:
        abort(404)
    db.session.delete(view)
    db.session.commit()
    return redirect(url_for("desk.queue"), code=303)


@bp.get("/tickets/<int:ticket_id>/controls/<any(priority, status, assignee):control>")
@login_required
def row_control(ticket_id, control):
    """A row's priority, status or assignee menu, fetched when its badge is clicked."""
    ticket = get_visible_ticket(current_user, ticket_id)
    if not may(current_user, "edit", ticket):
        abort(404 if current_user.is_customer else 403)
    if control == "priority":
        choices = [(p, p.capitalize(), f"badge priority-{p}") for p in PRIORITIES]
        current = ticket.priority
    elif control == "status":
        choices = [(s, STATUS_LABELS[s], f"badge status-{s}") for s in STATUSES]
        current = ticket.status
    else:
        choices = [("", "Unassigned", "")]
        choices += [(str(u.id), u.name if u.id != current_user.id else f"{u.name} (me)", "")
                    for u in assignable_users(ticket)]
        current = str(ticket.assignee_id or "")
    return render_template("desk/_row_control.html", ticket=ticket, control=control,
                           label=control.capitalize(), choices=choices, current=current)
