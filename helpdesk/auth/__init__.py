"""Signing in and out, and loading the signed-in user for each request."""

from urllib.parse import urlsplit, urlunsplit

from flask import flash, redirect, request, url_for
from sqlalchemy import select

from helpdesk.auth.views import bp, safe_next
from helpdesk.extensions import db, login_manager
from helpdesk.models import User
from helpdesk.pages import wants_fragment

SESSION_ENDED = "Your session has ended. Sign in again to carry on where you were."


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

    login_manager.unauthorized_handler(sign_in_again)
    app.register_blueprint(bp)


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
        return SESSION_ENDED, 401, {"HX-Redirect": target, "Content-Type": "text/plain"}
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
