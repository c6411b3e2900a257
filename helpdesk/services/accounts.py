"""Accounts: creating and changing users, checking passwords, disabling and enabling.

The one place for the rules about users, shared by the admin pages, the CLI and the API;
every change is audited here, with the admin as actor (None from the CLI).
"""

import secrets
from functools import cache

from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, or_, select

from helpdesk.extensions import db
from helpdesk.models import PERMISSIONS, ROLES, SignIn, User
from helpdesk.models.timestamps import utcnow
from helpdesk.models.user import STAFF_ROLES
from helpdesk.services import audit, outgoing_mail, sign_ins
from helpdesk.services.errors import Refused

MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH = 200  # the column's size
DEFAULT_RESELLER_PERMISSIONS = ("tickets.view", "tickets.create", "tickets.edit", "tickets.reply")


# Argon2id as OWASP's Password Storage Cheat Sheet sets it first: 46 MiB, one pass, one
# lane. About 35 ms a hash on a 2-core machine, so a sign-in answers in about 0.1 s, and two
# at once do not queue behind each other's four lanes (RFC_9106_LOW_MEMORY: 64 MiB, three
# passes, four lanes, 110-140 ms alone, 0.2-0.5 s a sign-in under load). The trade-off: a
# stolen hash costs an attacker about a third of the work per guess; the ten-character
# minimum and the sign-in limits are what stand against guessing online.
DESK_PARAMETERS = Parameters(type=Type.ID, version=19, salt_len=16, hash_len=32,
                             time_cost=1, memory_cost=47104, parallelism=1)
PROFILES = {"DESK": DESK_PARAMETERS}


def hash_parameters(profile):
    """The Argon2id parameters named ``profile``: ``DESK`` or an ``argon2.profiles`` name."""
    if profile in PROFILES:
        return PROFILES[profile]
    parameters = getattr(profiles, profile, None)
    if not isinstance(parameters, Parameters):
        raise ValueError(f"PASSWORD_HASH_PROFILE={profile!r} is not DESK or an argon2.profiles"
                         " name (RFC_9106_LOW_MEMORY, RFC_9106_HIGH_MEMORY, CHEAPEST)")
    return parameters


@cache
def _hasher_for(profile):
    """An Argon2id hasher with the parameters named ``profile``, and a dummy hash.

    The dummy is verified against when the email is unknown, so a miss costs as long as a
    wrong password and timing does not reveal which emails have accounts.
    """
    hasher = PasswordHasher.from_parameters(hash_parameters(profile))
    return hasher, hasher.hash("not-a-real-password")


def _hasher():
    return _hasher_for(current_app.config["PASSWORD_HASH_PROFILE"])


class AccountError(Refused):
    """An account operation was refused; the message says why, in the user's words.

    ``field`` names the form field the message belongs beside, when there is one.
    """


def normalise_email(email):
    """Emails are stored and compared lower-cased and trimmed."""
    return (email or "").strip().lower()


def hash_password(password):
    """Argon2id hash of a password."""
    return _hasher()[0].hash(password)


def find_user(email):
    """The user with this email, or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(email, password):
    """The active user these credentials belong to, or None. Upgrades old hashes on the way.

    A failure is audited (``user.login_failed``: no actor, the account when the email has
    one, the email as typed, the IP), the same work whether or not the account exists.
    """
    user = find_user(email)
    hasher, dummy_hash = _hasher()
    try:
        hasher.verify(user.password_hash if user else dummy_hash, password or "")
    except (VerificationError, InvalidHashError):
        user_ok = False
    else:
        user_ok = user is not None and user.is_active
    if not user_ok:
        audit.record("user.login_failed", actor=None, subject_user=user, field="email",
                     new=(email or "").strip()[:254])
        db.session.commit()
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def _checked_email(email, *, user=None):
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError(f"{email!r} is not an email address.", field="email")
    same = find_user(email)
    if same is not None and same is not user:
        raise AccountError(f"A user with the email {email} already exists.", field="email")
    return email


def _checked_name(name, email):
    name = " ".join((name or "").split()) or email.split("@")[0]
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"A name can be at most {MAX_NAME_LENGTH} characters.", field="name")
    return name


def _checked_links(*, role, reseller, organisation, permissions):
    """Check that role, reseller, organisation and permissions fit together.

    Returns ``(reseller, organisation, permissions)``: a customer of an organisation belongs
    to its reseller; ``permissions`` None gives a reseller user the defaults.
    """
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.",
                           field="role")
    if role == "reseller" and reseller is None:
        raise AccountError("A reseller user needs a reseller.", field="reseller")
    if role == "company_admin" and organisation is None:
        raise AccountError("A company admin needs an organisation.", field="organisation")
    if role in STAFF_ROLES and (reseller or organisation):
        raise AccountError("Agents and admins belong to the operator: no reseller or "
                           "organisation.", field="reseller" if reseller else "organisation")
    if organisation is not None:
        if role == "reseller":
            raise AccountError("A reseller user belongs to a reseller, not an organisation.",
                               field="organisation")
        if reseller is not None and organisation.reseller_id != reseller.id:
            raise AccountError(f"{organisation.name} is not a customer of {reseller.name}.",
                               field="organisation")
        reseller = organisation.reseller
    if permissions is None:
        permissions = DEFAULT_RESELLER_PERMISSIONS if role == "reseller" else ()
    elif permissions and role != "reseller":
        raise AccountError("Only reseller users take tickets.* permissions.",
                           field="permissions")
    unknown = set(permissions) - set(PERMISSIONS)
    if unknown:
        raise AccountError(f"Unknown permissions: {', '.join(sorted(unknown))}.",
                           field="permissions")
    return reseller, organisation, frozenset(permissions)


def create_user(*, email, name, role, password, reseller=None, organisation=None,
                permissions=None, actor=None):
    """Create a user after checking that role, reseller and organisation fit together.

    ``password`` None: no password yet; the user is mailed a link to set one. ``actor`` is
    the admin who did it (None from the CLI); audited as ``user.create``.
    """
    email = _checked_email(email)
    reseller, organisation, permissions = _checked_links(
        role=role, reseller=reseller, organisation=organisation, permissions=permissions)
    if password == "":
        raise AccountError("Enter a password, or have a link mailed to them.",
                           field="password")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
                           field="password")
    user = User(
        email=email, name=_checked_name(name, email), role=role,
        # Without a password: a random one nobody knows, until the link sets one.
        password_hash=hash_password(password or secrets.token_urlsafe(32)),
        reseller=reseller, organisation=organisation,
    )
    user.permissions = permissions
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor=actor, subject_user=user, field="role", new=role)
    mail = outgoing_mail.queue("set_password", user) if password is None else None
    db.session.commit()
    if mail is not None:
        outgoing_mail.OUTBOX.dispatch([mail.id])
    return user


def _label(value):
    """How a changed value is written in the audit log."""
    if value is None:
        return None
    if isinstance(value, frozenset):
        return " ".join(sorted(value)) or "none"
    return getattr(value, "name", value)


def update_user(user, *, actor, name, email, role, reseller, organisation, permissions):
    """Change a user's name, email, role, reseller, organisation and reseller permissions.

    Every value is given (the edit form holds them all); each one that changed is audited
    (``user.update`` with its field, old and new). An admin cannot take away their own admin
    role, nor anyone's when they are the last active admin.
    """
    email = _checked_email(email, user=user)
    name = _checked_name(name, email)
    reseller, organisation, permissions = _checked_links(
        role=role, reseller=reseller, organisation=organisation,
        permissions=permissions if permissions is not None else ())
    _keep_an_admin(user, actor=actor, losing=user.role == "admin" and role != "admin",
                   verb="change the role of")
    changes = {"name": name, "email": email, "role": role, "reseller": reseller,
               "organisation": organisation, "permissions": permissions}
    for field, new in changes.items():
        old = getattr(user, field)
        if old != new:
            audit.record("user.update", actor=actor, subject_user=user, field=field,
                         old=_label(old), new=_label(new))
            setattr(user, field, new)
    db.session.commit()
    return user


# Not a hash at all: no password verifies against it, so nobody signs in as these people.
UNUSABLE_PASSWORD = "!system-person"  # noqa: S105


def system_person(*, email, name, role, disabled):
    """The user with ``email`` that the desk itself acts as or files under (a PSA
    connection's desk user, the email intake's unknown sender...), made and audited as made
    by the system if missing. Nobody can sign in as them: no usable password, and their
    addresses are under the reserved ``.invalid`` domain."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name[:200], role=role, password_hash=UNUSABLE_PASSWORD,
                    disabled_at=utcnow() if disabled else None)
        db.session.add(user)
        db.session.flush()
        audit.record("user.create", actor=None, subject_user=user, field="role", new=role)
        db.session.commit()
    return user


def active_admins():
    """How many admins can sign in."""
    return db.session.scalar(select(func.count(User.id)).where(
        User.role == "admin", User.disabled_at.is_(None)))


def _keep_an_admin(user, *, actor, losing, verb):
    """Refuse a change that takes admin away from ``actor`` themselves or from the last
    active admin (nobody could then run the help desk's settings)."""
    if not losing or not user.is_active:
        return
    if actor is not None and actor.id == user.id:
        raise AccountError(f"You cannot {verb} yourself: ask another admin.", field="role")
    if active_admins() <= 1:
        raise AccountError(f"{user.name} is the last admin: make someone else an admin first.",
                           field="role")


def set_disabled(user, *, disabled, actor=None):
    """Disable (ending every session at once) or re-enable a user; audited when it changes.

    ``actor`` is who did it; None means the CLI (an operator at the server). Nobody disables
    themselves, and the last active admin is never disabled.
    """
    was_disabled = user.disabled_at is not None
    if disabled:
        _keep_an_admin(user, actor=actor, losing=user.role == "admin", verb="disable")
        user.disabled_at = user.disabled_at or utcnow()
        sign_ins.end_all(user)
    else:
        user.disabled_at = None
    if disabled != was_disabled:
        audit.record("user.disable" if disabled else "user.enable", actor=actor,
                     subject_user=user, field="account",
                     old="disabled" if was_disabled else "active",
                     new="disabled" if disabled else "active")
    db.session.commit()
    return user


def change_password(user, *, current_password, new_password, keep):
    """Replace the password after checking the current one; every sign-in but ``keep`` ends.

    Whoever learnt the old password may hold a session made with it: those end here.
    """
    try:
        _hasher()[0].verify(user.password_hash, current_password or "")
    except (VerificationError, InvalidHashError):
        raise AccountError("That is not your current password.",
                           field="current_password") from None
    if len(new_password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
                           field="new_password")
    user.password_hash = hash_password(new_password)
    ended = sign_ins.end_all(user, keep=keep)
    audit.record("user.password_change", actor=user, subject_user=user, field="sign_ins",
                 new=f"{ended} other ended")
    db.session.commit()
    return ended


def users_page(*, text="", after=None, limit):
    """A page of users by email, filtered by ``text`` in name or email, after email ``after``.

    Returns ``(rows, next_after)``: rows are ``(user, open sign-ins)``; ``next_after`` is the
    email to continue after, or None on the last page.
    """
    open_sign_ins = (
        select(func.count(SignIn.id)).where(SignIn.user_id == User.id, sign_ins.open_now())
        .correlate(User).scalar_subquery()
    )
    query = select(User, open_sign_ins).order_by(User.email).limit(limit + 1)
    text = (text or "").strip()
    if text:
        needle = text.lower()
        query = query.where(or_(func.lower(User.name).contains(needle, autoescape=True),
                                User.email.contains(needle, autoescape=True)))
    if after:
        query = query.where(User.email > after)
    rows = db.session.execute(query).all()
    next_after = rows[limit - 1][0].email if len(rows) > limit else None
    return rows[:limit], next_after
