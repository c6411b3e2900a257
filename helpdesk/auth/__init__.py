"""Signing in and out, and loading the signed-in user for each request."""

from sqlalchemy import select

from helpdesk.auth.views import bp
from helpdesk.extensions import db, login_manager
from helpdesk.models import User


def init_app(app):
    """Register the blueprint and tell Flask-Login how to find the user of a session."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_token):
        """Sessions carry the user's rotating token; a disabled user's sessions end at once."""
        return db.session.scalar(
            select(User).where(User.session_token == session_token, User.disabled_at.is_(None))
        )

    app.register_blueprint(bp)
