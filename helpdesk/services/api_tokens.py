"""Personal API tokens: made, found for a request, listed and revoked here.

A token is shown once, when it is made (the profile page, ``flask tokens create``); the table
keeps its SHA-256, as ``services.sign_ins`` keeps a session's. Every API request looks its
token up by that hash (one indexed query, the user joined); a revoked token or a disabled
user's token finds nothing, so the request answers 401. Making and revoking a token are in
the audit log; using one is not (the last use is on the token itself).
"""

import secrets
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager

from helpdesk.extensions import db
from helpdesk.models import ApiToken, User
from helpdesk.models.api_token import MAX_NAME_LENGTH
from helpdesk.models.timestamps import utcnow
from helpdesk.services import audit
from helpdesk.services.errors import Refused
from helpdesk.services.sign_ins import hash_token

PREFIX = "hd_"  # says what the secret is when it turns up in a log or a repository
# The profile shows when a token was last used; writing it on every request would make
# every API read a write, so it may lag by this much.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenError(Refused):
    """A token cannot be made or revoked as asked; ``field`` names the form's field."""

    FIELD = "name"


def create_token(user, *, name, actor):
    """Make a token for ``user`` named ``name``; returns ``(token, secret)``.

    The secret is returned once and never stored: whoever asked must copy it now.
    """
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("Give the token a name, such as the script that will use it.")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenError(f"A token's name can be at most {MAX_NAME_LENGTH} characters.")
    if not user.is_active:
        raise TokenError("A disabled user cannot have API tokens.", field=None)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret),
                     created_at=utcnow())
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.create", actor=actor, subject_user=user, new=name)
    db.session.commit()
    return token, secret


def tokens_of(user):
    """``user``'s tokens that still work, newest first (revoked ones are gone for good)."""
    return db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()


def find_token_of(user, token_id):
    """One of ``user``'s working tokens, or None (someone else's does not exist for them)."""
    return db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id,
                               ApiToken.revoked_at.is_(None)))


def revoke(token, *, actor):
    """Revoke ``token``: from now on it answers 401. Revoking it again changes nothing."""
    if token.revoked_at is not None:
        return token
    token.revoked_at = utcnow()
    audit.record("api_token.revoke", actor=actor, subject_user=token.user, old=token.name)
    db.session.commit()
    return token


def user_of(secret):
    """The active user whose working token ``secret`` is, with the token; or ``(None, None)``.

    Every API request runs this: one query. At most every ``LAST_USED_EVERY`` it also moves
    the token's last use, left for the request's caller to commit (the API commits it after
    its answer is built, ``api.bearer``, so the answer reads no row again).
    """
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None, None
    token = db.session.scalar(_working_by_hash(), {"token_hash": hash_token(secret)})
    if token is None:
        return None, None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
    return token.user, token


def prepare():
    """Build ``user_of``'s statement before any request (see ``desk.rows.prepare``)."""
    _working_by_hash().compile()


@lru_cache(maxsize=1)
def _working_by_hash():
    """``user_of``'s statement, built once: every API request runs it."""
    return (
        select(ApiToken).join(ApiToken.user).options(contains_eager(ApiToken.user))
        .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
               User.disabled_at.is_(None))
    )
