"""``/tickets/<id>/psa-sync``: a ticket's PSA sync chip alone, which the chip asks for while
its writes are pending (the chip itself is drawn with the ticket, ``desk/_psa_sync.html``)."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from helpdesk.access import get_visible_ticket
from helpdesk.services.psa_ticket_sync import ticket_sync

bp = Blueprint("desk_psa", __name__)


@bp.get("/tickets/<int:ticket_id>/psa-sync")
@login_required
def sync_chip(ticket_id):
    """The chip as it stands now; staff and resellers only (the portal never shows it)."""
    if current_user.is_customer:
        abort(404)
    ticket = get_visible_ticket(current_user, ticket_id)
    return render_template("desk/_psa_sync.html", ticket=ticket, psa_sync=ticket_sync(ticket))
