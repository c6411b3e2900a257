"""Ticket operations: opening, and changing status, assignee, priority, category and team.

Each change adds a timeline event and an audit entry and moves the ticket's clocks (see
``mark_activity``), in one commit. Each operation first asks ``helpdesk.access`` whether the
actor may (``services.permissions``), so no caller can go around the rules. The ``apply_*``
functions are steps inside another service's transaction (a reply that also sets a status, a
handoff): they check nothing themselves, and only services that checked call them.
"""

from sqlalchemy import select

from helpdesk import search
from helpdesk.access import can_see
from helpdesk.extensions import db
from helpdesk.markdown import RENDERER_VERSION, render_markdown
from helpdesk.models import PRIORITIES, STATUSES, Category, Team, Ticket, TicketEvent, User
from helpdesk.models.ticket import reads_alike_to_customers
from helpdesk.models.ticket_event import PUBLIC_EVENT_KINDS
from helpdesk.models.timestamps import utcnow
from helpdesk.services import audit, notifications, psa_outbox, routing_requests, webhooks_out
from helpdesk.services.attachments import store_attachments
from helpdesk.services.errors import TicketError
from helpdesk.services.permissions import require, require_open_for
from helpdesk.sla import clock as sla_clock

MAX_SUBJECT_LENGTH = 500
CLOSING_STATUSES = ("resolved", "closed")


def open_ticket(*, subscriber, subject, body, category, priority="normal", opened_by=None,
                files=None, created_at=None, origin=None):
    """Open a ticket for ``subscriber``; organisation and reseller come from the subscriber.

    ``opened_by`` is who opens it on the subscriber's behalf (None: the subscriber). The
    ticket and its files are saved together, or (a file refused) not at all. ``origin``
    ``"psa"``: the ticket came from the PSA, so no write goes back (``services.psa_outbox``).
    """
    require_open_for(opened_by or subscriber, subscriber)
    subject = (subject or "").strip()
    if not subject:
        raise TicketError("A ticket needs a subject.", field="subject")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise TicketError(f"The subject can be at most {MAX_SUBJECT_LENGTH} characters.",
                          field="subject")
    if priority not in PRIORITIES:
        raise TicketError(f"Unknown priority {priority!r}.", field="priority")
    if category is None or not category.active:  # a retired category is kept, not offered
        raise TicketError("Choose a category.", field="category")
    now = created_at or utcnow()
    ticket = Ticket(
        subject=subject, body=body or "", body_html=render_markdown(body),
        body_renderer=RENDERER_VERSION, priority=priority, status="open", category=category,
        subscriber=subscriber, organisation=subscriber.organisation,
        reseller=subscriber.reseller, created_at=now, updated_at=now, public_updated_at=now,
        opened_by=opened_by if opened_by not in (None, subscriber) else None,
    )
    db.session.add(ticket)
    db.session.flush()
    sla_clock.start(ticket, at=now)
    search.index_ticket(ticket)
    psa_outbox.record(ticket, kind="create_ticket", key=f"ticket-{ticket.id}",
                      change=psa_outbox.ticket_snapshot(ticket), origin=origin)
    try:
        store_attachments(ticket, uploader=opened_by or subscriber, files=files, origin=origin)
    except TicketError:
        db.session.rollback()
        raise
    audit.record("ticket.open", actor=opened_by or subscriber, ticket=ticket, new=subject)
    notifications.notify("ticket_created", ticket, [subscriber], key=f"ticket-{ticket.id}",
                         actor=opened_by or subscriber)
    webhooks_out.record("ticket.created", ticket, key=f"ticket-{ticket.id}", at=now)
    routing_requests.mark_due(ticket)
    db.session.commit()
    routing_requests.dispatch(ticket)
    return ticket


def mark_activity(ticket, *, at, public):
    """Move the ticket's clocks to ``at`` (never back): ``updated_at`` on every change, what
    staff sort and poll by; ``public_updated_at`` only on what the customer sees (opening,
    public replies and comments, status changes, the rating), what the portal shows, sorts
    and polls by, so internal work never shows there as an update."""
    ticket.updated_at = max(ticket.updated_at or at, at)
    if public:
        ticket.public_updated_at = max(ticket.public_updated_at or at, at)


def add_event(ticket, *, actor, kind, old, new, at=None, origin=None):
    """Add a timeline event and its audit entry and move the clocks (no commit); returns
    the event. A status, priority or category change is also written for the PSA, unless
    it came from there (``origin="psa"``).

    A status change between two statuses a customer reads alike (``in_progress`` to
    ``on_hold``) is not shown to them (``access.visible_events``), so it moves only the
    staff's clock.
    """
    at = at or utcnow()
    public = kind in PUBLIC_EVENT_KINDS
    event = TicketEvent(
        ticket_id=ticket.id, actor_id=getattr(actor, "id", None), kind=kind,
        old_value=None if old is None else str(old), new_value=None if new is None else str(new),
        internal=not public, created_at=at,
    )
    db.session.add(event)
    seen_by_customers = public and not (kind == "status" and reads_alike_to_customers(old, new))
    mark_activity(ticket, at=at, public=seen_by_customers)
    audit.record(f"ticket.{kind}", actor=actor, ticket=ticket, field=kind, old=old, new=new)
    psa_outbox.record_field_change(ticket, event, origin=origin)
    if kind == "status":
        webhooks_out.record_status_change(ticket, event, at=at)
    return event


def apply_status(ticket, status, *, actor, resolution_reply=None, at=None, origin=None):
    """Move a ticket to ``status`` with its event and timestamps (no commit).

    Resolved and closed need a resolution: a public reply in the same submission, or (to
    close) the resolution the ticket already has.
    """
    if status not in STATUSES:
        raise TicketError(f"Unknown status {status!r}.", field="status")
    if status == ticket.status:
        return False
    now = at or utcnow()
    if status in CLOSING_STATUSES:
        if resolution_reply is not None:
            ticket.resolution_reply_id = resolution_reply.id
        elif ticket.resolution_reply_id is None:
            raise TicketError(
                f"Setting a ticket to {status.replace('_', ' ')} needs a resolution: write the "
                "closing reply to the customer.", field="body")
        if status == "resolved" or ticket.resolved_at is None:
            ticket.resolved_at = now
        if status == "closed":
            ticket.closed_at = now
    else:
        ticket.resolved_at = ticket.closed_at = ticket.resolution_reply_id = None
    old = ticket.status
    ticket.status = status
    add_event(ticket, actor=actor, kind="status", old=old, new=status, at=now, origin=origin)
    sla_clock.status_changed(ticket, old, at=now, actor=actor)
    return True


def change_status(ticket, status, *, actor, at=None, origin=None):
    """Change the status alone (the inline control; ``tickets.edit``); see ``apply_status``."""
    require(actor, "edit", ticket)
    apply_status(ticket, status, actor=actor, at=at, origin=origin)
    db.session.commit()
    return ticket


def assignable_users(ticket):
    """Who may be assigned ``ticket``: active staff, and active staff of its reseller."""
    who = User.role.in_(("agent", "admin"))
    if ticket.reseller_id is not None:
        who = who | ((User.role == "reseller") & (User.reseller_id == ticket.reseller_id))
    users = db.session.scalars(
        select(User).where(User.disabled_at.is_(None), who).order_by(User.name)
    ).all()
    return [user for user in users if can_see(user, ticket)]


def apply_assignee(ticket, assignee, *, actor, at=None, note=None, event=True):
    """Assign (or, with None, unassign) a ticket (no commit); the new assignee is notified
    (unless they assigned themselves), with ``note``, a handoff's note.

    The refusal names nobody: the id may be another reseller's user, picked or forged, whom
    the actor may not know. ``event`` False: the caller writes the one event that says why
    (routing names its rule).
    """
    if assignee is not None and assignee not in assignable_users(ticket):
        raise TicketError("That person cannot be assigned this ticket.", field="assignee")
    if assignee is None and ticket.assignee_id is None:
        return False
    if assignee is not None and assignee.id == ticket.assignee_id:
        return False
    old = ticket.assignee.name if ticket.assignee else None
    ticket.assignee = assignee
    written = event and add_event(ticket, actor=actor, kind="assignment", old=old,
                                  new=assignee.name if assignee else None, at=at)
    if assignee is not None and assignee.id != getattr(actor, "id", None):
        db.session.flush()
        # Routing writes its own event; its claim on the ticket makes this run once.
        key = (f"assignment-{written.id}" if written else
               f"assignment-{ticket.id}-{assignee.id}-{(at or utcnow()).timestamp():.6f}")
        notifications.notify("assigned", ticket, [assignee], key=key, note=note, actor=actor)
    return True


def assign(ticket, assignee, *, actor, at=None):
    """Assign or unassign a ticket (``tickets.edit``)."""
    require(actor, "edit", ticket)
    apply_assignee(ticket, assignee, actor=actor, at=at)
    db.session.commit()
    return ticket


def change_priority(ticket, priority, *, actor, at=None, origin=None):
    """Change the priority (``tickets.edit``)."""
    require(actor, "edit", ticket)
    if priority not in PRIORITIES:
        raise TicketError(f"Unknown priority {priority!r}.", field="priority")
    if priority != ticket.priority:
        old, ticket.priority = ticket.priority, priority
        now = at or utcnow()
        add_event(ticket, actor=actor, kind="priority", old=old, new=priority, at=now,
                  origin=origin)
        sla_clock.refresh(ticket, at=now, actor=actor)  # the new priority's targets
        db.session.commit()
    return ticket


def change_category(ticket, category, *, actor, origin=None):
    """Move the ticket to another category (``tickets.edit``)."""
    require(actor, "edit", ticket)
    if not isinstance(category, Category):
        raise TicketError("Choose a category.", field="category")
    if category.id != ticket.category_id:
        if not category.active:
            raise TicketError(f"{category.name} is retired: choose another category.",
                              field="category")
        old = ticket.category.name
        ticket.category = category
        add_event(ticket, actor=actor, kind="category", old=old, new=category.name,
                  origin=origin)
        routing_requests.mark_due(ticket)
        db.session.commit()
        routing_requests.dispatch(ticket)
    return ticket


def set_team(ticket, team, *, actor):
    """Move the ticket to ``team`` (None: no team), by hand (``set_team``: staff only).

    Routing sets a team when a ticket is opened or moves to another category; this is a
    person overruling it, so the event and the audit entry name them. The team does not
    change who is assigned: whoever works the ticket keeps it until someone reassigns it.
    """
    require(actor, "set_team", ticket)
    if team is not None and not isinstance(team, Team):
        raise TicketError("Choose a team.", field="team")
    if (team.id if team else None) != ticket.team_id:
        old = ticket.team.name if ticket.team else None
        ticket.team = team
        add_event(ticket, actor=actor, kind="team", old=old, new=team.name if team else None)
        db.session.commit()
    return ticket


def move_to_customer(ticket, *, subscriber, organisation, actor, origin=None):
    """Give a ticket another subscriber and organisation (its reseller follows), with a
    timeline event, the audit entry and the SLA clock of its new contract (one commit). For
    services that checked who may: a PSA ticket re-homed once mapped, an unknown sender's
    email attached to its customer."""
    old = ticket.subscriber.name
    ticket.subscriber = subscriber
    ticket.organisation = organisation
    ticket.reseller = organisation.reseller if organisation is not None else subscriber.reseller
    now = utcnow()
    if subscriber.name != old:
        add_event(ticket, actor=actor, kind="subscriber", old=old, new=subscriber.name, at=now,
                  origin=origin)
    else:
        audit.record("ticket.organisation", actor=actor, ticket=ticket, field="organisation",
                     new=organisation.name if organisation else None)
        mark_activity(ticket, at=now, public=False)
    sla_clock.refresh(ticket, at=now, actor=actor)
    db.session.commit()
    return ticket


def delete_ticket(ticket, *, actor):
    """Soft-delete (``tickets.delete``): the ticket leaves every scope; the row and its thread
    stay for the audit. A deleted ticket is out of every scope, so deleting it again is
    refused as not found."""
    require(actor, "delete", ticket)
    ticket.deleted_at = utcnow()
    ticket.sla_next_check_at = None  # out of the SLA sweep's index range too
    audit.record("ticket.delete", actor=actor, ticket=ticket)
    db.session.commit()
    return ticket
