"""``/profile``: what every signed-in person manages about themselves.

Today: their name and time zone (``services.profiles``), where they are signed in (ending one
sign-in or all of them) and their password. Notification channels and API tokens will live
here too.
"""

from helpdesk.profile.views import bp


def init_app(app):
    """Register the blueprint."""
    app.register_blueprint(bp)
