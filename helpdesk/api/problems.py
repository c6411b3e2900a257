"""The API blueprints' error handlers: every failure as ``application/problem+json``.

Registered on the API's blueprints only, so the pages keep their HTML error pages. What
each status means to a caller:

- 401: no working token (``bearer.require_token``);
- 403: the token's user may see the ticket but not do this to it (``NotAllowed``);
- 404: the ticket is not in the user's scope, or does not exist: the same answer;
- 409: ``If-Match`` named a version of the ticket that is not the current one;
- 422: the request cannot be used; ``errors`` names each failing field (marshmallow's
  messages, or the service's ``Refused`` and its ``field``);
- 429: over ``API_RATE_LIMIT`` for this token, with ``Retry-After``;
- 500: anything unexpected, logged, never a traceback.
"""

import logging
import math
import time

from flask import current_app, request
from werkzeug.exceptions import HTTPException

from helpdesk.extensions import db
from helpdesk.problems import problem
from helpdesk.services.errors import NotAllowed, Refused, TicketNotFound

log = logging.getLogger(__name__)
LOCATIONS = ("json", "query", "form", "headers", "view_args")
NOT_FOUND = "There is no such ticket, or it is not yours to see."


def field_errors(messages, prefix=""):
    """marshmallow's (or webargs') nested messages as ``{"field": "message"}``: the location
    level (``json``, ``query``) dropped, nested fields joined with dots."""
    flat = {}
    for key, value in (messages or {}).items():
        if key in LOCATIONS and not prefix:
            if isinstance(value, dict):
                flat.update(field_errors(value))
            else:  # the location as a whole: a body that is not JSON
                flat["_body" if key == "json" else key] = " ".join(map(str, value))
            continue
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(field_errors(value, name))
        else:
            flat[name] = " ".join(value) if isinstance(value, list) else str(value)
    return flat


def http_problem(error):
    """An HTTP error (``abort``, webargs' 422, Flask-Limiter's 429) as a problem."""
    if error.code == 429 and error.response is not None:
        return error.response  # built by ``too_many_requests``, with Retry-After
    data = getattr(error, "data", None) or {}
    errors = field_errors(data.get("messages") or data.get("errors"))
    detail = error.description if error.code != 404 else NOT_FOUND
    if error.code == 422:
        detail = "Some fields cannot be used: see errors."
    headers = dict(data.get("headers") or {})
    if error.code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(error.code, detail=detail, errors=errors, headers=headers)


def refused(error):
    """A service refused the input: 422, the field named when the service named one."""
    db.session.rollback()
    field = getattr(error, "field", None)
    return problem(422, detail=str(error), errors={field: str(error)} if field else None)


def not_allowed(error):
    """A service refused the actor: 404 outside their scope, else 403 saying what."""
    db.session.rollback()
    if isinstance(error, TicketNotFound):
        return problem(404, detail=NOT_FOUND)
    return problem(403, detail=str(error))


def unexpected(error):
    """Anything else: logged, and a plain 500 problem."""
    if isinstance(error, HTTPException):
        return http_problem(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return problem(500, detail="The help desk hit an error. Nothing already saved is lost; "
                               "try again, and tell an admin if it persists.")


def too_many_requests(request_limit):
    """Flask-Limiter's ``on_breach``: the 429 problem, with how long to wait."""
    wait = max(1, math.ceil(request_limit.reset_at - time.time()))
    body, status, headers = problem(
        429, detail=f"Over this token's limit of {request_limit.limit}; "
                    f"try again in {wait} seconds.", headers={"Retry-After": str(wait)})
    return current_app.response_class(body, status=status, headers=headers)


def register(blueprint):
    """Answer every error of ``blueprint``'s views as a problem."""
    blueprint.register_error_handler(HTTPException, http_problem)
    blueprint.register_error_handler(Refused, refused)
    blueprint.register_error_handler(NotAllowed, not_allowed)
    blueprint.register_error_handler(Exception, unexpected)
