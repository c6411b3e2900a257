"""Password reset by email: the link, the mail that carries it, and setting the password.

The link carries a token signed with ``SECRET_KEY`` (itsdangerous), holding the user's id
and a fingerprint of their current password hash. Why not a stored token row: nothing
secret is kept in the database (a copy of the database cannot reset anyone's password), and
no table of tokens has to be cleaned up. It still does all a row would:

- time-limited: ``PASSWORD_RESET_MINUTES`` after it was made (the signature's timestamp);
- single-use: setting a password changes the hash, so the fingerprint no longer matches and
  every link made before dies with it (so does any other password change);
- the fingerprint is an HMAC of the hash under ``SECRET_KEY``, so the link, which its owner
  can decode, reveals nothing of the hash.

Asking for a link (``request_reset``) answers nothing about whether the email has an
account: the view says the same either way. A disabled user gets no mail (the row is
withheld at send time too, should they be disabled between).
"""

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.services import audit, outgoing_mail, sign_ins
from helpdesk.services.accounts import (
    MIN_PASSWORD_LENGTH,
    AccountError,
    find_user,
    hash_password,
)

SALT = "helpdesk.password-reset"


class ResetLinkError(ValueError):
    """The link cannot be used (expired, already used, or not one of ours): says which."""


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def token_for(user):
    """A signed reset token for ``user``'s current password."""
    return _serializer().dumps({"user": user.id, "password": _fingerprint(user)})


def link_for(user):
    """The reset page's full address with a fresh token, for mail (``PUBLIC_URL``)."""
    # Built by hand, as the notifications' links are: a worker has no request to build from.
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/password/reset/{token_for(user)}"


def minutes_valid():
    """How long a link works, in minutes (``PASSWORD_RESET_MINUTES``)."""
    return current_app.config["PASSWORD_RESET_MINUTES"]


def user_for_token(token):
    """The active user a token still works for, or raise ``ResetLinkError`` saying why."""
    try:
        data = _serializer().loads(token, max_age=minutes_valid() * 60)
    except SignatureExpired:
        raise ResetLinkError("This link has expired. Ask for a new one.") from None
    except BadSignature:
        raise ResetLinkError("This link is not valid. Ask for a new one.") from None
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) \
        and isinstance(data.get("user"), int) else None
    if user is None or not user.is_active or not hmac.compare_digest(
            str(data.get("password")), _fingerprint(user)):
        raise ResetLinkError("This link has already been used or is no longer valid. "
                             "Ask for a new one.")
    return user


def _send(user, kind):
    mail = outgoing_mail.queue(kind, user)
    db.session.commit()
    outgoing_mail.OUTBOX.dispatch([mail.id])
    return mail


def request_reset(email):
    """Someone asked for a link for ``email``: mail it if an active account has it.

    Returns nothing: the answer must not tell whether the account exists.
    """
    user = find_user(email)
    if user is not None and user.is_active:
        _send(user, "password_reset")


def send_reset_link(user, *, actor, kind="password_reset"):
    """An admin (``actor``; None from the CLI) sends ``user`` a reset or set-password link."""
    if not user.is_active:
        raise AccountError(f"{user.name} is disabled: enable them first.")
    audit.record("user.password_reset_link", actor=actor, subject_user=user, field="mail",
                 new=kind)
    return _send(user, kind)


def reset_password(token, *, new_password):
    """Set a new password through a link: every sign-in of that user ends; audited.

    Raises ``ResetLinkError`` for a link that no longer works, ``AccountError`` (field
    ``new_password``) for a password that is too short.
    """
    user = user_for_token(token)
    if len(new_password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
                           field="new_password")
    user.password_hash = hash_password(new_password)
    ended = sign_ins.end_all(user)
    audit.record("user.password_reset", actor=user, subject_user=user, field="sign_ins",
                 new=f"{ended} ended")
    db.session.commit()
    return user


def message_for(mail):
    """``(subject, body)`` of an account message, with a link made now."""
    user, minutes = mail.recipient, minutes_valid()
    link = link_for(user)
    if mail.kind == "set_password":
        return ("Set your help desk password", (
            f"Hello {user.name},\n\nAn account on the help desk was made for you "
            f"({user.email}). Choose your password here (the link works once, for "
            f"{minutes} minutes):\n\n{link}\n\nIf it has expired, use \"Forgot your "
            "password?\" on the sign-in page.\n"))
    if mail.kind == "password_reset":
        return ("Reset your help desk password", (
            f"Hello {user.name},\n\nSomeone (we hope you) asked to reset the password of "
            f"{user.email}. Choose a new one here (the link works once, for {minutes} "
            f"minutes):\n\n{link}\n\nIf you did not ask, ignore this mail: your password "
            "stays as it is.\n"))
    raise ValueError(f"unknown mail kind {mail.kind!r}")
