"""``/tickets/<id>/attachments/<id>``: downloading a ticket's files, for every role.

Staff, resellers and customers use the same address; the ticket's scope and the internal-note
rule come from ``helpdesk.access``. Files are always sent as downloads, never rendered by the
browser on our origin: only a short allow-list of harmless types keeps its type, everything
else is ``application/octet-stream``, with ``nosniff`` and a sandboxing content security
policy in case a browser opens it anyway.
"""

import logging

from flask import Blueprint, abort, send_file
from flask_login import current_user, login_required

from helpdesk.access import get_visible_attachment, get_visible_ticket
from helpdesk.services.attachments import open_attachment

log = logging.getLogger(__name__)

bp = Blueprint("attachments", __name__)

# Types a browser shows without running anything. Never text/html, image/svg+xml or XML.
SERVED_AS_IS = frozenset({"image/png", "image/jpeg", "image/gif", "application/pdf",
                          "text/plain"})
DOWNLOAD_POLICY = "sandbox; default-src 'none'"


def served_type(attachment):
    """The Content-Type to send: the stored type if allow-listed, else octet-stream."""
    stored = (attachment.content_type or "").split(";")[0].strip().lower()
    return stored if stored in SERVED_AS_IS else "application/octet-stream"


@bp.get("/tickets/<int:ticket_id>/attachments/<int:attachment_id>")
@login_required
def download(ticket_id, attachment_id):
    """Send one attachment as a download, if its ticket (and note) are visible to the user."""
    ticket = get_visible_ticket(current_user, ticket_id)
    attachment = get_visible_attachment(current_user, ticket, attachment_id)
    try:
        stream = open_attachment(attachment)
    except FileNotFoundError:
        log.error("attachment %s of ticket %s is missing from disk", attachment.id, ticket.id)
        abort(404)
    response = send_file(
        stream, mimetype=served_type(attachment), as_attachment=True,
        download_name=attachment.filename, etag=attachment.sha256,
        last_modified=attachment.created_at, max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    response.headers["Cache-Control"] = "private, no-cache"
    return response
