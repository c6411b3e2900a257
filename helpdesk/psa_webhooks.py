"""``POST /psa/webhooks/<connection_id>``: a PSA tells the desk that tickets changed.

A machine posts here, so there is no session and no CSRF token: the delivery proves itself
with the connection's webhook secret (``services.psa_webhook``). The answer is quick and says
nothing a stranger could use: 404 for a connection that does not exist or is disabled, 401
for a wrong secret, 400 (with the reason) for a body that is not JSON, 429 over
``PSA_WEBHOOK_LIMIT`` per connection, else 200 with how many ticket reads were queued. The
reading itself is a job per ticket (``jobs.psa_pull.pull_ticket``), whose id makes a
redelivery add nothing while the first is waiting, and whose work is idempotent after.
"""

from flask import Blueprint, abort, current_app, jsonify, request

from helpdesk.extensions import csrf, db, limiter
from helpdesk.models import PsaConnection
from helpdesk.services.psa_pull_jobs import hint_tickets
from helpdesk.services.psa_webhook import (
    HEADER_NAME,
    WebhookRefused,
    authenticated,
    ticket_ids_of,
)

bp = Blueprint("psa_webhooks", __name__)
csrf.exempt(bp)  # a machine posts here: its secret is its proof, not a session's token


def _per_connection():
    return f"psa-webhook:{request.view_args.get('connection_id')}"


@bp.post("/psa/webhooks/<int:connection_id>")
@limiter.limit(lambda: current_app.config["PSA_WEBHOOK_LIMIT"], key_func=_per_connection,
               scope="psa-webhook")
def delivery(connection_id):
    """Take a delivery's ticket ids and queue a read of each."""
    connection = db.session.get(PsaConnection, connection_id)
    if connection is None or not connection.enabled:
        abort(404)
    if not authenticated(connection, authorization=request.headers.get("Authorization"),
                         secret_header=request.headers.get(HEADER_NAME)):
        return "", 401, {"WWW-Authenticate": 'Basic realm="psa webhook"'}
    try:
        ticket_ids = ticket_ids_of(request.get_data(cache=False))
    except WebhookRefused as error:
        return jsonify(error=str(error)), 400
    queued = hint_tickets(connection.id, ticket_ids)
    return jsonify(tickets=len(ticket_ids), queued=queued), 200


def init_app(app):
    """Register the blueprint."""
    app.register_blueprint(bp)
