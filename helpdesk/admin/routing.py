"""``/admin/routing``: the routing rules in the order they are tried, their forms, and the
dry run ("which rule would match this ticket, and why").

The rules' checks and audit live in ``services.routing_rules``; the matching in
``services.routing``, which the dry run and the routing job share.
"""

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from helpdesk.access import visible_tickets
from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Category, Reseller, RoutingRule, Team, Ticket, User
from helpdesk.params import parse_id
from helpdesk.services import audit_log, routing
from helpdesk.services import routing_rules as service
from helpdesk.services.categories import all_categories
from helpdesk.services.organisations import all_resellers, find_organisation
from helpdesk.services.teams import all_teams

bp = Blueprint("admin_routing", __name__, url_prefix="/admin/routing")
bp.before_request(admins_only)

PAGE, RULE_PAGE = "admin/routing.html", "admin/routing_rule.html"
FIELDS = ("name", "category", "priority", "organisation", "reseller", "team", "assignee")
DRY_RUN_FIELDS = ("ticket", "category", "priority", "organisation", "reseller")


def _choices():
    """The forms' lists: categories, priorities, resellers, teams, who may be assigned."""
    return {"categories": all_categories(), "priorities": PRIORITIES,
            "resellers": all_resellers(), "teams": all_teams(),
            "assignees": service.assignable_by_rules()}


def _rule(rule_id):
    return db.session.get(RoutingRule, rule_id) or abort(404)


def _typed_from(rule):
    """A rule's values as its form shows them."""
    return {"name": rule.name, "category": str(rule.category_id), "priority": rule.priority or "",
            "organisation": rule.organisation.name if rule.organisation else "",
            "reseller": str(rule.reseller_id or ""), "team": str(rule.team_id or ""),
            "assignee": str(rule.assignee_id or "")}


def _chosen(model, text, field, what):
    """The row a select named, None when left empty, ``RuleError`` for an id not offered."""
    if not text:
        return None
    row = db.session.get(model, parse_id(text)) if parse_id(text) else None
    if row is None:
        raise service.RuleError(f"Choose {what} from the list.", field=field)
    return row


def _organisation(text, field="organisation"):
    """An organisation by the name typed, None when blank, ``RuleError`` when unknown."""
    if not (text or "").strip():
        return None
    organisation = find_organisation(text)
    if organisation is None:
        raise service.RuleError(f"No organisation is named {text.strip()}.", field=field)
    return organisation


def _priority(text):
    if not text:
        return None
    if text not in PRIORITIES:
        raise service.RuleError("Choose a priority from the list.", field="priority")
    return text


def _fields(form):
    """The rule form as ``RuleFields``; ``RuleError`` names an input that cannot be used."""
    return service.RuleFields(
        name=form.get("name", ""),
        category=_chosen(Category, form.get("category"), "category", "a category"),
        priority=_priority(form.get("priority")),
        organisation=_organisation(form.get("organisation")),
        reseller=_chosen(Reseller, form.get("reseller"), "reseller", "a reseller"),
        team=_chosen(Team, form.get("team"), "team", "a team"),
        assignee=_chosen(User, form.get("assignee"), "assignee", "someone"),
    )


def _dry_run(args):
    """The dry run asked for in ``args``: (facts or None, verdicts, errors). A ticket number
    wins over a combination; nothing asked, nothing run."""
    if not any(args.get(key) for key in DRY_RUN_FIELDS):
        return None, [], {}
    try:
        ticket_id = audit_log.ticket_id_from(args.get("ticket"))
        if ticket_id is not None:
            ticket = db.session.scalar(
                visible_tickets(current_user).where(Ticket.id == ticket_id))
            if ticket is None:
                raise service.RuleError(f"There is no ticket {args.get('ticket').strip()}.",
                                        field="ticket")
            facts = routing.Facts.of(ticket)
        else:
            category = _chosen(Category, args.get("category"), "category", "a category")
            if category is None:
                raise service.RuleError("Choose a category, or give a ticket number.",
                                        field="category")
            facts = routing.Facts(
                category, _priority(args.get("priority")) or "normal",
                _organisation(args.get("organisation")),
                _chosen(Reseller, args.get("reseller"), "reseller", "a reseller"))
    except audit_log.AuditFilterError as error:
        return None, [], {"ticket": str(error)}
    except service.RuleError as error:
        return None, [], {error.field: str(error)}
    return facts, routing.explain(facts), {}


def _page(*, errors=None, typed=None, status=200):
    facts, verdicts, dry_errors = _dry_run(request.args)
    context = {"rules": service.all_rules(), "describe": service.describe, "errors": errors or {},
               "typed": typed or {}, "dry": {k: request.args.get(k, "") for k in DRY_RUN_FIELDS},
               "dry_errors": dry_errors, "facts": facts, "verdicts": verdicts, **_choices()}
    if status != 200:
        return refused(PAGE, **context)
    return render_template(PAGE, **context), 400 if dry_errors else 200


@bp.get("")
def routing_rules():
    """The rules in order, the form for a new one, and the dry run."""
    return _page()


@bp.post("")
def add():
    """Add a rule at the end of the order."""
    typed = {key: request.form.get(key, "") for key in FIELDS}
    try:
        rule = service.add_rule(_fields(request.form), actor=current_user)
    except service.RuleError as error:
        db.session.rollback()
        return _page(errors={error.field: str(error)}, typed=typed, status=400)
    return changed(f"Added rule {rule.name}.", url_for("admin_routing.routing_rules"))


@bp.get("/<int:rule_id>")
def rule(rule_id):
    """One rule's form."""
    rule = _rule(rule_id)
    return render_template(RULE_PAGE, rule=rule, errors={}, typed=_typed_from(rule),
                           **_choices())


@bp.post("/<int:rule_id>")
def change(rule_id):
    """Change a rule's name, conditions and actions."""
    rule = _rule(rule_id)
    typed = {key: request.form.get(key, "") for key in FIELDS}
    try:
        service.change_rule(rule, _fields(request.form), actor=current_user)
    except service.RuleError as error:
        db.session.rollback()
        return refused(RULE_PAGE, rule=_rule(rule_id), errors={error.field: str(error)},
                       typed=typed, **_choices())
    return changed(f"Saved rule {rule.name}.", url_for("admin_routing.routing_rules"))


@bp.post("/<int:rule_id>/move")
def move(rule_id):
    """Move a rule one place up or down (``direction``): earlier rules are tried first."""
    rule = _rule(rule_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    service.move_rule(rule, up=direction == "up", actor=current_user)
    return changed(f"Moved {rule.name} {direction}.", url_for("admin_routing.routing_rules"))


@bp.post("/<int:rule_id>/enable")
def enable(rule_id):
    """Enable a rule."""
    rule = service.set_rule_enabled(_rule(rule_id), enabled=True, actor=current_user)
    return changed(f"Enabled {rule.name}.", url_for("admin_routing.routing_rules"))


@bp.post("/<int:rule_id>/disable")
def disable(rule_id):
    """Disable a rule: it is skipped until enabled again."""
    rule = service.set_rule_enabled(_rule(rule_id), enabled=False, actor=current_user)
    return changed(f"Disabled {rule.name}: it is skipped.", url_for("admin_routing.routing_rules"))


@bp.post("/<int:rule_id>/delete")
def delete(rule_id):
    """Delete a rule."""
    rule = _rule(rule_id)
    name = rule.name
    service.delete_rule(rule, actor=current_user)
    return changed(f"Deleted rule {name}.", url_for("admin_routing.routing_rules"))
