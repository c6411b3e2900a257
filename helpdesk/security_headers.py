"""Response headers every page carries: a strict content security policy and friends.

No page has inline script or style and htmx runs with ``allowEval`` off, so the policy can
allow scripts and styles from our own origin only. Cookies set on a request that came over
HTTPS (directly, or through a trusted proxy, see ``PROXY_COUNT``) are always ``Secure``, and
HTTPS responses carry HSTS when ``STRICT_TRANSPORT_SECURITY`` is set (production).

Nothing a signed-in user is shown may stay in a browser's cache for the next person at that
computer, nor come back from it after signing out: every response to a signed-in user gets
``Cache-Control: no-store``. A route that set its own directives (attachments and the live
poll say ``private, no-cache`` for their ETags) keeps them with ``no-store`` added, which
wins; the live poll still answers 204 from its version parameter. Static files are the same
for everyone and stay cacheable.
"""

from flask import request
from flask_login import current_user

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def init_app(app):
    """Add the headers to every response."""

    @app.after_request
    def add_security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        hsts = app.config["STRICT_TRANSPORT_SECURITY"]
        if hsts and request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", hsts)
        # The API's answers are a token user's: never cached either. Its requests are not
        # asked for a session user (they have none, and a refused one may have no user yet).
        if request.is_api or (request.endpoint != "static" and current_user.is_authenticated):
            response.cache_control.no_store = True
        return response

    # Under ProxyFix (added later, so it runs first and fixes the scheme).
    app.wsgi_app = SecureCookiesOnHttps(app.wsgi_app)


class SecureCookiesOnHttps:
    """WSGI middleware: on HTTPS requests, every ``Set-Cookie`` carries ``Secure``.

    Flask writes the session cookie and Flask-Login the remember cookie after the app's own
    response hooks, so this sits below the app, where it sees every cookie.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            return start_response(status, [_secure(name, value) for name, value in headers],
                                  exc_info)

        return self.wsgi_app(environ, secure_start_response)


def _secure(name, value):
    if name.lower() != "set-cookie":
        return name, value
    flags = {part.strip().lower() for part in value.split(";")[1:]}
    return name, value if "secure" in flags else f"{value}; Secure"
