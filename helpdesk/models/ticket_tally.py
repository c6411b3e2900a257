"""Tallies of tickets, kept in step with them in the transaction that changes a ticket.

The queue's counters (``helpdesk.desk.counters``) are sums over these few hundred rows, never
a count of every ticket per view:

- ``TicketTally``: how many live tickets share a reseller, status, priority and category;
- ``AssigneeTally``: the same for the tickets assigned to one person ("My tickets");
- ``TicketDay``: the tickets opened on one day (UTC) per reseller, with how many got a first
  response and were resolved, and those times in whole seconds, for the 30-day averages;
- the reports' rollups, ``ReportDay`` and ``OrganisationDay`` (``models.report_day``): each
  ticket's opening, first response and resolution on the day each happened.

A deleted ticket counts nowhere. ``reseller_id`` 0 stands for "no reseller" (the operator's
own customers): a NULL would never match ``ON CONFLICT``, so the key would not be unique.

One listener keeps both: after every flush it reads the attribute history of the tickets
written (inserted, changed, deleted), turns it into deltas and applies them with upserts
(``INSERT ... ON CONFLICT DO UPDATE SET n = n + delta``), on the flush's own connection, so
they commit or roll back with the change, savepoints included. Within a flush the rows are
written in one fixed order (tallies before days, keys sorted), so two transactions that
each move tickets in one flush, as the services do, take the row locks in the same order
and cannot deadlock on them. SQL that writes tickets behind the session's back (a bulk
``update(Ticket)``, raw ``UPDATE tickets``) bypasses this: the ORM kind is refused below,
and raw SQL must be followed by ``helpdesk.services.tallies.rebuild()`` in its transaction.

Kept in the model layer, like ``Ticket``'s own queue rank: importing the models is enough for
every writer (views, jobs, the CLI, tests) to keep the tallies right.
"""

from collections import Counter
from datetime import UTC

from sqlalchemy import BigInteger, Date, Integer, String, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpdesk.extensions import db
from helpdesk.models.report_day import (
    REPORT_COUNTS,
    OrganisationDay,
    ReportDay,
    report_places,
)
from helpdesk.models.ticket import Ticket

NO_RESELLER = 0
# What a ticket's place in the tallies depends on.
# The SLA due times count in the report rollups once their clock has stopped (met or not),
# so a change to a stopped clock's due time (a reopened ticket's) must move the ticket too.
TALLIED = ("reseller_id", "status", "priority", "category_id", "assignee_id", "deleted_at",
           "created_at", "first_response_at", "resolved_at", "organisation_id",
           "first_response_due_at", "resolution_due_at")


class TicketTally(db.Model):
    """The number of live tickets with one reseller, status, priority and category."""

    __tablename__ = "ticket_tallies"

    reseller_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    priority: Mapped[str] = mapped_column(String(16), primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tickets: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self):
        return f"<TicketTally {self.status}/{self.priority} {self.tickets}>"


class AssigneeTally(db.Model):
    """The number of live tickets assigned to one person, with one reseller, status,
    priority and category: the counters of "My tickets". Unassigned tickets count here
    nowhere."""

    __tablename__ = "assignee_tallies"

    assignee_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reseller_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    priority: Mapped[str] = mapped_column(String(16), primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tickets: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self):
        return f"<AssigneeTally {self.assignee_id} {self.status}/{self.priority} {self.tickets}>"


class TicketDay(db.Model):
    """The live tickets opened on one UTC day for one reseller, and their clocks: how many
    have a first response and the sum of those waits, how many are resolved and the sum of
    their resolution times, in whole seconds (each timestamp cut to its second)."""

    __tablename__ = "ticket_days"

    day = mapped_column(Date, primary_key=True)
    reseller_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    response_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolution_seconds: Mapped[int] = mapped_column(BigInteger, default=0)

    def __repr__(self):
        return f"<TicketDay {self.day} {self.opened}>"


DAY_COUNTS = ("opened", "responded", "response_seconds", "resolved", "resolution_seconds")


def whole_seconds(start, end):
    """Seconds from ``start`` to ``end``, each cut to its whole second: what the SQL of
    ``services.tallies`` computes too (``floor(epoch)`` on PostgreSQL, ``strftime('%s')`` on
    SQLite), so maintained and rebuilt sums agree exactly."""
    return int((end.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds())


def _place(values):
    """Where a ticket with these ``TALLIED`` values counts: its tally key, its day's key and
    counts, its assignee tally key (None when unassigned) and its ``report_places``; or
    ``None`` for a deleted ticket (or one with no values, not yet inserted)."""
    if values is None or values["deleted_at"] is not None:
        return None
    reseller = NO_RESELLER if values["reseller_id"] is None else values["reseller_id"]
    created, responded, resolved = (
        values["created_at"], values["first_response_at"], values["resolved_at"])
    counts = (
        1,
        responded is not None, 0 if responded is None else whole_seconds(created, responded),
        resolved is not None, 0 if resolved is None else whole_seconds(created, resolved),
    )
    tally_key = (reseller, values["status"], values["priority"], values["category_id"])
    assignee = values["assignee_id"]
    return (tally_key, (created.astimezone(UTC).date(), reseller), counts,
            None if assignee is None else (assignee, *tally_key),
            report_places(values, reseller, whole_seconds))


def _before_and_after(ticket, *, inserted, deleted):
    """The ticket's ``TALLIED`` values before and after the flush (``None``: no row)."""
    state = inspect(ticket)
    if inserted:
        return None, {key: state.dict.get(key) for key in TALLIED}
    before, after = {}, {}
    for key in TALLIED:
        history = state.attrs[key].load_history()
        current = history.added or history.unchanged or [None]
        before[key] = (history.deleted or history.unchanged or [None])[0]
        after[key] = current[0]
    return before, (None if deleted else after)


class Deltas:
    """Changes to the tables, summed per key (``reports``: per report place, the finest
    key of both report rollups)."""

    def __init__(self):
        self.tallies = Counter()
        self.days = {}
        self.assignees = Counter()
        self.reports = {}

    def add(self, place, sign):
        """Count (``sign`` 1) or uncount (-1) a ticket at ``place``."""
        if place is None:
            return
        tally_key, day_key, counts, assignee_key, reports = place
        self.tallies[tally_key] += sign
        if assignee_key is not None:
            self.assignees[assignee_key] += sign
        day = self.days.setdefault(day_key, [0] * len(DAY_COUNTS))
        for index, count in enumerate(counts):
            day[index] += sign * count
        for report_key, report_counts in reports.items():
            self.add_report(report_key, report_counts, sign)

    def add_report(self, key, counts, sign):
        """Add ``counts`` (``REPORT_COUNTS``) times ``sign`` at a report place ``key``
        (day, reseller, organisation, category, priority)."""
        row = self.reports.setdefault(key, [0] * len(REPORT_COUNTS))
        for index, count in enumerate(counts):
            row[index] += sign * count

    def __bool__(self):
        return bool(self.tallies or self.days or self.assignees or self.reports)

    def rows(self):
        """The non-zero deltas as upsert parameters, tallies, days, assignee tallies, report
        days and organisation days, each in key order."""
        tallies = [
            {"reseller_id": key[0], "status": key[1], "priority": key[2], "category_id": key[3],
             "tickets": delta}
            for key, delta in sorted(self.tallies.items()) if delta
        ]
        days = [
            {"day": key[0], "reseller_id": key[1], **dict(zip(DAY_COUNTS, counts, strict=True))}
            for key, counts in sorted(self.days.items()) if any(counts)
        ]
        assignees = [
            {"assignee_id": key[0], "reseller_id": key[1], "status": key[2], "priority": key[3],
             "category_id": key[4], "tickets": delta}
            for key, delta in sorted(self.assignees.items()) if delta
        ]
        return tallies, days, assignees, *self._report_rows()

    def _report_rows(self):
        """The report places summed into each rollup's key: report days, organisation days."""
        by_report, by_organisation = {}, {}
        for (day, reseller, organisation, category, priority), counts in self.reports.items():
            for summed, key in ((by_report, (day, reseller, category, priority)),
                                (by_organisation, (day, reseller, organisation))):
                row = summed.setdefault(key, [0] * len(REPORT_COUNTS))
                for index, count in enumerate(counts):
                    row[index] += count
        return (
            [{"day": key[0], "reseller_id": key[1], "category_id": key[2], "priority": key[3],
              **dict(zip(REPORT_COUNTS, counts, strict=True))}
             for key, counts in sorted(by_report.items()) if any(counts)],
            [{"day": key[0], "reseller_id": key[1], "organisation_id": key[2],
              **dict(zip(REPORT_COUNTS, counts, strict=True))}
             for key, counts in sorted(by_organisation.items()) if any(counts)],
        )


def apply_deltas(connection, deltas):
    """Add ``deltas`` to the tables with one upsert per table (rows in key order)."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    tallies, days, assignees, report_days, organisation_days = deltas.rows()
    for model, rows, counts in ((TicketTally, tallies, ("tickets",)),
                                (TicketDay, days, DAY_COUNTS),
                                (AssigneeTally, assignees, ("tickets",)),
                                (ReportDay, report_days, REPORT_COUNTS),
                                (OrganisationDay, organisation_days, REPORT_COUNTS)):
        if not rows:
            continue
        table = model.__table__
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[column.name for column in table.primary_key.columns],
            set_={name: table.c[name] + statement.excluded[name] for name in counts},
        )
        connection.execute(statement, rows)


def _tallied_attributes_keep_their_old_value(target, value, oldvalue, initiator):
    """A no-op "set" listener registered with ``active_history``: setting a tallied attribute
    of an expired ticket first loads its old value, so the flush knows where it counted."""


for _key in TALLIED:
    event.listen(getattr(Ticket, _key), "set", _tallied_attributes_keep_their_old_value,
                 active_history=True)


@event.listens_for(Session, "before_flush")
def _load_deleted_tickets(session, flush_context, instances):
    """A ticket about to be deleted for good must still have the values it counted under."""
    for instance in session.deleted:
        if isinstance(instance, Ticket):
            for key in TALLIED:
                getattr(instance, key)


@event.listens_for(Session, "after_flush")
def _keep_tallies(session, flush_context):
    """Move every ticket written by this flush to its new place in the tallies."""
    deltas = Deltas()
    for group, inserted, deleted in ((session.new, True, False), (session.dirty, False, False),
                                     (session.deleted, False, True)):
        for instance in group:
            if isinstance(instance, Ticket):
                before, after = _before_and_after(instance, inserted=inserted, deleted=deleted)
                before, after = _place(before), _place(after)
                if before != after:
                    deltas.add(before, -1)
                    deltas.add(after, 1)
    if deltas:
        apply_deltas(session.connection(bind_arguments={"mapper": inspect(Ticket)}), deltas)


def _columns_set(orm_execute_state):
    """The attribute names an ORM UPDATE sets: in ``.values()`` or ``.ordered_values()``
    (SQLAlchemy keeps both in ``_values``), or per row in the parameters of an update by
    primary key (``session.execute(update(Ticket), rows)``)."""
    names = {getattr(key, "key", key) for key in orm_execute_state.statement._values or {}}
    parameters = orm_execute_state.parameters
    for row in parameters if isinstance(parameters, list) else [parameters or {}]:
        names.update(row)
    return names


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_ticket_writes(orm_execute_state):
    """A bulk ``insert`` or ``delete`` of ``Ticket``, or an ``update`` that sets a tallied
    column, would write tickets without the flush seeing them, and the tallies would drift:
    write tickets as objects instead. (A bulk update of other columns is fine.)"""
    state = orm_execute_state
    if state.bind_mapper is not inspect(Ticket) or not (
            state.is_insert or state.is_delete or state.is_update):
        return
    if state.is_update and not (_columns_set(state) & set(TALLIED)):
        return
    raise RuntimeError(
        "A bulk INSERT/DELETE of tickets, or an UPDATE of their "
        f"{', '.join(TALLIED)}, bypasses the ticket tallies: change Ticket objects in the "
        "session, or run the SQL and then helpdesk.services.tallies.rebuild() in the same "
        "transaction.")
