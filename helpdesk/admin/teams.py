"""``/admin/teams``: teams of staff; creating, renaming, adding and removing members
(``services.teams``, which audits every change)."""

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.extensions import db
from helpdesk.models import Team, User
from helpdesk.params import parse_id
from helpdesk.services import teams as service

bp = Blueprint("admin_teams", __name__, url_prefix="/admin/teams")
bp.before_request(admins_only)

LIST, PAGE = "admin/teams.html", "admin/team.html"


def _team(team_id):
    return db.session.get(Team, team_id) or abort(404)


def _team_page(team, **extra):
    return {"team": team, "candidates": service.staff_not_in(team), "errors": {}, "typed": {},
            **extra}


@bp.get("")
def teams():
    """Every team with its members, and a form to create one."""
    return render_template(LIST, teams=service.all_teams(), errors={}, typed={})


@bp.post("")
def create():
    """Create a team; its page opens to add members."""
    try:
        team = service.create_team(request.form.get("name"), actor=current_user)
    except service.TeamError as error:
        db.session.rollback()
        return refused(LIST, teams=service.all_teams(), errors={"new": str(error)},
                       typed={"new": request.form.get("name", "")})
    return changed(f"Created team {team.name}: add its members.",
                   url_for("admin_teams.team", team_id=team.id))


@bp.get("/<int:team_id>")
def team(team_id):
    """One team: its name and members."""
    return render_template(PAGE, **_team_page(_team(team_id)))


@bp.post("/<int:team_id>/name")
def rename(team_id):
    """Rename a team."""
    team = _team(team_id)
    old = team.name
    try:
        service.rename_team(team, request.form.get("name"), actor=current_user)
    except service.TeamError as error:
        db.session.rollback()
        return refused(PAGE, **_team_page(team, errors={"name": str(error)},
                                          typed={"name": request.form.get("name", "")}))
    return changed(f"Renamed {old} to {team.name}." if old != team.name
                   else f"{old} is unchanged.", url_for("admin_teams.team", team_id=team.id))


@bp.post("/<int:team_id>/members")
def add_member(team_id):
    """Add an agent or admin (``user``) to the team."""
    team = _team(team_id)
    user_id = parse_id(request.form.get("user"))
    user = db.session.get(User, user_id) if user_id else None
    try:
        service.add_member(team, user, actor=current_user)
    except service.TeamError as error:
        db.session.rollback()
        return refused(PAGE, **_team_page(team, errors={"member": str(error)}))
    return changed(f"Added {user.name} to {team.name}.",
                   url_for("admin_teams.team", team_id=team.id))


@bp.post("/<int:team_id>/members/<int:user_id>/remove")
def remove_member(team_id, user_id):
    """Take a member out of the team."""
    team = _team(team_id)
    user = db.session.get(User, user_id) or abort(404)
    service.remove_member(team, user, actor=current_user)
    return changed(f"Removed {user.name} from {team.name}.",
                   url_for("admin_teams.team", team_id=team.id))
