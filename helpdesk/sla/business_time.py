"""Business time: seconds that count towards an SLA, by a workspace's calendar.

A ``Calendar`` is a time zone (``zoneinfo``), one opening window per weekday (or none) and a
set of holidays (local dates, closed all day). Business seconds are the real seconds that pass
inside the windows: a window is laid on the local date (09:00 to 17:00 in the calendar's zone)
and measured in UTC, so a daylight-saving change inside a window (a 24-hour window on the last
Sunday of March in London) counts the hour that was really there, and a window whose local
start does not exist that night (02:30 in a spring-forward gap) starts where ``zoneinfo``
puts it (PEP 495's ``fold=0``).

A window is closed at both ends for landing: adding a target that ends exactly at closing time
lands at 17:00, not at 09:00 next morning, and measuring from there gives the target back.

Pauses are the caller's: it measures what ran before the pause (``business_seconds_between``)
and, on resuming, adds what is left from the instant it resumed (``add_business_seconds``).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3700  # ten years of dates: a calendar with no open day is refused long before


class CalendarError(ValueError):
    """A calendar that can never run a clock (no opening hours at all)."""


@dataclass(frozen=True)
class Calendar:
    """A workspace's business hours.

    ``hours``: seven entries, Monday first, each ``(opens, closes)`` as ``datetime.time`` (a
    closing of ``time(0)`` means midnight at the end of the day) or None for closed.
    ``holidays``: local dates closed all day.
    """

    zone: ZoneInfo
    hours: tuple
    holidays: frozenset = field(default_factory=frozenset)

    def __post_init__(self):
        if len(self.hours) != 7:
            raise CalendarError("A calendar has hours for seven weekdays.")
        if not any(self.hours):
            raise CalendarError("A calendar needs opening hours on at least one weekday.")

    def window(self, day):
        """The business window of local ``day`` as two UTC instants, or None when closed."""
        hours = self.hours[day.weekday()]
        if hours is None or day in self.holidays:
            return None
        opens, closes = hours
        start = datetime.combine(day, opens, tzinfo=self.zone)
        end_day = day + timedelta(days=1) if closes == time(0) else day
        end = datetime.combine(end_day, closes, tzinfo=self.zone)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        return (start, end) if end > start else None

    def local_date(self, instant):
        """The calendar's local date at ``instant``."""
        return instant.astimezone(self.zone).date()

    def day_seconds(self):
        """A business day, in seconds: the longest weekday window (8 h for 09:00-17:00). What
        "1 business day" means in the SLA targets."""
        return max(_length(hours) for hours in self.hours if hours)


def _length(hours):
    opens, closes = hours
    end = 24 * 3600 if closes == time(0) else closes.hour * 3600 + closes.minute * 60
    return end - (opens.hour * 3600 + opens.minute * 60)


def _days_from(calendar, instant):
    """Local dates from the one before ``instant``'s (a window may cross midnight in UTC
    terms), for at most ``MAX_DAYS``."""
    first = calendar.local_date(instant) - timedelta(days=1)
    for offset in range(MAX_DAYS):
        yield first + timedelta(days=offset)
    raise CalendarError("No business time within ten years: check the calendar.")


def add_business_seconds(calendar, start, seconds):
    """The instant ``seconds`` business seconds after ``start`` (UTC, aware).

    Zero gives ``start`` itself (even outside hours); otherwise the answer is always inside a
    window, closing time included.
    """
    if seconds <= 0:
        return start
    left = timedelta(seconds=seconds)
    for day in _days_from(calendar, start):
        window = calendar.window(day)
        if window is None or window[1] <= start:
            continue
        opens = max(window[0], start)
        available = window[1] - opens
        if left <= available:
            return opens + left
        left -= available
    raise AssertionError("unreachable")  # pragma: no cover


def business_seconds_between(calendar, start, end):
    """Business seconds from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0
    total = timedelta(0)
    last = calendar.local_date(end) + timedelta(days=1)
    for day in _days_from(calendar, start):
        if day > last:
            break
        window = calendar.window(day)
        if window is None:
            continue
        overlap = min(window[1], end) - max(window[0], start)
        if overlap > timedelta(0):
            total += overlap
    return total.total_seconds()


def parse_date(text):
    """A holiday as ``YYYY-MM-DD``, or ValueError."""
    return date.fromisoformat(text.strip())
