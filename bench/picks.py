"""The ids, words and cursors the scenarios use, picked from the seeded data once per run.

Picked per person, inside that person's scope (``helpdesk.access.ticket_scope``), so a
reseller's scenarios ask for their own busiest customer and page through their own tickets.
Deep cursors are computed the way a user would reach them, only faster: the ticket at 50% and
90% of each sort order is found once by SQL and encoded with the app's own ``encode_cursor``.
"""

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from helpdesk.access import Scope, scope_of, ticket_scope
from helpdesk.desk.queue_filters import SORTS
from helpdesk.extensions import db
from helpdesk.keyset import encode_cursor
from helpdesk.models import Category, Organisation, Team, Ticket, User
from helpdesk.timeline import ticket_version

DEPTHS = (50, 90)  # percent of the way down a sort order
SERIAL = re.compile(r"Serial number: (SN[0-9A-F]{8})")


@dataclass(frozen=True)
class Cursor:
    """A deep position in one sort order: the cursor of the ticket there, and the tickets
    just after and before it, which the ``after`` and ``before`` pages must start and end
    with."""

    sort: str
    depth: int
    position: int
    cursor: str
    next_id: int | None
    previous_id: int | None


@dataclass(frozen=True)
class Picks:
    """What one person's scenarios ask for (None where their scope has nothing)."""

    who: str
    email: str
    user_id: int
    scope: Scope
    tickets: int
    busiest_category: tuple  # (id, name, tickets)
    smallest_category: tuple
    assignee: tuple | None  # (id, name, tickets)
    customer: tuple | None  # (id, name, email, tickets)
    organisation: tuple | None  # (id, name, tickets)
    reseller: int | None
    busiest_team: tuple | None  # (id, name, tickets); staff only, the one role filtering by it
    smallest_team: tuple | None
    ticket_id: int | None  # the first ticket of the default order
    ticket_version: str | None  # its live-poll version
    page_ids: list = field(default_factory=list)  # the default first page
    middle_ticket_id: int | None = None  # a ticket half-way down, for ticket-number search
    serial: str | None = None  # the serial number of that ticket: a word only it has
    cursors: list = field(default_factory=list)


def _busiest(scope, column, *, fewest=False):
    """``(value, tickets)`` of the most (or least) common non-null ``column`` in scope."""
    count = func.count()
    row = db.session.execute(
        select(column, count).where(scope, column.is_not(None)).group_by(column)
        .order_by(count.asc() if fewest else count.desc(), column).limit(1)
    ).first()
    return tuple(row) if row else None


def pick(who, email, *, page_size, depths=DEPTHS):
    """Everything the scenarios of ``who`` (signing in as ``email``) need."""
    user = db.session.scalar(select(User).where(User.email == email))
    scope = ticket_scope(user)
    total = db.session.scalar(select(func.count()).select_from(Ticket).where(scope))
    names = dict(db.session.execute(select(Category.id, Category.name)).all())
    busiest, smallest = (_busiest(scope, Ticket.category_id, fewest=f) for f in (False, True))
    assignee = _busiest(scope, Ticket.assignee_id)
    customer = _busiest(scope, Ticket.subscriber_id)
    organisation = _busiest(scope, Ticket.organisation_id)
    reseller = user.reseller_id or (_busiest(scope, Ticket.reseller_id) or (None,))[0]
    teams = dict(db.session.execute(select(Team.id, Team.name)).all()) if user.is_staff else {}
    busiest_team, smallest_team = ((_busiest(scope, Ticket.team_id, fewest=f) if teams else None)
                                   for f in (False, True))
    if smallest_team == busiest_team:  # one team in use: one scenario
        smallest_team = None
    first_page = db.session.execute(
        select(Ticket.id, Ticket.updated_at, Ticket.status).where(scope)
        .order_by(*order_by(SORTS["queue"][1])).limit(page_size)).all()
    middle = db.session.execute(
        select(Ticket.id, Ticket.body).where(scope).order_by(Ticket.id)
        .offset(total // 2).limit(1)).first()
    serial = SERIAL.search(middle.body) if middle else None
    return Picks(
        who=who, email=email, user_id=user.id, scope=scope_of(user), tickets=total,
        busiest_category=busiest and (busiest[0], names[busiest[0]], busiest[1]),
        smallest_category=smallest and (smallest[0], names[smallest[0]], smallest[1]),
        assignee=assignee and (assignee[0], db.session.get(User, assignee[0]).name,
                               assignee[1]),
        customer=customer and _person(customer),
        organisation=organisation and (
            organisation[0], db.session.get(Organisation, organisation[0]).name,
            organisation[1]),
        reseller=reseller,
        busiest_team=busiest_team and (busiest_team[0], teams[busiest_team[0]], busiest_team[1]),
        smallest_team=smallest_team and (smallest_team[0], teams[smallest_team[0]],
                                         smallest_team[1]),
        ticket_id=first_page[0].id if first_page else None,
        ticket_version=ticket_version(first_page[0]) if first_page else None,
        page_ids=[row.id for row in first_page],
        middle_ticket_id=middle.id if middle else None,
        serial=serial.group(1) if serial else None,
        cursors=[cursor for sort in SORTS for depth in depths if total >= 3
                 if (cursor := _cursor(scope, sort, depth, total)) is not None],
    )


def _person(busiest):
    """``(id, name, email, tickets)`` of the busiest subscriber: what searches ask for."""
    person = db.session.get(User, busiest[0])
    return (person.id, person.name, person.email, busiest[1])


def _cursor(scope, sort, depth, total):
    """The ticket ``depth``% down ``sort`` in scope, with its neighbours (None: too few). A
    sort lists only tickets that have its columns (``sla_due``: a running SLA clock), so they
    are counted again for it."""
    order = SORTS[sort][1]
    listed = [scope, *(column.isnot(None) for column, _ in order)]
    if any(column.key == "sla_due_at" for column, _ in order):
        total = db.session.scalar(select(func.count()).select_from(Ticket).where(*listed))
        if total < 3:  # a reseller with no running clock: nothing to page through
            return None
    position = min(max(1, total * depth // 100), total - 2)
    rows = db.session.execute(
        select(*(column for column, _ in order)).where(*listed)
        .order_by(*order_by(order)).offset(position - 1).limit(3)).all()
    previous, here, following = rows
    return Cursor(sort=sort, depth=depth, position=position,
                  cursor=encode_cursor(list(here)), next_id=following[-1],
                  previous_id=previous[-1])


def portal_subscriber():
    """``(email, tickets)`` of the subscriber with the most tickets (the portal's login)."""
    count = func.count()
    return db.session.execute(
        select(User.email, count).join(Ticket, Ticket.subscriber_id == User.id)
        .where(User.role == "subscriber").group_by(User.id, User.email)
        .order_by(count.desc(), User.id).limit(1)).one()


def order_by(order):
    """ORDER BY clauses for ``order``, a sort's ``(column, descending)`` pairs."""
    return [column.desc() if descending else column.asc() for column, descending in order]
