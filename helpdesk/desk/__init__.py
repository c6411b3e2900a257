"""The staff and reseller desk: the queue and the ticket pages, and attachment downloads."""

from helpdesk.desk import (  # noqa: F401 - routes
    actions,
    attachments,
    customers,
    live,
    psa_sync,
    unknown_senders,
)
from helpdesk.desk.rows import drawn_rows, prepare
from helpdesk.desk.views import bp


def init_app(app):
    """Register the blueprints, and the queue rows' drawing for the templates."""
    app.add_template_global(drawn_rows)
    prepare()
    app.register_blueprint(bp)
    app.register_blueprint(attachments.bp)
    app.register_blueprint(psa_sync.bp)
