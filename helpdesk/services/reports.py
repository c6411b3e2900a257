"""The numbers of ``/reports``: ticket volume, response and resolution times and backlog,
over a range of UTC days, in the viewer's scope.

Read from the rollups every ticket change keeps in step (``models.report_day``) and the
queue's tallies, never from the tickets: six queries over at most a few thousand rows
whatever the number of tickets (a 90-day range at 1,000,000 tickets reads about 20,000 rows
of ``report_days``). Every count, the histograms' buckets included, is summed in SQL: Python
gets one row per day or group. The 48 bucket columns are summed once per rollup, by group
(the totals are the groups' sum), not again per day: most of a report's time is that sum.

- volume: tickets opened and resolved per day (or per week, Monday to Sunday, cut at the
  range's ends), from ``report_days``;
- times: the mean first response of the tickets first answered in the range, and the mean
  resolution time of those resolved in it, in hours to one decimal (whole seconds counted);
  and their medians, estimated from the rollups' histograms (``median_hours``): exact to
  within the bucket holding the middle ticket, which the page says;
- SLA compliance: of the first responses made in the range, the share made by their due
  time, and of the resolutions, the share by theirs; tickets without a due time (no SLA
  clock) count in neither (``Compliance``);
- breakdowns by category, priority, reseller and organisation: all of the above per group,
  how many of the tickets opened in the range are still unresolved, and the backlog now
  (every unresolved ticket, whenever opened: the rollup rows with backlog, any day);
- the backlog now in all: ``ticket_tallies``.

Days are UTC days, as the rollups are kept: the page says so.

The scope is ``scope_of`` as a condition on the rollups' ``reseller_id`` (the desk's scopes
are everything, nothing or one reseller's tickets; customers have no reports).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from sqlalchemy import func, select

from helpdesk.access import scope_of
from helpdesk.extensions import db
from helpdesk.models import Category, Organisation, Reseller, TicketTally
from helpdesk.models.report_day import (
    BUCKETS,
    DURATION_EDGES,
    HAS_BACKLOG,
    NO_ORGANISATION,
    PLAIN_COUNTS,
    REPORT_COUNTS,
    OrganisationDay,
    ReportDay,
)
from helpdesk.models.ticket import PRIORITIES, UNRESOLVED_STATUSES
from helpdesk.models.ticket_tally import NO_RESELLER
from helpdesk.models.timestamps import utcnow

PRESETS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366  # a year and a day: what a report reads stays bounded
WEEKLY_AFTER_DAYS = 31  # longer ranges are shown per week unless asked per day
BREAKDOWNS = ("category", "priority", "reseller", "organisation")


def tallied_scope(user, model):
    """``scope_of(user)`` as a condition on a rollup (any table with ``reseller_id``): the
    desk's scopes are everything, nothing, or one reseller's tickets; a customer's (their own
    or their organisation's tickets) is not rolled up, and customers have no reports."""
    scope = scope_of(user)
    if scope.column not in (None, "reseller_id"):
        raise ValueError(f"reports are rolled up per reseller, not per {scope.column}")
    return scope.condition(model)


class RangeError(ValueError):
    """A date range the reports cannot show; the message says why, in the user's words."""


@dataclass(frozen=True)
class DateRange:
    """The UTC days ``start`` to ``end``, both included, shown ``per`` day or week."""

    start: date
    end: date
    per: str = "day"
    preset: int | None = None

    @property
    def days(self):
        return (self.end - self.start).days + 1

    def query_args(self):
        """The range as the page's query parameters (the CSV links repeat them)."""
        if self.preset is not None:
            return {"days": self.preset, "per": self.per}
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "per": self.per}


def today():
    """The current UTC day: the rollups' days are UTC days."""
    return utcnow().date()


def parse_range(args, *, now=None):
    """The ``DateRange`` asked for by query ``args``: ``days`` (a preset), or ``from`` and
    ``to`` (ISO dates), and ``per`` (``day`` or ``week``). Nothing asked: the last
    ``DEFAULT_DAYS`` days. Raises ``RangeError`` for anything else."""
    now = now or today()
    start_text, end_text = (args.get(name, "").strip() for name in ("from", "to"))
    per = args.get("per", "").strip()
    if per not in ("", "day", "week"):
        raise RangeError("Show the numbers per day or per week.")
    preset = None
    if start_text or end_text:
        start, end = _date(start_text, "start"), _date(end_text, "end")
        if start > end:
            raise RangeError("The start date is after the end date.")
        if end > now:
            raise RangeError(f"The end date is in the future; the latest is {now.isoformat()}.")
        if (end - start).days + 1 > MAX_DAYS:
            raise RangeError(f"A report covers at most {MAX_DAYS} days; pick a shorter range.")
    else:
        days = args.get("days", "").strip() or str(DEFAULT_DAYS)
        if days not in {str(p) for p in PRESETS}:
            raise RangeError("Pick the last 7, 30 or 90 days, or dates from and to.")
        preset = int(days)
        start, end = now - timedelta(days=preset - 1), now
    if not per:
        per = "week" if (end - start).days + 1 > WEEKLY_AFTER_DAYS else "day"
    return DateRange(start=start, end=end, per=per, preset=preset)


def _date(text, which):
    """An ISO date (``2026-11-24``) typed as the range's ``which`` end."""
    if not text:
        raise RangeError(f"Give the {which} date too (YYYY-MM-DD).")
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise RangeError(f"The {which} date {text[:20]!r} is not a date like 2026-11-24.") \
            from None


@dataclass
class Figures:
    """Summed counts (``REPORT_COUNTS``) of a group of rollup rows, with their means and
    medians in hours and their SLA compliance, and (breakdowns) the backlog now."""

    label: str = ""
    key: object = None
    opened: int = 0
    unresolved: int = 0
    responded: int = 0
    response_seconds: int = 0
    resolved: int = 0
    resolution_seconds: int = 0
    sla_responses: int = 0  # first responses with a due time
    sla_responses_met: int = 0  # ... made by it
    sla_resolutions: int = 0
    sla_resolutions_met: int = 0
    response_histogram: list = field(default_factory=lambda: [0] * BUCKETS)
    resolution_histogram: list = field(default_factory=lambda: [0] * BUCKETS)
    backlog: int = 0  # unresolved now, whenever opened (breakdowns only)

    def add(self, counts):
        """Add a row of sums in ``REPORT_COUNTS`` order, or of ``PLAIN_COUNTS`` only (the
        histograms left as they are)."""
        counts = [int(count or 0) for count in counts]
        plain = len(PLAIN_COUNTS)
        for name, count in zip(PLAIN_COUNTS, counts[:plain], strict=True):
            setattr(self, name, getattr(self, name) + count)
        for histogram, row in ((self.response_histogram, counts[plain:plain + BUCKETS]),
                               (self.resolution_histogram, counts[plain + BUCKETS:])):
            for index, count in enumerate(row):
                histogram[index] += count
        return self

    def add_rows(self, rows):
        """Add rows of sums (see ``add``), summed column by column first: one ``add`` for
        a group however many rows it has."""
        if rows:
            self.add([sum(column) for column in zip(*rows, strict=True)])
        return self

    @property
    def first_response_hours(self):
        return mean_hours(self.response_seconds, self.responded)

    @property
    def resolution_hours(self):
        return mean_hours(self.resolution_seconds, self.resolved)

    @property
    def median_first_response_hours(self):
        return median_hours(self.response_histogram, seconds=self.response_seconds)

    @property
    def median_resolution_hours(self):
        return median_hours(self.resolution_histogram, seconds=self.resolution_seconds)

    @property
    def first_response_sla(self):
        return Compliance.counted(self.sla_responses_met, self.sla_responses)

    @property
    def resolution_sla(self):
        return Compliance.counted(self.sla_resolutions_met, self.sla_resolutions)


@dataclass(frozen=True)
class Compliance:
    """``met`` of ``of`` clocks stopped by their due time, read "92% (46 of 50)"."""

    met: int
    of: int

    @classmethod
    def counted(cls, met, of):
        """The compliance of ``met`` out of ``of``; None when nothing had a target."""
        return cls(met=met, of=of) if of else None

    @property
    def percent(self):
        """The share in whole percent, rounded down: 100% only when every one was met."""
        return self.met * 100 // self.of

    @property
    def exact_percent(self):
        """The share in percent to one decimal (the CSV's), also rounded down."""
        return self.met * 1000 // self.of / 10

    def __str__(self):
        return f"{self.percent}% ({self.met} of {self.of})"


def mean_hours(seconds, tickets):
    """The mean of ``tickets`` durations summing to ``seconds``, in hours to one decimal."""
    if not tickets:
        return None
    return round(int(seconds) / int(tickets) / 3600, 1)


def median_hours(histogram, *, seconds):
    """The median of the durations counted in ``histogram`` (per ``DURATION_EDGES`` bucket)
    and summing to ``seconds``, in hours to one decimal; None when it counts none.

    One or two durations: their mean, which is their median, exactly. More: the middle of
    ``n`` durations is at rank ``n / 2``, found in the bucket whose counts reach it and
    placed in proportion between the bucket's edges, as if its durations were spread evenly
    there (``histogram_quantile`` in Prometheus does the same). The middle ticket lies in
    that bucket, so the estimate is off by less than the bucket's width. The last bucket has
    no upper edge: a median there is given as its lower edge (60 days), a floor.
    """
    total = sum(histogram)
    if not total:
        return None
    if total <= 2:
        return mean_hours(seconds, total)
    middle, below = total / 2, 0
    for index, count in enumerate(histogram):
        if count and below + count >= middle:
            low = DURATION_EDGES[index - 1] if index else 0
            if index == len(DURATION_EDGES):
                return round(low / 3600, 1)
            seconds = low + (DURATION_EDGES[index] - low) * (middle - below) / count
            return round(seconds / 3600, 1)
        below += count
    raise AssertionError("unreachable: the counts reach their total")


@dataclass
class Report:
    """Everything ``/reports`` shows for one range and scope."""

    range: DateRange
    totals: Figures
    periods: list  # Figures per day or week, labelled by their first day
    breakdowns: dict = field(default_factory=dict)  # name: [Figures], largest first
    backlog_now: int = 0


def build_report(user, date_range):
    """The report of ``date_range`` over the tickets ``user`` may see: six queries."""
    in_range = (ReportDay.day >= date_range.start, ReportDay.day <= date_range.end)
    by_day = {day: counts for day, *counts in db.session.execute(
        select(ReportDay.day, *_sums(ReportDay, PLAIN_COUNTS))
        .where(tallied_scope(user, ReportDay), *in_range).group_by(ReportDay.day))}
    backlog_now = db.session.scalar(
        select(func.coalesce(func.sum(TicketTally.tickets), 0))
        .where(tallied_scope(user, TicketTally),
               TicketTally.status.in_(UNRESOLVED_STATUSES)))
    totals, categories, priorities, resellers = _by_category_priority_and_reseller(
        user, in_range)
    priority_order = {p: n for n, p in enumerate(reversed(PRIORITIES))}
    return Report(
        range=date_range, totals=totals, periods=_periods(date_range, by_day),
        backlog_now=int(backlog_now),
        breakdowns={
            "category": _largest_first(categories),
            "priority": sorted(priorities, key=lambda f: priority_order.get(f.key, 9)),
            "reseller": _largest_first(resellers),
            "organisation": _largest_first(_by_organisation(user, date_range)),
        })


@cache
def _sums(model, names=REPORT_COUNTS):
    """``sum()`` of each of ``names`` (``REPORT_COUNTS``) of a rollup, in that order, each
    labelled ``count_<n>``. Built once: a statement of 58 sums took SQLAlchemy longer to put
    together than the database to answer."""
    return tuple(func.sum(getattr(model, name)).label(f"count_{n}")
                 for n, name in enumerate(names))


def _grouped(model, keys, columns, where):
    """The rollup ``model``'s rows matching ``where``, ``columns`` (``_sums``) grouped by its
    own ``keys``, as a subquery to join names to: grouped by narrow columns whose values the
    database's statistics know (a few hundred groups, hashed in memory), and names joined to
    the groups rather than to every row. Grouping by the joined names as well, PostgreSQL
    expected a group per row and sorted every wide row, spilling to disk."""
    return select(*keys, *columns).where(*where).group_by(*keys).subquery()


def _counts_of(summed):
    """The sums of a ``_grouped`` subquery, in order."""
    return [column for column in summed.c if column.name.startswith("count_")]


def _largest_first(groups):
    return sorted(groups, key=lambda f: (-f.opened, -f.backlog, -f.resolved, f.label))


def _by_category_priority_and_reseller(user, in_range):
    """``Figures`` of the whole range, and per category, priority and reseller: two reads of
    ``report_days`` grouped by all three (a few hundred groups), one over the range, one
    over the rows holding backlog (any day), summed here into each breakdown and (the
    range) the totals. The totals come from here rather than from the days, so that only
    one read of the range sums the histograms' 48 columns (the days read the other counts:
    the volume table has no medians per period)."""
    groups = ({}, {}, {})

    def read(columns, where):
        summed = _grouped(ReportDay, (ReportDay.category_id, ReportDay.priority,
                                      ReportDay.reseller_id),
                          columns, (tallied_scope(user, ReportDay), *where))
        return db.session.execute(
            select(summed.c.category_id, Category.name, summed.c.priority,
                   summed.c.reseller_id, Reseller.name, *_counts_of(summed))
            .select_from(summed)
            .outerjoin(Category, Category.id == summed.c.category_id)
            .outerjoin(Reseller, Reseller.id == summed.c.reseller_id))

    def figures_of(category_id, category, priority, reseller_id, reseller):
        reseller = "No reseller" if reseller_id == NO_RESELLER else reseller or "?"
        for group, key, label in zip(groups, (category_id, priority, reseller_id),
                                     (category or "?", priority, reseller), strict=True):
            yield group.setdefault(key, Figures(label=label, key=key))

    totals, everything, each = Figures(label="All tickets"), [], defaultdict(list)
    for row in read(_sums(ReportDay), in_range):
        key, counts = row[:5], row[5:]  # category id and name, priority, reseller id and name
        everything.append(counts)
        for breakdown, figures in enumerate(figures_of(*key)):
            each[breakdown, figures.key].append(counts)
    totals.add_rows(everything)
    for breakdown, group in enumerate(groups):
        for key, figures in group.items():
            figures.add_rows(each[breakdown, key])
    for *key, backlog in read(_sums(ReportDay, ("unresolved",)), [HAS_BACKLOG]):
        for figures in figures_of(*key):
            figures.backlog += int(backlog)
    return totals, *(list(group.values()) for group in groups)


def _by_organisation(user, date_range):
    """``Figures`` per organisation: ``organisation_days`` over the range, and over the rows
    holding backlog (any day)."""
    found = {}

    def read(columns, where):
        summed = _grouped(OrganisationDay, (OrganisationDay.organisation_id,), columns,
                          (tallied_scope(user, OrganisationDay), *where))
        return db.session.execute(
            select(summed.c.organisation_id, Organisation.name, *_counts_of(summed))
            .select_from(summed)
            .outerjoin(Organisation, Organisation.id == summed.c.organisation_id))

    def figures_of(organisation_id, name):
        label = "No organisation" if organisation_id == NO_ORGANISATION else name or "?"
        return found.setdefault(organisation_id, Figures(label=label, key=organisation_id))

    for organisation_id, name, *counts in read(
            _sums(OrganisationDay), (OrganisationDay.day >= date_range.start,
                                     OrganisationDay.day <= date_range.end)):
        figures_of(organisation_id, name).add(counts)
    for organisation_id, name, backlog in read(_sums(OrganisationDay, ("unresolved",)),
                                               [HAS_BACKLOG]):
        figures_of(organisation_id, name).backlog += int(backlog)
    return list(found.values())


def _periods(date_range, by_day):
    """``Figures`` per day, or per week (Monday to Sunday, cut at the range's ends), for
    every period of the range, empty ones included, labelled by their first day."""
    periods = []
    day = date_range.start
    while day <= date_range.end:
        if date_range.per == "week":
            last = min(day + timedelta(days=6 - day.weekday()), date_range.end)
        else:
            last = day
        figures = Figures(label=day.isoformat(), key=day)
        while day <= last:
            if day in by_day:
                figures.add(by_day[day])
            day += timedelta(days=1)
        periods.append(figures)
    return periods
