"""``/notifications``: the bell in the header (its unread count, polled) and the list."""

from helpdesk.bell.views import bp


def init_app(app):
    """Register the blueprint."""
    app.register_blueprint(bp)
