"""A ticket: one request from a subscriber, worked by staff or the subscriber's reseller."""

from collections import namedtuple

from flask import current_app
from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import (
    Mapped,
    mapped_column,
    relationship,
    validates,
)

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

STATUSES = (
    "open", "in_progress", "waiting_on_customer", "waiting_on_vendor", "on_hold",
    "resolved", "closed",
)
UNRESOLVED_STATUSES = STATUSES[:5]
# A customer's words for the statuses (DESIGN.md), the one mapping every page, filter, timeline
# and message for a subscriber or company admin reads: waiting on a vendor or parked on hold
# is, to them, still being worked on.
CustomerStatus = namedtuple("CustomerStatus", "key label statuses")
CUSTOMER_STATUSES = (
    CustomerStatus("open", "Open", ("open",)),
    CustomerStatus("in_progress", "In progress", ("in_progress", "waiting_on_vendor", "on_hold")),
    CustomerStatus("waiting_on_customer", "Waiting on you", ("waiting_on_customer",)),
    CustomerStatus("resolved", "Resolved", ("resolved",)),
    CustomerStatus("closed", "Closed", ("closed",)),
)
_CUSTOMER_STATUS_OF = {status: shown for shown in CUSTOMER_STATUSES for status in shown.statuses}
PRIORITIES = ("low", "normal", "high", "urgent")
PRESSING_PRIORITIES = ("urgent", "high")
SLA_STATES = ("on_time", "at_risk", "breached", "paused")
PAUSED_STATUSES = ("waiting_on_customer", "waiting_on_vendor", "on_hold")  # SLA clocks stop


LIVE_RANKS = (0, 1)  # the queue ranks of unresolved tickets: the default queue, one range


def queue_rank(status, priority):
    """0 for unresolved urgent and high tickets (they lead the queue), 1 for the other
    unresolved ones, 2 for resolved and closed: so the live work is the start of every index
    in queue order, and the default queue one range of it."""
    if status not in UNRESOLVED_STATUSES:
        return 2
    return 0 if priority in PRESSING_PRIORITIES else 1


def customer_status(status):
    """The ``CustomerStatus`` a subscriber or company admin reads for ``status``."""
    return _CUSTOMER_STATUS_OF[status]


def reads_alike_to_customers(old, new):
    """Do two statuses read the same to a customer (``in_progress`` and ``on_hold``)? Such a
    change is no news to them: the portal neither shows it nor counts it as activity."""
    shown = _CUSTOMER_STATUS_OF.get(old)
    return shown is not None and shown is _CUSTOMER_STATUS_OF.get(new)


def _in(column, values):
    """A CHECK clause body: ``column IN ('a', 'b')``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Ticket(db.Model):
    """A ticket. The number shown to people is the id with the configured prefix."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status_known"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority_known"),
        CheckConstraint("length(subject) BETWEEN 1 AND 500", name="subject_length"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        # What changed since a time, for the queue's live updates.
        Index("ix_tickets_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_renderer: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(32), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    # Each of these leads an index of the queue below. The indexes are partial (live tickets
    # only), which PostgreSQL's foreign key checks cannot use: deleting a category, reseller
    # or user that tickets point to (nothing does; they are retired or disabled) would scan.
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Staff or a reseller user who opened the ticket for the subscriber; None: the subscriber.
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Set by the services on every change people care about (not on any write at all).
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # The last public activity (opening, public replies, comments, status changes, rating):
    # all a customer sees of when the ticket moved, so internal work never shows in the portal.
    public_updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    first_response_at = mapped_column(UTCDateTime)
    resolved_at = mapped_column(UTCDateTime)
    closed_at = mapped_column(UTCDateTime)
    deleted_at = mapped_column(UTCDateTime)
    queue_rank: Mapped[int] = mapped_column(SmallInteger, default=1)
    resolution_reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("replies.id", use_alter=True)
    )
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at = mapped_column(UTCDateTime)
    # The team working the ticket: set by routing (services.routing) or by staff
    # (services.tickets.set_team); shown on the ticket, the queue's ``team`` filter.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # Routing asked for and not yet decided (opened, or moved to another category): the
    # routing job clears it as it decides, so a second run does nothing, and the sweep finds
    # the tickets whose job never ran (jobs/routing.py).
    routing_due_at = mapped_column(UTCDateTime)
    # SLA (helpdesk/sla/clock.py keeps these; the sweep reads ``sla_next_check_at``).
    # Due times stay as last computed once met, for the reports; ``sla_due_at`` is the due
    # time of the clock running now (first response, then resolution), None when paused,
    # resolved or closed: the queue's "SLA due" sort.
    first_response_due_at = mapped_column(UTCDateTime)
    resolution_due_at = mapped_column(UTCDateTime)
    sla_due_at = mapped_column(UTCDateTime)
    sla_state: Mapped[str | None] = mapped_column(String(16))  # SLA_STATES, None: no clock
    sla_paused_at = mapped_column(UTCDateTime)
    sla_running_since = mapped_column(UTCDateTime)  # the current run of the clock began
    sla_elapsed_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    sla_next_check_at = mapped_column(UTCDateTime)  # when the sweep must look again
    sla_escalation_level: Mapped[int] = mapped_column(SmallInteger, default=0,
                                                      server_default="0")

    category = relationship("Category", lazy="joined")
    subscriber = relationship("User", foreign_keys=[subscriber_id], lazy="joined")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    opened_by = relationship("User", foreign_keys=[opened_by_id], lazy="select")
    organisation = relationship("Organisation", lazy="joined")
    reseller = relationship("Reseller", lazy="joined")
    team = relationship("Team", lazy="select")
    replies = relationship(
        "Reply", back_populates="ticket", order_by="Reply.created_at, Reply.id",
        foreign_keys="Reply.ticket_id", lazy="raise_on_sql",
    )

    @validates("status", "priority")
    def _keep_queue_rank(self, key, value):
        """Keep the stored queue rank in step with status and priority."""
        status = value if key == "status" else self.status or "open"
        priority = value if key == "priority" else self.priority or "normal"
        self.queue_rank = queue_rank(status, priority)
        return value

    @property
    def number(self):
        """The ticket number people quote, e.g. ``TKT-1042``."""
        return f"{number_prefix()}{self.id}"

    @property
    def is_unresolved(self):
        """Still being worked: not resolved and not closed."""
        return self.status in UNRESOLVED_STATUSES

    def __repr__(self):
        return f"<Ticket {self.id} {self.status}>"


def number_prefix():
    """What every ticket number starts with: ``TICKET_PREFIX`` and a dash (``TKT-``)."""
    return f"{current_app.config['TICKET_PREFIX']}-"


def _listed_index(name, *columns):
    """An index over the tickets that are not deleted: every list has ``deleted_at IS NULL``
    in its scope, so the index can answer it without reading the table."""
    live = Ticket.deleted_at.is_(None)
    return Index(name, *columns, postgresql_where=live, sqlite_where=live)


# The lists' indexes: each filter and sort of the queue, read in order (helpdesk/keyset.py);
# the columns after the id let the other filters be checked in the index, not the table.
# Why these and no others (and PostgreSQL's extended statistics): migration 0011.
# The queue's order, as (column, descending): unresolved urgent and high first, then the
# latest update. The queue's sort (desk/queue_filters.SORTS) and these indexes follow it.
QUEUE_ORDER = ((Ticket.queue_rank, False), (Ticket.updated_at, True), (Ticket.id, True))
_QUEUE_ORDER = tuple(column.desc() if descending else column
                     for column, descending in QUEUE_ORDER)
_FILTERED = (Ticket.priority, Ticket.category_id, Ticket.assignee_id, Ticket.reseller_id)
_listed_index("ix_tickets_queue", *_QUEUE_ORDER, Ticket.created_at)
_listed_index("ix_tickets_reseller_queue", Ticket.reseller_id, *_QUEUE_ORDER, Ticket.created_at)
_listed_index("ix_tickets_category_queue", Ticket.category_id, *_QUEUE_ORDER, Ticket.created_at)
_listed_index("ix_tickets_assignee_queue", Ticket.assignee_id, *_QUEUE_ORDER, Ticket.created_at)
_listed_index("ix_tickets_subscriber_queue", Ticket.subscriber_id, *_QUEUE_ORDER)
_listed_index("ix_tickets_organisation_queue", Ticket.organisation_id, *_QUEUE_ORDER)
_listed_index(
    "ix_tickets_status_priority_queue", Ticket.status, Ticket.priority,
    Ticket.updated_at.desc(), Ticket.id.desc(),
    Ticket.created_at, Ticket.category_id, Ticket.assignee_id, Ticket.reseller_id,
)
_listed_index("ix_tickets_created", Ticket.created_at, Ticket.id, *_FILTERED)
_listed_index("ix_tickets_status_created", Ticket.status, Ticket.created_at, Ticket.id,
              *_FILTERED)
# The tickets whose routing is still due: few at any time, so the sweep reads a tiny index.
Index("ix_tickets_routing_due", Ticket.routing_due_at,
      postgresql_where=Ticket.routing_due_at.isnot(None),
      sqlite_where=Ticket.routing_due_at.isnot(None))

# The queue's ``team`` filter in queue order, with the filters a team's view is narrowed by
# checked in the index: a team's tickets in one index, those of no team (``team=none``) in
# another, so each ticket is in one of them and ``team_id IS NULL`` too reads in queue order
# (migration 0023_queue_by_team says why).
_TEAM_CHECKED = (*_QUEUE_ORDER, Ticket.created_at, Ticket.status, Ticket.priority,
                 Ticket.category_id, Ticket.assignee_id)
_TEAMED = Ticket.deleted_at.is_(None) & Ticket.team_id.isnot(None)
_TEAMLESS = Ticket.deleted_at.is_(None) & Ticket.team_id.is_(None)
Index("ix_tickets_team_queue", Ticket.team_id, *_TEAM_CHECKED,
      postgresql_where=_TEAMED, sqlite_where=_TEAMED)
Index("ix_tickets_no_team_queue", *_TEAM_CHECKED,
      postgresql_where=_TEAMLESS, sqlite_where=_TEAMLESS)

# SLA: the queue's ``sla`` filter in queue order, its "SLA due" sort (filters checked in the
# index), the sweep's next checks and auto-close's resolved tickets (migration 0019_sla).
_listed_index("ix_tickets_sla_state_queue", Ticket.sla_state, *_QUEUE_ORDER)
_listed_index("ix_tickets_sla_due", Ticket.sla_due_at, Ticket.id, Ticket.status, *_FILTERED)
Index("ix_tickets_sla_next_check", Ticket.sla_next_check_at,
      postgresql_where=Ticket.sla_next_check_at.isnot(None),
      sqlite_where=Ticket.sla_next_check_at.isnot(None))
Index("ix_tickets_resolved_auto_close", Ticket.resolved_at,
      postgresql_where=Ticket.status == "resolved", sqlite_where=Ticket.status == "resolved")
# The portal's list, a subscriber's or an organisation's tickets by last public activity.
Index("ix_tickets_subscriber_public_updated", Ticket.subscriber_id,
      Ticket.public_updated_at.desc(), Ticket.id.desc())
Index("ix_tickets_organisation_public_updated", Ticket.organisation_id,
      Ticket.public_updated_at.desc(), Ticket.id.desc())
