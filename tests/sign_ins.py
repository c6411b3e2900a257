"""Helpers for the sign-in tests: other browsers, copied cookies, moving a sign-in's clock."""

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, SignIn
from tests.conftest import AuthActions, csrf_token_from

ENDED = "Your session has ended; sign in again."
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def signed_in(client, path="/tickets"):
    """Whether this client is signed in: a desk page answers 200 rather than a redirect."""
    response = client.get(path)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def new_client(app, headers=None):
    """Another browser, with its own cookie jar and the helper to sign it in."""
    client = app.test_client()
    if headers:
        client.environ_base.update(headers)
    return client, AuthActions(client)


def with_cookie(app, name, value):
    """A fresh browser holding only a copy of one cookie."""
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def sign_in_rows(app, user_id):
    """Every sign-in of a user, oldest first, read fresh from the database."""
    with app.app_context():
        return db.session.scalars(
            select(SignIn).where(SignIn.user_id == user_id).order_by(SignIn.id)).all()


def shift_times(app, user_id, delta):
    """Move a user's sign-ins back by ``delta``; done in Python so SQLite and Postgres agree."""
    with app.app_context():
        for row in db.session.scalars(select(SignIn).where(SignIn.user_id == user_id)):
            row.created_at -= delta
            row.expires_at -= delta
            row.last_seen_at -= delta
        db.session.commit()


def audit_actions(app, user_id):
    """(action, actor id) of every audit entry about a user, oldest first."""
    with app.app_context():
        return [(entry.action, entry.actor_id) for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.subject_user_id == user_id)
            .order_by(AuditEntry.id))]


def post_form(client, page, action, data=None):
    """Post a form the way a browser does: with the CSRF token of the page it is on."""
    token = csrf_token_from(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **(data or {})})
