"""``/reports``: ticket volume, response and resolution times and backlog, with charts and
CSV, for staff and resellers in their scope. The numbers come from ``services.reports``."""

from helpdesk.reports.views import bp


def init_app(app):
    """Register the blueprint."""
    app.register_blueprint(bp)
