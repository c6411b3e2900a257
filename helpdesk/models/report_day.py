"""The reports' rollups: what happened to tickets on each UTC day, by the report's breakdowns.

``/reports`` sums these rows over a date range (``helpdesk.reports``), never the tickets
themselves: at 1,000,000 tickets a 90-day report reads a few thousand rows.

- ``ReportDay``: per day, reseller (0: none), category and priority;
- ``OrganisationDay``: per day, reseller and organisation (0: none).

Both hold the same counts (``REPORT_COUNTS``), each on the day its event happened, so a range
of days answers "what happened in this range":

- ``opened`` on the day the ticket was opened, and ``unresolved``: how many of those are not
  resolved or closed now (the backlog left from that day). Summed over every day, the rows
  with backlog (a partial index each: as many rows as days and keys with unresolved tickets,
  not all history) give the backlog now by any of the rollup's keys;
- ``responded`` and ``response_seconds`` on the day of the first response;
- ``resolved`` and ``resolution_seconds`` on the day it was resolved (a reopened ticket is
  not resolved: its ``resolved_at`` is cleared, so it leaves that day's counts).

Times are whole seconds, as in ``ticket_days``. Days are UTC days: a report in another zone
would need hourly rows (24 times as many) to move its day boundaries; the page says "UTC".

Kept in step by the ticket tallies' flush listener (``models.ticket_tally``: a ticket's
``report_places`` before and after the flush) and rebuilt with them
(``services.tallies.rebuild``).
"""

from datetime import UTC

from sqlalchemy import BigInteger, Date, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db
from helpdesk.models.ticket import UNRESOLVED_STATUSES

REPORT_COUNTS = ("opened", "unresolved", "responded", "response_seconds", "resolved",
                 "resolution_seconds")
NO_ORGANISATION = 0


class _Counts:
    """The counts every rollup row holds."""

    opened: Mapped[int] = mapped_column(Integer, default=0)
    unresolved: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    response_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolution_seconds: Mapped[int] = mapped_column(BigInteger, default=0)


HAS_BACKLOG = text("unresolved <> 0")


class ReportDay(_Counts, db.Model):
    """One UTC day's ticket events for one reseller, category and priority."""

    __tablename__ = "report_days"
    __table_args__ = (Index("ix_report_days_backlog", "reseller_id",
                            postgresql_where=HAS_BACKLOG, sqlite_where=HAS_BACKLOG),)

    day = mapped_column(Date, primary_key=True)
    reseller_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    priority: Mapped[str] = mapped_column(String(16), primary_key=True)

    def __repr__(self):
        return f"<ReportDay {self.day} {self.priority} {self.opened}>"


class OrganisationDay(_Counts, db.Model):
    """One UTC day's ticket events for one reseller and organisation."""

    __tablename__ = "organisation_days"
    __table_args__ = (Index("ix_organisation_days_backlog", "reseller_id",
                            postgresql_where=HAS_BACKLOG, sqlite_where=HAS_BACKLOG),)

    day = mapped_column(Date, primary_key=True)
    reseller_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True,
                                                 autoincrement=False)

    def __repr__(self):
        return f"<OrganisationDay {self.day} {self.organisation_id} {self.opened}>"


def report_places(values, reseller, seconds):
    """Where a live ticket with these ``TALLIED`` values counts in the rollups:
    ``{(day, reseller, organisation, category, priority): counts}`` in ``REPORT_COUNTS``
    order, events on the same day summed. ``seconds(start, end)`` is ``whole_seconds``."""
    created = values["created_at"]
    organisation = values["organisation_id"] or NO_ORGANISATION
    places = {}

    def add(moment, counts):
        key = (moment.astimezone(UTC).date(), reseller, organisation, values["category_id"],
               values["priority"])
        row = places.setdefault(key, [0] * len(REPORT_COUNTS))
        for index, count in enumerate(counts):
            row[index] += count

    add(created, (1, int(values["status"] in UNRESOLVED_STATUSES), 0, 0, 0, 0))
    if values["first_response_at"] is not None:
        add(values["first_response_at"],
            (0, 0, 1, seconds(created, values["first_response_at"]), 0, 0))
    if values["resolved_at"] is not None:
        add(values["resolved_at"], (0, 0, 0, 0, 1, seconds(created, values["resolved_at"])))
    return {key: tuple(counts) for key, counts in places.items()}
