"""Errors as ``application/problem+json`` (RFC 9457): how the JSON API says what went wrong.

One shape for every failure an API caller can meet, so a script reads them all alike:
``type`` (``about:blank``: the status says what kind), ``title`` (the status's phrase),
``status``, ``detail`` (what happened, in people's words) and, for a request that could not
be used (400, 422), ``errors``: the failing fields, each with its message. The API's own
views answer through ``helpdesk.api.problems``; ``helpdesk.errors`` answers here for an
address under ``/api/`` that no view owns (an unknown path, a method not allowed).
"""

import json
from http import HTTPStatus

CONTENT_TYPE = "application/problem+json"


def problem_body(status, *, detail=None, errors=None):
    """The problem document of ``status`` as a dict."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name
        title = "Error"
    body = {"type": "about:blank", "title": title, "status": status,
            "detail": detail or title}
    if errors:
        body["errors"] = errors
    return body


def problem(status, *, detail=None, errors=None, headers=None):
    """A problem answer as ``(body, status, headers)``; callers may add headers."""
    body = json.dumps(problem_body(status, detail=detail, errors=errors))
    return body, status, {"Content-Type": CONTENT_TYPE, **(headers or {})}
