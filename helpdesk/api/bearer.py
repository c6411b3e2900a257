"""Who an API request is: the user of its ``Authorization: Bearer`` token, nothing else.

The API never reads or writes a session. ``NoSessionOnApi`` gives requests under ``/api/``
an empty session that cannot be written, so no ``Set-Cookie`` leaves with an answer and a
browser's session or remember cookie, sent along, signs nobody in; the desk's sign-in check
skips those requests (``helpdesk.auth``). ``sign_in_by_token`` runs first on each of them and
makes the token's user the request's ``current_user`` (anonymous without a working token),
so the services and ``helpdesk.access`` see the same person the pages would: same scope,
same permissions, same 404s. A view of the API then asks for a token with ``require_token``
(the document and its page are public).
"""

from flask import g, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import inspect

from helpdesk.extensions import db, login_manager
from helpdesk.problems import problem
from helpdesk.services import api_tokens
from helpdesk.services.sign_ins import hash_token

CHALLENGE = 'Bearer realm="helpdesk"'


class NoSessionOnApi(SecureCookieSessionInterface):
    """Flask's cookie session, but none at all for API requests."""

    def open_session(self, app, request):
        if request.is_api:
            return self.make_null_session(app)  # reads as empty; a write is a bug, loudly
        return super().open_session(app, request)


def bearer_secret():
    """The token of the ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip() or None


def sign_in_by_token():
    """Before every API request: the token's user becomes ``current_user`` for this request
    alone. Flask-Login keeps the request's user in ``g._login_user``; set there, it never
    looks at the session or the remember cookie."""
    if not request.is_api:
        return
    user, token = api_tokens.user_of(bearer_secret())
    g._login_user = user if user is not None else login_manager.anonymous_user()
    g.api_token = token
    g.api_token_moved = token is not None and inspect(token).attrs.last_used_at.history \
        .has_changes()


def save_last_use(response):
    """After an API answer is built: commit the token's new last use, if ``user_of`` moved
    it (a view that wrote has committed it already; one that failed rolled it back)."""
    if g.get("api_token_moved"):
        db.session.commit()
    return response


def require_token():
    """Before each view of the API: 401 with a ``Bearer`` challenge unless the request came
    with a working token (not revoked, its user not disabled)."""
    if g.get("api_token") is not None:
        return None
    if bearer_secret() is None:
        detail, challenge = "Send a personal API token: Authorization: Bearer <token>.", CHALLENGE
    else:
        detail = "This token does not work: it is unknown, revoked, or its user is disabled."
        challenge = f'{CHALLENGE}, error="invalid_token"'
    return problem(401, detail=detail, headers={"WWW-Authenticate": challenge})


def rate_limit_key():
    """Flask-Limiter's key: the token as sent (hashed), so each token has its own budget;
    a request without one counts against its address. Asked before the token is looked up,
    so a flood of requests costs no query past the limit."""
    secret = bearer_secret()
    if secret is None:
        return f"api-address:{request.remote_addr}"
    return f"api-token:{hash_token(secret)[:32]}"


def init_app(app):
    """Sessions off for the API, and the token's user on for each of its requests."""
    app.session_interface = NoSessionOnApi()
    app.before_request(sign_in_by_token)
    app.after_request(save_last_use)
    api_tokens.prepare()
