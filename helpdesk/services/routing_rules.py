"""Routing rules: adding, changing, reordering, enabling, disabling and deleting them.

A rule's conditions are a category (required) and, optionally, a priority, an organisation
and a reseller; its actions set a team, an assignee, or both. Rules are tried in order and the
first enabled match wins (``services.routing``). Every change is audited with the rule
described in words, before and after.
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Category, Organisation, Reseller, RoutingRule, Team, User
from helpdesk.services import audit
from helpdesk.services.errors import Refused
from helpdesk.services.ordering import swap_with_neighbour

MAX_NAME_LENGTH = 100  # the column's size


class RuleError(Refused):
    """A rule change was refused; the message says why, ``field`` names the input."""

    FIELD = "name"


@dataclass(frozen=True)
class RuleFields:
    """What a rule says, as chosen on the form: objects (or None), and the priority name."""

    name: str
    category: Category | None
    priority: str | None = None
    organisation: Organisation | None = None
    reseller: Reseller | None = None
    team: Team | None = None
    assignee: User | None = None


def all_rules():
    """Every rule in the order they are tried."""
    return db.session.scalars(
        select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)).all()


def find_rule(name):
    """A rule by name, case-insensitively, or None."""
    return db.session.scalar(select(RoutingRule).where(
        func.lower(RoutingRule.name) == " ".join((name or "").split()).lower()))


def describe(rule):
    """The rule in words: "category Billing, priority Urgent → Ada Admin, team Billing"."""
    when = [f"category {rule.category.name}"]
    if rule.priority:
        when.append(f"priority {rule.priority.capitalize()}")
    if rule.organisation:
        when.append(f"organisation {rule.organisation.name}")
    if rule.reseller:
        when.append(f"reseller {rule.reseller.name}")
    then = []
    if rule.assignee:
        then.append(f"assign {rule.assignee.name}")
    if rule.team:
        then.append(f"team {rule.team.name}")
    return f"{', '.join(when)} → {', '.join(then)}"


def summary(rule):
    """The rule's name and what it does, as the audit log keeps it."""
    return f"{rule.name} ({describe(rule)})"


def assignable_by_rules():
    """Who a rule may assign: active staff, and active reseller users (only for rules with
    their reseller as a condition), staff first, by name."""
    return db.session.scalars(
        select(User).where(User.disabled_at.is_(None),
                           User.role.in_(("agent", "admin", "reseller")))
        .order_by(User.role == "reseller", User.name)).all()


def _checked(fields, *, rule=None):
    """``fields`` with a clean name, or ``RuleError`` naming the input that cannot be used."""
    name = " ".join((fields.name or "").split())
    if not name:
        raise RuleError("A rule needs a name.")
    if len(name) > MAX_NAME_LENGTH:
        raise RuleError(f"A rule name can be at most {MAX_NAME_LENGTH} characters.")
    same = find_rule(name)
    if same is not None and same is not rule:
        raise RuleError(f"A rule named {same.name} already exists.")
    if fields.category is None:
        raise RuleError("Choose the category the rule routes.", field="category")
    if fields.priority is not None and fields.priority not in PRIORITIES:
        raise RuleError(f"Unknown priority {fields.priority!r}.", field="priority")
    if fields.team is None and fields.assignee is None:
        raise RuleError("A rule sets a team, an assignee, or both.", field="team")
    assignee = fields.assignee
    if assignee is not None:
        if not assignee.is_active or assignee.role not in ("agent", "admin", "reseller"):
            raise RuleError("Only active staff and reseller users can be assigned.",
                            field="assignee")
        if assignee.role == "reseller" and (
                fields.reseller is None or fields.reseller.id != assignee.reseller_id):
            raise RuleError(f"{assignee.name} works only {assignee.reseller.name}'s tickets: "
                            f"add the reseller {assignee.reseller.name} as a condition.",
                            field="assignee")
    organisation = fields.organisation
    if (organisation is not None and fields.reseller is not None
            and organisation.reseller_id != fields.reseller.id):
        raise RuleError(f"{organisation.name} is not a customer of {fields.reseller.name}: "
                        "no ticket could match.", field="organisation")
    return name


def _set(rule, fields, name):
    rule.name, rule.category, rule.priority = name, fields.category, fields.priority
    rule.organisation, rule.reseller = fields.organisation, fields.reseller
    rule.team, rule.assignee = fields.team, fields.assignee


def add_rule(fields, *, actor):
    """Add an enabled rule at the end of the order (tried last)."""
    name = _checked(fields)
    last = db.session.scalar(select(func.max(RoutingRule.position)))
    rule = RoutingRule(position=(last or 0) + 1, enabled=True)
    _set(rule, fields, name)
    db.session.add(rule)
    db.session.flush()
    audit.record("routing_rule.add", actor=actor, field="routing rule", new=summary(rule))
    db.session.commit()
    return rule


def change_rule(rule, fields, *, actor):
    """Change a rule's name, conditions and actions; audited with both descriptions."""
    name = _checked(fields, rule=rule)
    before = summary(rule)
    _set(rule, fields, name)
    if summary(rule) != before:
        audit.record("routing_rule.change", actor=actor, field="routing rule", old=before,
                     new=summary(rule))
        db.session.commit()
    return rule


def move_rule(rule, *, up, actor):
    """Swap a rule with its neighbour above (``up``) or below; at either end, nothing."""
    if not swap_with_neighbour(all_rules(), rule, up=up):
        return rule
    audit.record("routing_rule.move", actor=actor, field="routing rule", old=rule.name,
                 new="up" if up else "down")
    db.session.commit()
    return rule


def set_rule_enabled(rule, *, enabled, actor):
    """Enable or disable a rule (a disabled rule is skipped); audited when it changes."""
    if rule.enabled != enabled:
        rule.enabled = enabled
        audit.record("routing_rule.enable" if enabled else "routing_rule.disable",
                     actor=actor, field="routing rule", new=summary(rule))
        db.session.commit()
    return rule


def delete_rule(rule, *, actor):
    """Delete a rule; tickets it routed keep their team, assignee and timeline event."""
    audit.record("routing_rule.delete", actor=actor, field="routing rule", old=summary(rule))
    db.session.delete(rule)
    db.session.commit()
