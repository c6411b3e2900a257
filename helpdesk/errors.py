"""Error pages: a clear page for every failure, never a traceback.

API callers get ``application/problem+json`` (``helpdesk.problems``; the API's own views
answer through ``helpdesk.api.problems``), health checks JSON; an htmx request gets the
message alone as plain text, which the page shows beside what the user did
(``static/feedback.js``) instead of swapping a page in.
"""

import logging

import redis
from flask import jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import Forbidden, HTTPException, InternalServerError, NotFound

from helpdesk.extensions import db, login_manager
from helpdesk.pages import wants_fragment
from helpdesk.problems import problem
from helpdesk.services.errors import NotAllowed, TicketNotFound

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    401: ("Sign-in needed", "Sign in to continue."),
    404: ("Not found", "There is nothing here, or you do not have access to it."),
    405: ("Not allowed", "That action is not available at this address."),
    413: ("Too large", "What you sent is larger than this help desk accepts. "
                       "Make the attachment smaller and try again."),
    429: ("Too many requests", "Too many attempts in a short time. Wait a few minutes and "
                               "try again."),
    503: ("Temporarily unavailable", "The help desk cannot reach its database or Redis right "
                                     "now. Nothing you had already saved is lost; try again "
                                     "in a minute."),
    500: ("Something went wrong", "The help desk hit an error. Nothing you had already saved "
                                  "is lost; try again, and tell an admin if it persists."),
}
CSRF_MESSAGE = (
    "Your form was sent without a valid security token, so nothing was changed. This happens "
    "when a page has been open for a long time or you signed in elsewhere. Reload the page and "
    "try again."
)


def wants_json():
    """API and health callers get JSON; browsers get a page."""
    if request.path.startswith(("/api/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def error_response(code, title, message):
    """Answer an error as JSON, as plain text for htmx, or as the error page.

    Returns ``(body, status, headers)``; callers may add headers.
    """
    if request.is_api:
        return problem(code, detail=message)
    if wants_json():
        return jsonify(error=title, message=message, status=code), code, {}
    headers = {"Vary": "HX-Request"}
    if wants_fragment():
        return message, code, headers | {"Content-Type": "text/plain; charset=utf-8"}
    page = render_template("errors/error.html", code=code, title=title, message=message)
    return page, code, headers


def init_app(app):
    """Register the handlers."""

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        if not current_user.is_authenticated and request.blueprint != "auth":
            # No session, so no token: the session ended. Sign in again, then come back.
            return login_manager.unauthorized()
        return error_response(400, "Security token missing or expired", CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.response is not None:  # the raiser already built the answer (rate limits)
            return error.response
        title, message = MESSAGES.get(error.code, (error.name, error.description))
        response = error_response(error.code, title, message)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response[2]["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(NotAllowed)
    def refused_by_a_service(error):
        """A service refused the actor: 404 outside their scope (the ticket does not exist for
        them), else 403 saying what they may not do."""
        db.session.rollback()
        if isinstance(error, TicketNotFound):
            return http_error(NotFound())
        return http_error(Forbidden(description=str(error)))

    @app.errorhandler(OperationalError)
    @app.errorhandler(redis.ConnectionError)
    def backing_service_down(error):
        log.error("backing service unreachable on %s %s: %s", request.method, request.path,
                  error)
        db.session.rollback()
        title, message = MESSAGES[503]
        response = error_response(503, title, message)
        response[2]["Retry-After"] = "30"
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return http_error(InternalServerError())
