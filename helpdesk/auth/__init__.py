"""Signing in and out, and loading the signed-in user for each request.

Flask-Login's user id is the token of one sign-in (``services/sign_ins.py``), never the
user's primary key: the session cookie and the remember cookie both carry it, and the
user loader accepts it only while that sign-in is open. When it is not (signed out
elsewhere, past its fixed end, user disabled), the session forgets the token, the remember
cookie is deleted, and the sign-in page says why (``SESSION_ENDED``).
"""

from flask import current_app, g, request, session
from flask_login import current_user

from helpdesk.auth.views import SESSION_ENDED, bp
from helpdesk.extensions import login_manager
from helpdesk.services import sign_ins


def init_app(app):
    """Register the blueprint and tell Flask-Login how to find the user of a session."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(token):
        """The user of this sign-in while it is open; else the browser forgets the token."""
        sign_in = sign_ins.find_open(token)
        if sign_in is None:
            forget_ended_sign_in()
            return None
        g.sign_in = sign_in
        return sign_in.user

    @app.before_request
    def check_sign_in_first():
        """Check the sign-in before the view runs (the check may write its last-seen time)."""
        if request.endpoint != "static":
            current_user._get_current_object()

    app.register_blueprint(bp)


def forget_ended_sign_in():
    """The session's token names a sign-in that has ended: drop it, and the remember cookie.

    Without this every later request would look the dead token up again. The flag lets
    the sign-in page say the session ended rather than just asking to sign in.
    """
    session.pop("_user_id", None)
    session.pop("_fresh", None)
    session[SESSION_ENDED] = True
    if current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies:
        session["_remember"] = "clear"  # Flask-Login deletes the cookie in this response
