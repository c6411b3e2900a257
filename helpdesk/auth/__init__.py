"""Signing in and out, and loading the signed-in user for each request.

Flask-Login's user id is the token of one sign-in (``services/sign_ins.py``), never the
user's primary key: the session cookie and the remember cookie both carry it, and the
user loader accepts it only while that sign-in is open. When it is not (signed out
elsewhere, past its fixed end, idle too long, user disabled), the session forgets the
token, the remember cookie is deleted, and the sign-in page says why (``SESSION_ENDED``).
"""

from urllib.parse import urlsplit, urlunsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user

from helpdesk.auth import password  # noqa: F401 - its routes join the auth blueprint
from helpdesk.auth.views import SESSION_ENDED, SESSION_ENDED_MESSAGE, bp, safe_next
from helpdesk.extensions import login_manager
from helpdesk.pages import wants_fragment
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
        """Check the sign-in before the view runs (the check may write its last-seen time).
        The JSON API signs in by its bearer token instead (``helpdesk.api.bearer``)."""
        if request.endpoint != "static" and not request.is_api:
            current_user._get_current_object()

    sign_ins.prepare()
    login_manager.unauthorized_handler(sign_in_again)
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


def sign_in_again():
    """Send someone without a session to the sign-in page, and back to their page after it.

    An htmx request gets ``401`` with ``HX-Redirect`` (a redirect would be followed by the
    browser and the sign-in page swapped into the ticket); the page to come back to is the
    one the browser shows (``HX-Current-URL``). A plain request is redirected, with ``next``
    the page asked for, or for a form post the page the form was on (a post's own URL cannot
    be opened again).
    """
    if wants_fragment():
        target = url_for("auth.login", next=_same_site_path(request.headers.get("HX-Current-URL")))
        return SESSION_ENDED_MESSAGE, 401, {"HX-Redirect": target, "Content-Type": "text/plain"}
    if session.pop(SESSION_ENDED, False):  # the sign-in ended: say so, not just "sign in"
        flash(SESSION_ENDED_MESSAGE, "info")
    else:
        flash(login_manager.login_message, login_manager.login_message_category)
    if request.method in ("GET", "HEAD"):
        came_from = request.full_path.removesuffix("?")
    else:
        came_from = _same_site_path(request.referrer)
    return redirect(url_for("auth.login", next=safe_next(came_from)))


def _same_site_path(url):
    """The path and query of ``url`` if it points at this site, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return safe_next(urlunsplit(("", "", parts.path, parts.query, "")))
