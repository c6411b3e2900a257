"""What staff and resellers do to a ticket: reply, note, status, assignee, team (staff only),
handoff, delete.

Each action is a POST that works as a plain form (redirect after success, the page with the
error and the typed text after a failure) and with htmx (the updated fragment, or the same
fragment with the error, status 422). The services ask ``helpdesk.access`` whether the user
may; a refusal answers 403 (404 outside the user's scope), see ``helpdesk.errors``.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from helpdesk.access import get_visible_ticket
from helpdesk.desk.rows import queue_row
from helpdesk.desk.ticket_context import ticket_context
from helpdesk.desk.views import bp
from helpdesk.extensions import db
from helpdesk.models import Category, Team, User
from helpdesk.pages import wants_fragment
from helpdesk.params import parse_id
from helpdesk.request import uploads_refused_message
from helpdesk.services import handoff, replies, tickets
from helpdesk.services.tickets import TicketError


def _desk_ticket(ticket_id):
    """The ticket if the user may see it (else 404); customers have no desk actions (404).
    What the user may do to it, the service decides."""
    ticket = get_visible_ticket(current_user, ticket_id)
    if current_user.is_customer:
        abort(404)
    return ticket


def _answer(ticket, *, error=None, draft=None, place="header", status=422):
    """The ticket fragment (htmx) or page, or, after success without htmx, a redirect.

    ``place`` says where an error belongs: the ``header`` controls, the ``reply`` box or the
    ``handoff`` form, so it shows beside what the user just did; ``status`` is the error's.
    """
    if error is None and not wants_fragment():
        return redirect(url_for("desk.ticket", ticket_id=ticket.id), code=303)
    if error is not None:
        db.session.rollback()
    context = ticket_context(current_user, ticket, draft=draft,
                             error=str(error) if error else None, error_place=place)
    template = "desk/_ticket.html" if wants_fragment() else "desk/ticket.html"
    headers = {"Vary": "HX-Request"}
    if error is None:  # let the ticket's queue row (if on the page) refresh itself
        headers["HX-Trigger"] = f"ticket-changed-{ticket.id}"
    return render_template(template, **context), status if error else 200, headers


def _row_answer(ticket, error=None):
    """The queue row again, for the inline controls in the queue."""
    if error is not None:
        db.session.rollback()
    html = render_template("desk/_ticket_row.html", ticket=queue_row(current_user, ticket.id),
                           row_error=error and str(error))
    return html, 422 if error else 200


@bp.post("/tickets/<int:ticket_id>/replies")
@login_required
def add_reply(ticket_id):
    """A public reply or internal note, with an optional status, time entry and files."""
    internal = request.form.get("internal") == "1"
    ticket = _desk_ticket(ticket_id)
    draft = {key: request.form.get(key, "") for key in ("body", "status", "minutes",
                                                        "time_note")} | {"internal": internal}
    if (too_large := uploads_refused_message()) is not None:
        return _answer(ticket, error=TicketError(too_large, field="attachments"), draft=draft,
                       place="reply", status=413)
    status = request.form.get("status") or None
    try:
        replies.add_reply(ticket, author=current_user, body=draft["body"], internal=internal,
                          status=status, minutes=draft["minutes"] or None,
                          time_note=draft["time_note"],
                          files=request.files.getlist("attachments"))
    except TicketError as error:
        return _answer(ticket, error=error, draft=draft, place="reply")
    return _answer(ticket)


def _inline_change(ticket_id, change):
    """Apply one inline control's change; answer with the row or the ticket it came from."""
    ticket = _desk_ticket(ticket_id)
    in_row = request.form.get("view") == "row"
    try:
        change(ticket)
    except TicketError as error:
        return _row_answer(ticket, error) if in_row else _answer(ticket, error=error)
    return _row_answer(ticket) if in_row else _answer(ticket)


def _chosen(model, name):
    """The row a select's value names, None for an empty value; a bad value is refused."""
    raw = request.form.get(name, "")
    found = db.session.get(model, chosen_id) if (chosen_id := parse_id(raw)) else None
    if raw and found is None:
        raise TicketError(f"That {name} does not exist.", field=name)
    return found


@bp.post("/tickets/<int:ticket_id>/status")
@login_required
def change_status(ticket_id):
    """The inline status control, in the ticket header or a queue row."""
    return _inline_change(ticket_id, lambda ticket: tickets.change_status(
        ticket, request.form.get("status", ""), actor=current_user))


@bp.post("/tickets/<int:ticket_id>/assignee")
@login_required
def change_assignee(ticket_id):
    """The inline assignee control; an empty value unassigns."""
    return _inline_change(ticket_id, lambda ticket: tickets.assign(
        ticket, _chosen(User, "assignee"), actor=current_user))


@bp.post("/tickets/<int:ticket_id>/priority")
@login_required
def change_priority(ticket_id):
    """The inline priority control."""
    return _inline_change(ticket_id, lambda ticket: tickets.change_priority(
        ticket, request.form.get("priority", ""), actor=current_user))


@bp.post("/tickets/<int:ticket_id>/category")
@login_required
def change_category(ticket_id):
    """The inline category control."""
    return _inline_change(ticket_id, lambda ticket: tickets.change_category(
        ticket, _chosen(Category, "category"), actor=current_user))


@bp.post("/tickets/<int:ticket_id>/team")
@login_required
def change_team(ticket_id):
    """The inline team control (staff only); an empty value takes the ticket off its team."""
    return _inline_change(ticket_id, lambda ticket: tickets.set_team(
        ticket, _chosen(Team, "team"), actor=current_user))


@bp.post("/tickets/<int:ticket_id>/handoff")
@login_required
def hand_off(ticket_id):
    """Shift handoff: reassign and leave an internal note, in one submission."""
    ticket = _desk_ticket(ticket_id)
    raw = request.form.get("assignee", "")
    to_user = db.session.get(User, chosen_id) if (chosen_id := parse_id(raw)) else None
    draft = {"handoff_body": request.form.get("body", ""), "handoff_to": raw}
    try:
        handoff.hand_off(ticket, actor=current_user, to_user=to_user,
                         note=request.form.get("body", ""))
    except TicketError as error:
        return _answer(ticket, error=error, draft=draft, place="handoff")
    return _answer(ticket)


@bp.post("/tickets/<int:ticket_id>/delete")
@login_required
def delete(ticket_id):
    """Soft-delete a ticket (``tickets.delete``); it leaves every list."""
    ticket = _desk_ticket(ticket_id)
    tickets.delete_ticket(ticket, actor=current_user)
    flash(f"{ticket.number} was deleted.", "info")
    if wants_fragment():
        return "", 200, {"HX-Redirect": url_for("desk.queue")}
    return redirect(url_for("desk.queue"), code=303)


@bp.post("/markdown/preview")
@login_required
def preview():
    """Render a draft through the one Markdown module, for the reply box's preview."""
    return render_template("desk/_preview.html", source=request.form.get("body", ""))
