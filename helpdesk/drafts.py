"""The server's part in keeping drafts: telling the page that a plain form post was accepted.

Drafts live in the browser (``static/drafts.js``): what a person types into a form marked
``data-draft`` is kept in localStorage until the server has taken it. An htmx form knows
that from its own 2xx answer. A plain form post answers with a redirect, and the page it
lands on cannot tell success from an expired session or a stale token by itself; so a
signed-in post that ended in a redirect leaves a one-time note (a flashed message of the
category ``sent``) naming the address it was posted to, which ``base.html`` puts on
``<body data-sent>``. A post that failed (the form again with 422, the sign-in page, an
error page) leaves none, and the draft stays.
"""

from flask import flash, request
from flask_login import current_user

from helpdesk.pages import wants_fragment

SENT = "sent"


def init_app(app):
    """Note every accepted plain form post."""

    @app.after_request
    def note_accepted_post(response):
        if (request.method == "POST" and not wants_fragment()
                and response.status_code in (302, 303) and request.blueprint != "auth"
                and current_user.is_authenticated):
            flash(request.full_path.removesuffix("?"), SENT)
        return response
