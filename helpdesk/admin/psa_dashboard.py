"""``/admin/psa/<id>/sync``: a connection's sync dashboard, and "Pull now".

The panel (``templates/admin/_psa_dashboard.html``) is one fragment: the connection's admin
page includes it, this page shows it alone, and htmx polls it here every few seconds while a
pull runs or waits, so its progress bar moves until the run is done. Admins only; anyone
else is told the page does not exist.
"""

from flask import Blueprint, abort, url_for
from flask_login import current_user

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.extensions import db
from helpdesk.models import PsaConnection
from helpdesk.pages import render_page
from helpdesk.services import psa_pull_status as service

bp = Blueprint("admin_psa_dashboard", __name__, url_prefix="/admin/psa")
bp.before_request(admins_only)

PAGE, PANEL = "admin/psa_dashboard.html", "admin/_psa_dashboard.html"


def _connection(connection_id):
    connection = db.session.get(PsaConnection, connection_id)
    if connection is None:
        abort(404)
    return connection


def _context(connection, **extra):
    return {"connection": connection, "sync": service.status_of(connection),
            "dead_letters_url": url_for("admin_psa_dead_letters.dead_letters"), **extra}


@bp.get("/<int:connection_id>/sync")
def dashboard(connection_id):
    """The sync panel: the page, or the fragment for htmx's polling."""
    return render_page(PAGE, PANEL, **_context(_connection(connection_id)))


@bp.post("/<int:connection_id>/sync/pull")
def pull_now(connection_id):
    """Ask for a pull now; the panel shows it waiting, then running."""
    connection = _connection(connection_id)
    try:
        asked = service.pull_now(connection, actor=current_user)
    except service.PullRefused as error:
        return refused(PAGE, PANEL, **_context(connection, error=str(error)))
    message = ("A pull is on its way." if asked
               else "A pull is already waiting or running.")
    return changed(message, url_for("admin_psa_dashboard.dashboard", connection_id=connection.id),
                   fragment=PANEL, **_context(connection))
