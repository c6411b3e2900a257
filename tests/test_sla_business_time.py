"""Business-time arithmetic (helpdesk/sla/business_time.py): examples across nights,
weekends, holidays and daylight-saving changes, and properties checked by Hypothesis."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.sla.business_time import Calendar, CalendarError
from helpdesk.sla.business_time import add_business_seconds as add
from helpdesk.sla.business_time import business_seconds_between as between

LONDON = ZoneInfo("Europe/London")
NINE_TO_FIVE = (time(9), time(17))
WORKWEEK = (NINE_TO_FIVE,) * 5 + (None, None)
HOUR = 3600
# 2026: Good Friday 3 April, Easter Monday 6 April; clocks go forward 29 March, back 25 October.
CALENDAR = Calendar(LONDON, WORKWEEK, frozenset({date(2026, 4, 3), date(2026, 4, 6)}))
ROUND_THE_CLOCK = Calendar(LONDON, ((time(0), time(0)),) * 7)


def london(*args):
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


def test_within_one_day():
    assert add(CALENDAR, london(2026, 3, 2, 10), 2 * HOUR) == london(2026, 3, 2, 12)


def test_across_a_night():
    """Four hours from 15:00 Monday: two today, two from 09:00 Tuesday."""
    assert add(CALENDAR, london(2026, 3, 2, 15), 4 * HOUR) == london(2026, 3, 3, 11)


def test_started_before_opening_and_after_closing():
    assert add(CALENDAR, london(2026, 3, 2, 6), HOUR) == london(2026, 3, 2, 10)
    assert add(CALENDAR, london(2026, 3, 2, 20), HOUR) == london(2026, 3, 3, 10)


def test_across_a_weekend():
    """Friday 16:00 plus two hours: one on Friday, one on Monday."""
    assert add(CALENDAR, london(2026, 3, 6, 16), 2 * HOUR) == london(2026, 3, 9, 10)
    assert between(CALENDAR, london(2026, 3, 6, 16), london(2026, 3, 9, 10)) == 2 * HOUR


def test_across_the_easter_holidays():
    """Thursday 2 April 16:00 plus two hours: Good Friday, the weekend and Easter Monday are
    closed, so the second hour is Tuesday's first."""
    assert add(CALENDAR, london(2026, 4, 2, 16), 2 * HOUR) == london(2026, 4, 7, 10)


def test_landing_at_closing_time_stays_there():
    assert add(CALENDAR, london(2026, 3, 2, 9), 8 * HOUR) == london(2026, 3, 2, 17)


def test_daylight_saving_spring_forward():
    """The week clocks go forward: 09:00 local is 09:00 UTC on Friday 27 March and 08:00 UTC
    on Monday 30 March; a business day is still eight hours."""
    friday, monday = london(2026, 3, 27, 9), london(2026, 3, 30, 9)
    assert friday.hour == 9 and monday.hour == 8
    assert add(CALENDAR, london(2026, 3, 27, 13), 8 * HOUR) == london(2026, 3, 30, 13)
    # Round the clock, the night of 29 March lasts 23 hours.
    assert between(ROUND_THE_CLOCK, london(2026, 3, 29), london(2026, 3, 30)) == 23 * HOUR
    assert add(ROUND_THE_CLOCK, london(2026, 3, 29), 23 * HOUR) == london(2026, 3, 30)


def test_daylight_saving_fall_back():
    """The last Sunday of October lasts 25 hours; office hours on either side are unchanged."""
    assert between(ROUND_THE_CLOCK, london(2026, 10, 25), london(2026, 10, 26)) == 25 * HOUR
    assert add(CALENDAR, london(2026, 10, 23, 16), 2 * HOUR) == london(2026, 10, 26, 10)


def test_between_is_zero_backwards_and_outside_hours():
    assert between(CALENDAR, london(2026, 3, 3), london(2026, 3, 2)) == 0
    assert between(CALENDAR, london(2026, 3, 7, 10), london(2026, 3, 8, 18)) == 0


def test_a_calendar_without_hours_is_refused():
    with pytest.raises(CalendarError):
        Calendar(LONDON, (None,) * 7)


def test_business_day_is_the_longest_window():
    assert CALENDAR.day_seconds() == 8 * HOUR
    assert ROUND_THE_CLOCK.day_seconds() == 24 * HOUR


# Property tests over arbitrary calendars, zones, starts and amounts.
ZONES = st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
                         "UTC", "Pacific/Chatham"])
_hours = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 22), st.integers(1, 24)).filter(lambda h: h[0] < h[1]).map(
        lambda h: (time(h[0]), time(0) if h[1] == 24 else time(h[1]))),
)
_weeks = st.lists(_hours, min_size=7, max_size=7).filter(any).map(tuple)
_holidays = st.frozensets(st.dates(date(2025, 12, 1), date(2027, 2, 1)), max_size=20)
calendars = st.builds(lambda zone, hours, holidays: Calendar(ZoneInfo(zone), hours, holidays),
                      ZONES, _weeks, _holidays)
instants = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=UTC))
amounts = st.integers(0, 20 * 24 * HOUR)


def _in_hours(calendar, instant):
    """Inside a window, closing time included."""
    day = calendar.local_date(instant)
    for candidate in (day - timedelta(days=1), day):
        window = calendar.window(candidate)
        if window and window[0] <= instant <= window[1]:
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(calendars, instants, amounts)
def test_adding_then_measuring_gives_the_amount_back(calendar, start, seconds):
    due = add(calendar, start, seconds)
    assert due >= start
    assert between(calendar, start, due) == seconds


@settings(max_examples=300, deadline=None)
@given(calendars, instants, amounts)
def test_lands_inside_business_hours_unless_zero(calendar, start, seconds):
    due = add(calendar, start, seconds)
    if seconds == 0:
        assert due == start
    else:
        assert _in_hours(calendar, due)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, amounts, amounts)
def test_monotonic_and_additive(calendar, start, first, second):
    """More seconds never land earlier; adding in two steps lands where one step does (the
    pause-and-resume a clock relies on)."""
    low, high = sorted((first, second))
    assert add(calendar, start, low) <= add(calendar, start, high)
    middle = add(calendar, start, first)
    assert add(calendar, middle, second) == add(
        calendar, start, first + second)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, instants, instants)
def test_measuring_splits_at_any_instant(calendar, a, b, c):
    start, middle, end = sorted((a, b, c))
    whole = between(calendar, start, end)
    parts = (between(calendar, start, middle)
             + between(calendar, middle, end))
    assert whole == pytest.approx(parts, abs=1e-6)  # float sums of microseconds
    assert 0 <= whole <= (end - start).total_seconds()
