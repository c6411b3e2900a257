"""HaloPSA's error answers, whatever their shape, as one line an admin can act on.

Halo answers errors in several shapes, depending on which layer refused:
- a JSON string (``"Ticket 12 not found"``) or plain text;
- ``{"message": ...}`` (its API's own refusals, also 401/429 bodies);
- ``{"error": ..., "error_description": ...}`` (the OAuth2 server, e.g. a wrong secret);
- ASP.NET model validation: ``{"title": ..., "errors": {"[0].client_id": ["..."]}}``;
- a .NET exception: ``{"ClassName": "System.Exception", "Message": ...}``;
- an HTML error page (a proxy, IIS, a maintenance page).
``describe`` reads any of them; ``error_for`` turns a failed response into the ``PsaError``
the core acts on (transient or not, outcome unknown for writes a server failed on).
"""

import html
import json
import re

from helpdesk.psa.connector import OutcomeUnknown, PsaError

MESSAGE_LIMIT = 400  # characters of the PSA's message kept in the error's one line
BODY_LIMIT = 2000  # characters of the PSA's answer kept for the audit log
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_HTML_PART = re.compile(r"<(title|h1|h2)[^>]*>(.*?)</\1>", re.IGNORECASE | re.DOTALL)


def one_line(text, limit=MESSAGE_LIMIT):
    """``text`` on one line, spaces collapsed, at most ``limit`` characters."""
    line = _SPACE.sub(" ", str(text)).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _messages(value):
    """A field's messages (a list, usually) as one phrase."""
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _from_validation(answer):
    """ASP.NET's ``errors`` map: each field with its messages."""
    errors = answer.get("errors")
    if isinstance(errors, dict) and errors:
        fields = "; ".join(f"{field}: {_messages(messages)}" if field else _messages(messages)
                           for field, messages in errors.items())
        title = answer.get("title")
        return f"{title} {fields}" if title else fields
    if isinstance(errors, list) and errors:
        return _messages(errors)
    return None


def _from_json(answer):
    """The message inside one of Halo's JSON error shapes, or None."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, list):
        parts = [part for part in map(_from_json, answer) if part]
        return "; ".join(parts) or None
    if not isinstance(answer, dict):
        return None
    if "error" in answer and isinstance(answer["error"], str):
        described = answer.get("error_description")
        return f"{answer['error']}: {described}" if described else answer["error"]
    validation = _from_validation(answer)
    if validation:
        return validation
    for key in ("message", "Message", "detail", "title", "error_message"):
        if answer.get(key):
            kind = answer.get("ClassName") or answer.get("exceptionType")
            return f"{answer[key]} ({kind})" if kind else str(answer[key])
    return None


def _from_html(text):
    """An HTML page's title or first heading, else its text."""
    found = _HTML_PART.findall(text)
    words = [html.unescape(_TAGS.sub(" ", part)).strip() for _, part in found]
    words = list(dict.fromkeys(word for word in words if word))
    return " - ".join(words) if words else html.unescape(_TAGS.sub(" ", text))


def describe(response):
    """One line saying what the PSA's answer says went wrong."""
    text = response.text.strip()
    if not text:
        return response.reason_phrase or f"HTTP {response.status_code}"
    try:
        message = _from_json(json.loads(text))
    except ValueError:
        message = None
    if message is None:
        looks_html = text.startswith("<") or "html" in response.headers.get("content-type", "")
        message = _from_html(text) if looks_html else text
    return one_line(message) or response.reason_phrase or f"HTTP {response.status_code}"


def error_for(response, *, method, path):
    """The ``PsaError`` for a failed response to ``method path``.

    Server failures are transient. A write the server failed on (500, 502, 504) may have been
    applied before it failed, or a gateway gave up on a server still working on it, so it is
    ``OutcomeUnknown``: look up by marker before sending again. 503 means it was not taken.
    Client errors (400, 403, 404, ...) will fail again: not transient, but 408 is.
    """
    status = response.status_code
    message = f"HaloPSA answered {status} to {method} {path}: {describe(response)}"
    body = response.text[:BODY_LIMIT]
    if status >= 500 and method != "GET" and status != 503:
        return OutcomeUnknown(message, status=status, response_body=body)
    transient = status >= 500 or status == 408
    return PsaError(message, status=status, transient=transient, response_body=body)
