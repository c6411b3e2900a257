"""The subscriber portal: a subscriber's (or company admin's) own tickets."""

from helpdesk.portal.views import bp


def init_app(app):
    """Register the blueprint."""
    app.register_blueprint(bp)
