"""``/profile``: what every signed-in person manages about themselves.

Their name and time zone (``services.profiles``), notification channels, where they are
signed in (ending one sign-in or all of them), their personal API tokens
(``services.api_tokens``: made, shown once, listed, revoked) and their password.
"""

from helpdesk.profile.views import bp


def init_app(app):
    """Register the blueprint."""
    app.register_blueprint(bp)
