"""The staff and reseller desk: the queue and the ticket pages."""

from helpdesk.desk import actions, customers, live  # noqa: F401 - routes on the blueprint
from helpdesk.desk.views import bp


def init_app(app):
    """Register the blueprint."""
    app.register_blueprint(bp)
