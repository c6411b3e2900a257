"""Live updates by polling: what changed since the page was drawn, cheaply.

An open ticket polls ``/tickets/<id>/live?v=<version>``: ``204 No Content`` while nothing
changed (htmx then leaves the page alone), else its header and timeline with an ``ETag``
(a client that sends ``If-None-Match`` gets ``304``). The reply box is outside that section,
so a reply being typed is never disturbed. The queue polls ``/tickets/changes`` with the ids
it shows and its filters; changed rows come back as out-of-band swaps, and a bar counts the
tickets of that view opened since ("2 new tickets. Show") and the other changes.
"""

from flask import abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, select

from helpdesk.access import get_visible_ticket, visible_tickets
from helpdesk.desk.queue_filters import QueueFilters
from helpdesk.desk.rows import queue_rows
from helpdesk.desk.ticket_context import ticket_context
from helpdesk.desk.views import bp
from helpdesk.extensions import db
from helpdesk.keyset import among
from helpdesk.models import Ticket
from helpdesk.models.timestamps import utcnow
from helpdesk.params import parse_ids, parse_utc
from helpdesk.time_zones import viewer_zone
from helpdesk.timeline import ticket_version

MAX_ROWS = 100


@bp.get("/tickets/<int:ticket_id>/live")
@login_required
def ticket_live(ticket_id):
    """The live section of a ticket, or 204/304 when the viewer already has this version."""
    if current_user.is_customer:
        abort(404)
    ticket = get_visible_ticket(current_user, ticket_id)
    version = ticket_version(ticket)
    etag = f'"{version} {viewer_zone().key}"'  # its times are drawn in the viewer's zone
    if request.args.get("v") == version:
        return "", 204
    if etag in request.headers.get("If-None-Match", ""):
        return "", 304, {"ETag": etag}
    html = render_template("desk/_ticket_live.html", **ticket_context(current_user, ticket))
    return html, 200, {"ETag": etag, "Cache-Control": "private, no-cache"}


@bp.get("/tickets/changes")
@login_required
def queue_changes():
    """Rows of the page that changed since ``since``; how many tickets of the queue's view
    (its filters come along in the query string) were opened since, not shown yet; and how
    many other tickets in scope changed."""
    if current_user.is_customer:
        abort(404)
    since = parse_utc(request.args.get("since"))
    if since is None:
        abort(400)
    filters = QueueFilters.from_args(request.args, staff=current_user.is_staff)
    shown = parse_ids(request.args.getlist("ids"), limit=MAX_ROWS)
    rows = queue_rows(current_user, shown, Ticket.updated_at > since)
    unshown = visible_tickets(current_user).where(~among(Ticket.id, shown))
    new = _count(unshown.where(Ticket.created_at > since, *filters.conditions(current_user)))
    elsewhere = _count(unshown.where(Ticket.updated_at > since, Ticket.created_at <= since))
    if not rows and not new and not elsewhere:
        return "", 204
    return render_template("desk/_queue_changes.html", tickets=rows, new=new,
                           elsewhere=elsewhere, since=utcnow().isoformat(), filters=filters)


def _count(query):
    return db.session.scalar(select(func.count()).select_from(query.subquery()))
