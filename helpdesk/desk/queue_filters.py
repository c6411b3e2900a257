"""The queue's filters and sort orders, read from the query string.

The queue shows live work unless asked otherwise: without ``status`` it lists the unresolved
tickets (open, in progress, the waiting states, on hold); ``status=any`` lists every ticket,
and named statuses those. (The customer and organisation hubs list every ticket by default.)

Parameters (the route contract): ``status``, ``priority``, ``category`` (repeatable),
``assignee`` (``me``, ``unassigned`` or a user id), ``customer`` (a subscriber's user id),
``organisation``, ``reseller``, ``age``, ``sla`` (SLA states, repeatable), ``q``, ``sort``,
``page``; ``team`` (a team's id, or ``none`` for tickets without one), an extension of the
contract, for staff only: teams are the operator's own people, so a reseller's queue ignores
it (``from_args(staff=False)``) as it ignores any unknown value; plus ``after``/``before``
cursors, read by ``helpdesk.keyset``, which pages at the same cost however deep it goes.
Unknown values are ignored, never an error: a bookmarked view survives a renamed category. Ids
and numbers are read by ``helpdesk.params``; a cursor that does not hold the sort's types is
ignored too.

Every filter and sort has an index that reads it in order (migration 0011 says which; 0019
the SLA's, 0023_queue_by_team the team's); ``QueueFilters.partitions`` tells the pager how a
filter maps onto those indexes.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import product

from helpdesk.access import sees_internal_notes, ticket_scope
from helpdesk.keyset import Partition
from helpdesk.models import PRIORITIES, STATUSES, Ticket
from helpdesk.models.ticket import (
    LIVE_RANKS,
    QUEUE_ORDER,
    SLA_STATES,
    UNRESOLVED_STATUSES,
    queue_rank,
)
from helpdesk.models.timestamps import utcnow
from helpdesk.params import parse_id, parse_ids, parse_int
from helpdesk.search import ticket_match

SORTS = {
    # name: (label, [(column, descending), ...]) ending in a unique column for the keyset.
    "queue": ("Pressing first", list(QUEUE_ORDER)),
    "updated": ("Last updated", [(Ticket.updated_at, True), (Ticket.id, True)]),
    "newest": ("Newest", [(Ticket.created_at, True), (Ticket.id, True)]),
    "oldest": ("Oldest", [(Ticket.created_at, False), (Ticket.id, False)]),
    # The running SLA clock's due time, soonest (or longest overdue) first: only tickets with
    # a running clock have one, so this sort lists those (paused, resolved and closed
    # tickets have none); read from ix_tickets_sla_due, the other filters checked there.
    "sla_due": ("SLA due first", [(Ticket.sla_due_at, False), (Ticket.id, False)]),
}
AGES = {
    "today": ("Opened in the last 24 hours", timedelta(days=1), True),
    "week": ("Opened in the last 7 days", timedelta(days=7), True),
    "over-week": ("Older than 7 days", timedelta(days=7), False),
    "over-month": ("Older than 30 days", timedelta(days=30), False),
}
MAX_OFFSET_PAGE = 200
NO_TEAM = "none"  # ``team=none``: the tickets no team has
ANY_STATUS = "any"  # ``status=any``: every ticket, resolved and closed too
# Every queue rank there is: ``queue_rank`` gives each status and priority one of them.
QUEUE_RANKS = tuple(sorted({queue_rank(s, p) for s in STATUSES for p in PRIORITIES}))


@dataclass
class QueueFilters:
    """What the user asked the queue for, validated."""

    statuses: list = field(default_factory=list)
    live: bool = False  # no status asked for in the queue: the unresolved tickets only
    priorities: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    assignee: str | None = None
    customer: int | None = None
    organisation: int | None = None
    reseller: int | None = None
    age: str | None = None
    sla: list = field(default_factory=list)  # SLA states; only unresolved tickets have one
    team: str | None = None  # a team's id, or NO_TEAM
    q: str = ""
    sort: str = "queue"
    page: int = 1
    after: str | None = None
    before: str | None = None

    @classmethod
    def from_args(cls, args, *, staff, live_by_default=True):
        """Read the query string; drop what does not make sense. Without a status the queue
        lists live work (``live_by_default``); a hub lists every ticket. ``staff`` False (a
        reseller's user): no team filter."""
        assignee = args.get("assignee") or None
        if assignee not in (None, "me", "unassigned"):
            assignee = parse_id(assignee)
        team = (args.get("team") or None) if staff else None
        if team not in (None, NO_TEAM):
            team = parse_id(team)
        statuses = [s for s in args.getlist("status") if s in STATUSES]
        return cls(
            statuses=statuses,
            live=live_by_default and not statuses and ANY_STATUS not in args.getlist("status"),
            priorities=[p for p in args.getlist("priority") if p in PRIORITIES],
            categories=parse_ids(args.getlist("category")),
            assignee=None if assignee is None else str(assignee),
            customer=parse_id(args.get("customer")),
            organisation=parse_id(args.get("organisation")),
            reseller=parse_id(args.get("reseller")),
            age=args.get("age") if args.get("age") in AGES else None,
            sla=list(dict.fromkeys(s for s in args.getlist("sla") if s in SLA_STATES)),
            team=None if team is None else str(team),
            q=(args.get("q") or "").strip()[:200],
            sort=args.get("sort") if args.get("sort") in SORTS else "queue",
            page=min(parse_int(args.get("page"), minimum=1) or 1, MAX_OFFSET_PAGE),
            after=args.get("after") or None,
            before=args.get("before") or None,
        )

    def conditions(self, user):
        """SQL conditions for the filters (the access scope is applied separately)."""
        where = []
        # Only unresolved tickets have an SLA state or due time: live work needs no condition.
        clocked = bool(self.sla) or self.sort == "sla_due"
        if self.statuses:
            where.append(Ticket.status.in_(self.statuses))
        elif self.live and not clocked:  # queue order: the first ranks, one range; else status
            where.append(Ticket.queue_rank.in_(LIVE_RANKS) if self.by_update
                         else Ticket.status.in_(UNRESOLVED_STATUSES))
        if self.priorities:
            where.append(Ticket.priority.in_(self.priorities))
        if self.categories:
            where.append(Ticket.category_id.in_(self.categories))
        if self.assignee == "me":
            where.append(Ticket.assignee_id == user.id)
        elif self.assignee == "unassigned":
            where.append(Ticket.assignee_id.is_(None))
        elif self.assignee:
            where.append(Ticket.assignee_id == int(self.assignee))
        if self.team == NO_TEAM:
            where.append(Ticket.team_id.is_(None))
        elif self.team:
            where.append(Ticket.team_id == int(self.team))
        if self.customer:
            where.append(Ticket.subscriber_id == self.customer)
        if self.organisation:
            where.append(Ticket.organisation_id == self.organisation)
        if self.reseller:
            where.append(Ticket.reseller_id == self.reseller)
        if self.sla:
            where.append(Ticket.sla_state.in_(self.sla))
        if self.sort == "sla_due":
            where.append(Ticket.sla_due_at.isnot(None))
        if self.age:
            _, span, within = AGES[self.age]
            cutoff = utcnow() - span
            where.append(Ticket.created_at >= cutoff if within else Ticket.created_at < cutoff)
        if self.q:
            match = ticket_match(self.q, include_internal=sees_internal_notes(user),
                                 among=[ticket_scope(user), *where])
            if match is not None:
                where.append(match)
        return where

    @property
    def order(self):
        """The sort's columns as ``(column, descending)`` pairs."""
        return SORTS[self.sort][1]

    @property
    def by_update(self):
        """Whether the sort reads the indexes in queue order (rank, then latest update)."""
        return self.sort in ("queue", "updated")

    def partitions(self):
        """The queue as slices that are each one index range in the sort's order, for
        ``helpdesk.keyset.read_page`` (None: the queue is one range as it is).

        - queue and "updated" sorts with chosen statuses or priorities: one slice per status
          and priority, a range of the status-priority index, pinned to that pair's queue rank;
          with a team, one slice per queue rank those have, a range of the team's index (which
          checks the statuses and priorities itself);
        - "updated" otherwise: one slice per queue rank, so that every index in queue order
          (a filter's column, then rank, update and id) reads it in order too;
        - "newest" and "oldest" with several statuses (live work is five): one slice per
          status (the status-created index), also for a customer or an organisation, whose
          indexes are in queue order;
        - several categories, in queue or "updated" order: one slice per category.

        A customer or an organisation has an index of its own in queue order and a few
        thousand tickets, so that view is read from it, not sliced by status or category
        (each slice would walk it again). A search (``q``) is never sliced: its plan is the
        search's own (helpdesk/search.py), and each slice would run the search again.
        """
        if self.q or self.sort == "sla_due":  # the due-time index checks the filters itself
            return None
        narrow = bool(self.customer or self.organisation)
        statuses = list(dict.fromkeys(self.statuses))
        if self.live and not statuses and not self.by_update:
            statuses = list(UNRESOLVED_STATUSES)
        every_status = UNRESOLVED_STATUSES if self.live else STATUSES
        categories = list(dict.fromkeys(self.categories))
        by_update = self.by_update
        splits = []
        if by_update and (statuses or self.priorities) and not narrow and self.team:
            # A team's view: one range of the team's index per queue rank the statuses and
            # priorities have, which checks them in the index; sliced by status and priority
            # instead, a rare team would be looked for in every slice's table rows.
            splits.append([
                Partition(where=(Ticket.queue_rank == rank,), pinned=((Ticket.queue_rank, rank),))
                for rank in sorted({queue_rank(status, priority)
                                    for status in statuses or every_status
                                    for priority in self.priorities or PRIORITIES})
            ])
        elif by_update and (statuses or self.priorities) and not narrow:
            splits.append([
                Partition(where=(Ticket.status == status, Ticket.priority == priority),
                          pinned=((Ticket.queue_rank, queue_rank(status, priority)),))
                for status in statuses or every_status
                for priority in dict.fromkeys(self.priorities or PRIORITIES)
            ])
        elif self.sort == "updated":
            splits.append([Partition(where=(Ticket.queue_rank == rank,))
                           for rank in (LIVE_RANKS if self.live else QUEUE_RANKS)])
        elif not by_update and len(statuses) > 1:
            splits.append([Partition(where=(Ticket.status == status,)) for status in statuses])
        if by_update and len(categories) > 1 and not narrow:
            splits.append([Partition(where=(Ticket.category_id == category,))
                           for category in categories])
        if by_update and len(self.sla) > 1 and not narrow and not splits:
            # Several SLA states: one range each of the SLA state index in queue order.
            splits.append([Partition(where=(Ticket.sla_state == state,))
                           for state in self.sla])
        return [
            Partition(where=sum((part.where for part in parts), ()),
                      pinned=sum((part.pinned for part in parts), ()))
            for parts in product(*splits)
        ] if splits else None

    def query_args(self, **changes):
        """The filters as query-string pairs (no cursors), for links and saved views."""
        values = {
            "status": self.statuses or ([] if self.live else [ANY_STATUS]),
            "priority": self.priorities,
            "category": self.categories, "assignee": self.assignee,
            "customer": self.customer, "organisation": self.organisation,
            "reseller": self.reseller, "age": self.age, "sla": self.sla, "team": self.team,
            "q": self.q or None,
            "sort": None if self.sort == "queue" else self.sort,
        } | changes
        pairs = []
        for key, value in values.items():
            for item in value if isinstance(value, list) else [value]:
                if item not in (None, ""):
                    pairs.append((key, str(item)))
        return pairs

    @property
    def is_filtered(self):
        """Does anything narrow the queue?"""
        return bool(self.query_args(sort=None))
