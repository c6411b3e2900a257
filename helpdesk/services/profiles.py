"""What people set about themselves on their profile: their name and their time zone.

The rules live here (``clean_name``, ``clean_time_zone``), used by the profile's form to
say what is wrong beside each field and by ``update_profile`` again before anything is
written. A changed name renews the queue's choices (the staff list, ``desk.choices``) when
it commits, as any change to a user's name does.
"""

from helpdesk.extensions import db
from helpdesk.services import audit
from helpdesk.services.accounts import AccountError
from helpdesk.time_zones import known

MAX_NAME_LENGTH = 200  # users.name


def clean_name(name):
    """``name`` as it is kept (runs of spaces, tabs and line breaks made one space, none at
    either end); ``AccountError`` when nothing is left or it is too long."""
    name = " ".join((name or "").split())
    if not name:
        raise AccountError("Enter your name.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"A name has at most {MAX_NAME_LENGTH} characters"
                           f" (this one has {len(name)}).", field="name")
    return name


def clean_time_zone(name):
    """An IANA zone name, or None (no name: the browser's zone); ``AccountError`` when the
    time zone database does not know it."""
    name = (name or "").strip()
    if not name:
        return None
    if not known(name):
        shown = name if len(name) <= 64 else name[:64] + "…"
        raise AccountError(f"“{shown}” is not a time zone: choose one from the list.",
                           field="time_zone")
    return name


def update_profile(user, *, name, time_zone, actor):
    """Set ``user``'s name and time zone (None: their browser's), each audited when it
    changed; both are checked before either is written. Returns the fields changed."""
    name, time_zone = clean_name(name), clean_time_zone(time_zone)
    changed = []
    for field, action, new in (("name", "user.name_change", name),
                               ("time_zone", "user.time_zone_change", time_zone)):
        old = getattr(user, field)
        if old != new:
            audit.record(action, actor=actor, subject_user=user, field=field, old=old, new=new)
            setattr(user, field, new)
            changed.append(field)
    db.session.commit()
    return changed
