"""Routing: the first enabled rule that matches a ticket sets its team and assignee.

Opening a ticket or moving it to another category sets ``tickets.routing_due_at`` in the
same commit and, after it, enqueues the routing job (``services.routing_requests``); Redis
being away leaves the ticket due for the sweep (``jobs.routing``). The job calls
``route_ticket``, which claims the pending decision with one conditional UPDATE (clearing
``routing_due_at``), so a second run, or a second worker, finds nothing due and writes
nothing.

Routing is the help desk acting, not a person: its timeline event and audit entry have no
actor ("System"). It never takes a ticket from a person: a ticket already assigned keeps its
assignee (someone chose them), and the event says so; the rule's team is still set.
"""

from dataclasses import dataclass

from sqlalchemy import select, update

from helpdesk.extensions import db
from helpdesk.models import Ticket
from helpdesk.services.errors import TicketError
from helpdesk.services.routing_rules import all_rules
from helpdesk.services.tickets import add_event, apply_assignee


@dataclass(frozen=True)
class Facts:
    """What rules look at: a ticket's, or a combination typed on the dry run."""

    category: object
    priority: str
    organisation: object = None
    reseller: object = None

    @classmethod
    def of(cls, ticket):
        """A ticket's facts."""
        return cls(ticket.category, ticket.priority, ticket.organisation, ticket.reseller)


@dataclass(frozen=True)
class Verdict:
    """One rule against the facts: ``outcome`` is matched, failed, disabled or not reached;
    ``reasons`` says which conditions held or failed."""

    rule: object
    outcome: str
    reasons: tuple = ()


def _name(thing):
    return thing.name if thing is not None else "none"


def failed_conditions(rule, facts):
    """The conditions of ``rule`` that ``facts`` fail, in words (empty: it matches)."""
    failed = []
    if facts.category is None or rule.category_id != facts.category.id:
        failed.append(f"category is {_name(facts.category)}, not {rule.category.name}")
    if rule.priority is not None and rule.priority != facts.priority:
        failed.append(f"priority is {(facts.priority or 'none').capitalize()}, "
                      f"not {rule.priority.capitalize()}")
    if rule.organisation_id is not None and (
            facts.organisation is None or facts.organisation.id != rule.organisation_id):
        failed.append(f"organisation is {_name(facts.organisation)}, "
                      f"not {rule.organisation.name}")
    if rule.reseller_id is not None and (
            facts.reseller is None or facts.reseller.id != rule.reseller_id):
        failed.append(f"reseller is {_name(facts.reseller)}, not {rule.reseller.name}")
    return failed


def _held_conditions(rule):
    held = [f"category is {rule.category.name}"]
    if rule.priority:
        held.append(f"priority is {rule.priority.capitalize()}")
    if rule.organisation:
        held.append(f"organisation is {rule.organisation.name}")
    if rule.reseller:
        held.append(f"reseller is {rule.reseller.name}")
    return held


def explain(facts, rules=None):
    """Every rule in order with its verdict: the dry run's answer. The first enabled rule
    whose conditions all hold is ``matched``; the rules after it are ``not reached``."""
    verdicts, matched = [], False
    for rule in all_rules() if rules is None else rules:
        if matched:
            verdicts.append(Verdict(rule, "not reached", ("an earlier rule matched",)))
        elif not rule.enabled:
            verdicts.append(Verdict(rule, "disabled", ("disabled rules are skipped",)))
        elif failed := failed_conditions(rule, facts):
            verdicts.append(Verdict(rule, "failed", tuple(failed)))
        else:
            matched = True
            verdicts.append(Verdict(rule, "matched", tuple(_held_conditions(rule))))
    return verdicts


def first_match(facts):
    """The first enabled rule whose conditions ``facts`` meet, or None."""
    return next((v.rule for v in explain(facts) if v.outcome == "matched"), None)


def _claim(ticket_id):
    """Take the pending decision of a ticket: True for exactly one caller per request."""
    claimed = db.session.execute(
        update(Ticket).where(Ticket.id == ticket_id, Ticket.routing_due_at.isnot(None))
        .values(routing_due_at=None).execution_options(synchronize_session=False))
    return claimed.rowcount == 1


def route_ticket(ticket_id, *, at=None):
    """Decide a ticket's routing if it is due: apply the first matching rule's actions and
    write one timeline event naming the rule (at ``at``, default now: the demo routes its
    old tickets when they were opened). Returns what happened, in words."""
    if not _claim(ticket_id):
        db.session.rollback()
        return "nothing due"
    ticket = db.session.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None or ticket.deleted_at is not None:
        db.session.commit()
        return "deleted"
    rule = first_match(Facts.of(ticket))
    if rule is None:
        db.session.commit()
        return "no rule matched"
    text = f"Routed by rule {rule.name}: {', '.join(_apply(rule, ticket, at=at))}"
    add_event(ticket, actor=None, kind="routing", old=rule.name, new=text, at=at)
    db.session.commit()
    return text


def _apply(rule, ticket, *, at):
    """Set the rule's assignee (unless a person already assigned someone) and team; what
    was done, in words."""
    done = []
    assignee = rule.assignee
    if assignee is not None:
        if ticket.assignee_id == assignee.id:
            done.append(f"already assigned to {assignee.name}")
        elif ticket.assignee_id is not None:
            done.append(f"kept {ticket.assignee.name} as assignee")
        else:
            try:
                apply_assignee(ticket, assignee, actor=None, at=at, event=False)
                done.append(f"assigned to {assignee.name}")
            except TicketError:
                done.append(f"{assignee.name} cannot be assigned this ticket")
    team = rule.team
    if team is not None:
        if ticket.team_id == team.id:
            done.append(f"already with team {team.name}")
        else:
            ticket.team = team
            done.append(f"team {team.name}")
    return done


def due_ticket_ids(*, due_after, due_before, limit):
    """Tickets whose routing is still due, asked for between the two times, oldest first
    (the partial index ``ix_tickets_routing_due`` holds only these)."""
    return db.session.scalars(
        select(Ticket.id).where(Ticket.routing_due_at.isnot(None),
                                Ticket.routing_due_at > due_after,
                                Ticket.routing_due_at <= due_before)
        .order_by(Ticket.routing_due_at).limit(limit)).all()
