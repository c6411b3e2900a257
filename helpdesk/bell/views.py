"""The bell's count (``/notifications/bell``, polled by htmx), the list (``/notifications``)
and marking read: plain form posts that redirect, for every signed-in person."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from helpdesk.params import parse_id
from helpdesk.services import bell

bp = Blueprint("bell", __name__, url_prefix="/notifications")


@bp.get("")
@login_required
def notifications():
    """Your notifications, newest first, a page at a time (``before``: an id)."""
    before_text = request.args.get("before", "")
    before = parse_id(before_text) if before_text else None
    if before_text and before is None:
        abort(404)
    rows, next_before = bell.page(current_user, before=before)
    return render_template(
        "bell/notifications.html", rows=rows, next_before=next_before, paged=before is not None,
        labels=bell.KIND_LABELS, unread=bell.unread_count(current_user),
        link=lambda row: _ticket_path(row.ticket),
    )


@bp.get("/bell")
@login_required
def bell_count():
    """The bell with your unread count: the fragment the header polls."""
    return render_template("bell/_bell.html", unread=bell.unread_count(current_user))


@bp.post("/<int:notification_id>/read")
@login_required
def mark_read(notification_id):
    """Mark one notification read; with ``open`` set, go on to its ticket. Another
    person's notification, or one on a ticket you no longer see, answers 404."""
    row = bell.find(current_user, notification_id)
    if row is None:
        abort(404)
    bell.mark_read(current_user, notification_id)
    if request.form.get("open"):
        return redirect(_ticket_path(row.ticket), 303)
    return redirect(url_for("bell.notifications"), 303)


@bp.post("/read")
@login_required
def mark_all_read():
    """Mark every notification read."""
    marked = bell.mark_all_read(current_user)
    flash("Nothing was unread." if not marked else
          f"Marked {marked} notification{'s' if marked != 1 else ''} read.", "info")
    return redirect(url_for("bell.notifications"), 303)


def _ticket_path(ticket):
    """The ticket where you read it: the portal for customers, the desk for staff."""
    endpoint = "portal.ticket" if current_user.is_customer else "desk.ticket"
    return url_for(endpoint, ticket_id=ticket.id)

