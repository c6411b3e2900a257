"""Sign-ins: the server-side record behind every session, started, checked and ended here.

Flask-Login keeps a sign-in's random token in the session cookie and, with "keep me signed
in", in the remember cookie. A request is signed in only while that token's row is open,
unexpired, not idle, and its user active. So ending the row (signing out, "sign out
everywhere", a password change, disabling the user) ends both cookies and every copy of them
at once, and its ends are the server's, which no copied cookie can move:

- a plain sign-in ends ``SESSION_MAX_HOURS`` after it started, however busy, and
  ``SESSION_LIFETIME_HOURS`` after its last request (idle; its last-seen time is written
  every ``LAST_SEEN_EVERY``, so it may idle out those few minutes early);
- a "keep me signed in" sign-in ends ``REMEMBER_COOKIE_DAYS`` after it started.

Both ends are the server's, so a copied cookie cannot outlive them, and the session cookie
need not be written again on every request to slide its expiry (it is set at sign-in, to
last as long as a plain sign-in may: ``PERMANENT_SESSION_LIFETIME``).
"""

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import contains_eager

from helpdesk.extensions import db
from helpdesk.models import SignIn, User
from helpdesk.models.sign_in import USER_AGENT_LENGTH
from helpdesk.models.timestamps import utcnow
from helpdesk.services import audit

# last_seen_at is shown on the profile page and ends idle sign-ins; writing it on every
# request would turn every page view into a write, so it may lag by this much.
LAST_SEEN_EVERY = timedelta(minutes=5)


def hash_token(token):
    """What the table keeps of a token: its SHA-256 (a random 256-bit token needs no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def open_now(now=None):
    """The SQL condition for a sign-in that still counts: not ended, not expired, and not
    idle unless kept ("keep me signed in")."""
    now = now or utcnow()
    return _open(now, now - _idle())


def _open(now, idle_since):
    return and_(_unexpired(now), or_(SignIn.remember, SignIn.last_seen_at > idle_since))


def _unexpired(now):
    """Not ended and not past its fixed end: idle or not."""
    return and_(SignIn.ended_at.is_(None), SignIn.expires_at > now)


def _idle():
    return timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])


def lifetime(*, remember):
    """How long a sign-in may last from its start, whatever happens meanwhile."""
    if remember:
        return timedelta(days=current_app.config["REMEMBER_COOKIE_DAYS"])
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def start(user, *, remember, ip, user_agent):
    """Open a sign-in for ``user`` (audited as ``user.login``) and return it.

    The token goes to ``user.sign_in_token`` for Flask-Login's cookies; only its hash is kept.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    sign_in = SignIn(
        token_hash=hash_token(token), user_id=user.id, remember=remember, ip=ip,
        user_agent=(user_agent or "")[:USER_AGENT_LENGTH] or None,
        created_at=now, last_seen_at=now, expires_at=now + lifetime(remember=remember),
    )
    db.session.add(sign_in)
    audit.record("user.login", actor=user, subject_user=user)
    db.session.commit()
    user.sign_in_token = token
    return sign_in


def find_open(token):
    """The open sign-in with this token, its active user loaded, or None.

    Every signed-in request runs this, so it is one query; at most every ``LAST_SEEN_EVERY``
    it also writes the last-seen time.
    """
    now = utcnow()
    sign_in = db.session.scalar(_open_by_token(), {
        "token_hash": hash_token(token), "now": now, "idle_since": now - _idle()})
    if sign_in is None:
        return None
    if now - sign_in.last_seen_at >= LAST_SEEN_EVERY:
        sign_in.last_seen_at = now
        db.session.commit()
    sign_in.user.sign_in_token = token
    return sign_in


def prepare():
    """Build ``find_open``'s statement before any request (see ``desk.rows.prepare``)."""
    _open_by_token().compile()


@lru_cache(maxsize=1)
def _open_by_token():
    """``find_open``'s statement, built once: every signed-in request runs it."""
    return (
        select(SignIn).join(SignIn.user).options(contains_eager(SignIn.user))
        .where(SignIn.token_hash == bindparam("token_hash"),
               _open(bindparam("now"), bindparam("idle_since")),  # typed by their columns
               User.disabled_at.is_(None))
    )


def open_for(user):
    """``user``'s sign-ins that still count, most recently seen first."""
    return db.session.scalars(
        select(SignIn).where(SignIn.user_id == user.id, open_now())
        .order_by(SignIn.last_seen_at.desc(), SignIn.id.desc())
    ).all()


def find_open_for(user, sign_in_id):
    """One of ``user``'s open sign-ins by id, or None (someone else's is None too)."""
    return db.session.scalar(
        select(SignIn).where(SignIn.id == sign_in_id, SignIn.user_id == user.id, open_now())
    )


def counted(number, *, other=False):
    """``1 sign-in``, ``3 sign-ins`` (``3 other sign-ins``): how the pages and the CLI say
    how many ended."""
    return f"{number}{' other' if other else ''} sign-in{'' if number == 1 else 's'}"


def _describe(sign_in):
    return f"{sign_in.device}, {sign_in.ip or 'unknown address'} (sign-in {sign_in.id})"


def sign_out(sign_in, *, user):
    """This browser signs out: its sign-in ends (audited as ``user.logout``)."""
    sign_in.ended_at = sign_in.ended_at or utcnow()
    audit.record("user.logout", actor=user, subject_user=user)
    db.session.commit()


def end(sign_in, *, actor):
    """End one sign-in from elsewhere: that browser is signed out on its next request."""
    sign_in.ended_at = sign_in.ended_at or utcnow()
    audit.record("user.sign_out", actor=actor, subject_user=sign_in.user, field="sign_in",
                 old=_describe(sign_in), new="ended")
    db.session.commit()


def end_all(user, *, keep=None):
    """End every open sign-in of ``user`` but ``keep``; returns how many ended.

    Neither audits nor commits: for operations that record themselves (disabling a user,
    changing a password). ``sign_out_everywhere`` is the audited action.
    """
    now = utcnow()
    # Idle rows too: were SESSION_LIFETIME_HOURS raised later, they must not count again.
    statement = update(SignIn).where(SignIn.user_id == user.id, _unexpired(now))
    if keep is not None:
        statement = statement.where(SignIn.id != keep.id)
    return db.session.execute(statement.values(ended_at=now)).rowcount


def sign_out_everywhere(user, *, actor):
    """End every sign-in of ``user``, this browser's too; audited. Returns how many ended.

    ``actor`` is who asked: the user, an admin, or None for the CLI.
    """
    ended = end_all(user)
    audit.record("user.sign_out_everywhere", actor=actor, subject_user=user,
                 field="sign_ins", new=f"{ended} ended")
    db.session.commit()
    return ended
