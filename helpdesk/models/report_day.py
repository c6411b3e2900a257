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
  not resolved: its ``resolved_at`` is cleared, so it leaves that day's counts);
- SLA compliance (``SLA_COUNTS``), on the same days: ``sla_responses``, the first responses
  of tickets with a first-response due time, and ``sla_responses_met``, those made by it;
  ``sla_resolutions`` and ``sla_resolutions_met`` the same for resolutions. A ticket without
  a due time (no clock: opened before the SLA clocks and never recomputed) counts in neither.
  The due time is the one the SLA clock stored when it stopped (``helpdesk.sla.clock``
  settles it then, pauses included), so "met" is a plain comparison of two columns;
- a histogram of each duration (``RESPONSE_BUCKETS``, ``RESOLUTION_BUCKETS``): how many of
  the first responses (resolutions) took a time in each of ``DURATION_EDGES``' buckets, for
  the medians (``services.reports``), which sums cannot give.

Why a fixed histogram, as integer columns. An exact median needs every duration; a rollup
row keeps a sum. Counts per bucket do sum: summed over any range and key they give the
range's histogram, and the median is read off it to within the bucket holding the middle
ticket. The 24 buckets are edges people speak in (1, 2, 5, 10, 15, 30 minutes, 1 to 18
hours, 1 to 60 days): roughly log-spaced (each at most 2.5 times the one before, closer
from an hour to a day, where response and resolution targets lie), so an estimate is off
by a share of the time, not by minutes on a week. They are plain integer columns, not an
array or JSON per row, because ``sum()`` adds columns on SQLite and PostgreSQL alike: the
report sums a range's 20,000 rows in SQL and reads a few hundred, where a structure per row
would have to be decoded and added in Python row by row.

Times are whole seconds, as in ``ticket_days``. Days are UTC days: a report in another zone
would need hourly rows (24 times as many) to move its day boundaries; the page says "UTC".

Kept in step by the ticket tallies' flush listener (``models.ticket_tally``: a ticket's
``report_places`` before and after the flush) and rebuilt with them
(``services.tallies.rebuild``).
"""

from bisect import bisect_right
from datetime import UTC

from sqlalchemy import BigInteger, Date, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db
from helpdesk.models.ticket import UNRESOLVED_STATUSES

MINUTE, HOUR, DAY = 60, 3600, 86400
# Where each duration bucket ends, in seconds: bucket 0 is under a minute (and any negative
# duration a clock set by hand might give), bucket n from edge n-1 to edge n, the last one
# 60 days or more. Changing them needs a migration that refills the rollups.
DURATION_EDGES = (
    MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
    HOUR, 90 * MINUTE, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR, 8 * HOUR, 12 * HOUR, 18 * HOUR,
    DAY, 2 * DAY, 3 * DAY, 5 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 60 * DAY,
)
BUCKETS = len(DURATION_EDGES) + 1
RESPONSE_BUCKETS = tuple(f"response_bucket_{n:02d}" for n in range(BUCKETS))
RESOLUTION_BUCKETS = tuple(f"resolution_bucket_{n:02d}" for n in range(BUCKETS))
SLA_COUNTS = ("sla_responses", "sla_responses_met", "sla_resolutions", "sla_resolutions_met")
# The counts that are not histograms, then the two histograms: the order of every count
# vector (deltas, rebuilds, the report's sums).
PLAIN_COUNTS = ("opened", "unresolved", "responded", "response_seconds", "resolved",
                "resolution_seconds", *SLA_COUNTS)
REPORT_COUNTS = (*PLAIN_COUNTS, *RESPONSE_BUCKETS, *RESOLUTION_BUCKETS)
COUNT_INDEX = {name: index for index, name in enumerate(REPORT_COUNTS)}
NO_ORGANISATION = 0


def duration_bucket(seconds):
    """The bucket of a duration of ``seconds`` (see ``DURATION_EDGES``)."""
    return bisect_right(DURATION_EDGES, seconds)


def met_by(moment, due):
    """Was ``moment`` at or before ``due``? Each cut to its whole second, as the SQL of
    ``services.tallies`` compares them, so maintained and rebuilt counts agree."""
    return moment.replace(microsecond=0) <= due.replace(microsecond=0)


class _Counts:
    """The counts every rollup row holds."""

    opened: Mapped[int] = mapped_column(Integer, default=0)
    unresolved: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    response_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolution_seconds: Mapped[int] = mapped_column(BigInteger, default=0)


# The SLA counts and the histograms: many alike columns, written once.
for _name in (*SLA_COUNTS, *RESPONSE_BUCKETS, *RESOLUTION_BUCKETS):
    setattr(_Counts, _name, mapped_column(_name, Integer, nullable=False, default=0,
                                          server_default="0"))


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
        for name, count in counts.items():
            row[COUNT_INDEX[name]] += count

    add(created, {"opened": 1, "unresolved": int(values["status"] in UNRESOLVED_STATUSES)})
    for at, due, count, total, sla, buckets in (
            ("first_response_at", "first_response_due_at", "responded", "response_seconds",
             "sla_responses", RESPONSE_BUCKETS),
            ("resolved_at", "resolution_due_at", "resolved", "resolution_seconds",
             "sla_resolutions", RESOLUTION_BUCKETS)):
        moment, due = values[at], values[due]
        if moment is None:
            continue
        took = seconds(created, moment)
        counts = {count: 1, total: took, buckets[duration_bucket(took)]: 1}
        if due is not None:
            counts |= {sla: 1, f"{sla}_met": int(met_by(moment, due))}
        add(moment, counts)
    return {key: tuple(counts) for key, counts in places.items()}
