"""What every blueprint of the API shares: a token required, errors as problems, no CSRF
(a token is no cookie a browser sends by itself), a rate limit per token, and the problem
answers each operation can give written into the document."""

from http import HTTPStatus

from flask import current_app
from flask_smorest import Blueprint

from helpdesk.api import problems
from helpdesk.api.bearer import rate_limit_key, require_token
from helpdesk.extensions import csrf, limiter

IF_MATCH = {"in": "header", "name": "If-Match", "required": False,
            "description": "The `ETag` of the ticket as read; a stale one answers 409.",
            "schema": {"type": "string"}}


def etag_header():
    """The ``ETag`` response header, documented."""
    return {"description": "The ticket's version, for `If-Match`",
            "schema": {"type": "string"}}


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint of the help desk's API."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(require_token)
        problems.register(self)
        csrf.exempt(self)
        # One budget per token across the whole API, whichever blueprint a request is for.
        limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api",
                             key_func=rate_limit_key,
                             on_breach=problems.too_many_requests)(self)

    def problems(self, *codes, if_match=False):
        """Document the problem answers ``codes`` of an operation (their shared definitions,
        ``helpdesk.api.HelpDeskApi``), every operation's 500, and ``If-Match``."""

        def decorator(view):
            for code in sorted({*codes, 500}):
                view = self.alt_response(code, response=HTTPStatus(code).name)(view)
            if if_match:
                view = self.doc(parameters=[IF_MATCH])(view)
            return view

        return decorator
