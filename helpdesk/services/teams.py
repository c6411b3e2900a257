"""Teams of staff: creating, renaming, and who is in them.

Members are active staff (agents and admins): a team is the operator's own people; a
reseller's users already work their reseller's tickets. Shared by the admin pages, routing
and the demo; every change is audited (actor None from the CLI or the demo).
"""

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Team, User
from helpdesk.models.user import STAFF_ROLES
from helpdesk.services import audit
from helpdesk.services.errors import Refused

MAX_NAME_LENGTH = 100  # the column's size


class TeamError(Refused):
    """A team change was refused; the message says why, ``field`` names the input."""

    FIELD = "name"


def all_teams():
    """Every team by name."""
    return db.session.scalars(select(Team).order_by(Team.name)).all()


def find_team(name):
    """A team by name, case-insensitively, or None."""
    return db.session.scalar(
        select(Team).where(func.lower(Team.name) == " ".join((name or "").split()).lower()))


def staff_not_in(team):
    """Active staff who could join ``team``, by name."""
    members = {member.id for member in team.members}
    return [user for user in db.session.scalars(
        select(User).where(User.role.in_(sorted(STAFF_ROLES)), User.disabled_at.is_(None))
        .order_by(User.name)) if user.id not in members]


def _checked_name(name, *, team=None):
    name = " ".join((name or "").split())
    if not name:
        raise TeamError("A team needs a name.")
    if len(name) > MAX_NAME_LENGTH:
        raise TeamError(f"A team name can be at most {MAX_NAME_LENGTH} characters.")
    same = find_team(name)
    if same is not None and same is not team:
        raise TeamError(f"A team named {same.name} already exists.")
    return name


def create_team(name, *, actor=None):
    """Create a team with a unique name and no members."""
    team = Team(name=_checked_name(name))
    db.session.add(team)
    audit.record("team.create", actor=actor, field="team", new=team.name)
    db.session.commit()
    return team


def rename_team(team, name, *, actor):
    """Give a team a new (unique) name; tickets and rules that have it show the new one."""
    name = _checked_name(name, team=team)
    if name != team.name:
        audit.record("team.rename", actor=actor, field="team", old=team.name, new=name)
        team.name = name
        db.session.commit()
    return team


def add_member(team, user, *, actor=None):
    """Put an active agent or admin in ``team`` (already there: nothing changes)."""
    if user is None or not user.is_staff or not user.is_active:
        raise TeamError("Only active agents and admins can be in a team.", field="member")
    if user not in team.members:
        team.members.append(user)
        audit.record("team.add_member", actor=actor, subject_user=user, field="team",
                     new=team.name)
        db.session.commit()
    return team


def remove_member(team, user, *, actor):
    """Take ``user`` out of ``team`` (not a member: nothing changes)."""
    if user in team.members:
        team.members.remove(user)
        audit.record("team.remove_member", actor=actor, subject_user=user, field="team",
                     old=team.name)
        db.session.commit()
    return team
