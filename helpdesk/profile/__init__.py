"""``/profile``: what every signed-in person manages about themselves.

Today: their name, where they are signed in (ending one sign-in or all of them) and their
password. Time zone, notification channels and API tokens will live here too.
"""

from helpdesk.profile.views import bp


def init_app(app):
    """Register the blueprint."""
    app.register_blueprint(bp)
