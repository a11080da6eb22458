"""cron.schedule against Google's parser over hypothesis-generated schedules and
start times near clock changes (the oracle: tests/utils/schedule_oracle.py)."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from types import ModuleType
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.utils.schedule_oracle import (
    COMPARED_ZONES,
    assert_same_as_google,
    at,
)

CLOCK_CHANGE_HOURS = ("00:00", "00:30", "01:00", "01:30", "01:59", "02:00", "02:30", "03:00")


@st.composite
def local_times(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.sampled_from((*CLOCK_CHANGE_HOURS, "12:00", "23:30", "23:59")))
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    return (
        f"{hour}:{minute:02d}" if hour < 10 and draw(st.booleans()) else f"{hour:02d}:{minute:02d}"
    )


def comma_list(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(words, min_size=1, max_size=3).map(",".join)


ORDINALS = st.sampled_from(("1st", "first", "2nd", "second", "3rd", "third", "4th", "fifth"))
WEEKDAYS = st.sampled_from(("mon", "monday", "tue", "wed", "thursday", "fri", "sat", "sun"))
MONTHS = st.sampled_from(("jan", "february", "mar", "apr", "may", "jun", "sep", "oct", "dec"))


@st.composite
def intervals(draw: st.DrawFn) -> str:
    count = draw(st.sampled_from((1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, 1440)))
    unit = draw(st.sampled_from(("minutes", "mins", "hours")))
    ending = draw(st.sampled_from(("", " synchronized", " window")))
    if ending == " window":
        ending = f" from {draw(local_times())} to {draw(local_times())}"
    return f"every {count} {unit}{ending}"


@st.composite
def calendar_times(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        days = f"{draw(comma_list(st.integers(1, 31).map(str)))} of"
    else:
        ordinals = draw(st.one_of(st.just("every"), comma_list(ORDINALS)))
        days = f"{ordinals} {draw(st.one_of(st.just('day'), comma_list(WEEKDAYS)))}"
    months = draw(
        st.one_of(
            st.just(" of month"),
            st.just(" of quarter"),
            comma_list(MONTHS).map(" of {}".format),
            comma_list(st.sampled_from(("1st", "2nd", "third"))).map(
                " of {} month of quarter".format
            ),
            st.just(""),
        )
    )
    return f"{days}{months} {draw(local_times())}"


@functools.cache
def days_clocks_change(timezone: str, year: int) -> tuple[date, ...]:
    zone = ZoneInfo(timezone)
    days = (date(year, 1, 1) + timedelta(days=offset) for offset in range(365))
    return tuple(
        day
        for day in days
        if datetime.combine(day, time(), zone).utcoffset()
        != datetime.combine(day + timedelta(days=1), time(), zone).utcoffset()
    )


@st.composite
def zones_and_starts(draw: st.DrawFn) -> tuple[str, datetime]:
    timezone = draw(st.sampled_from(COMPARED_ZONES))
    year = draw(st.integers(1971, 2035))
    changes = days_clocks_change(timezone, year)
    near_a_change = draw(st.booleans())
    if changes and near_a_change:
        near = datetime.combine(draw(st.sampled_from(changes)), time(), UTC)
        start = near + draw(st.timedeltas(timedelta(days=-2), timedelta(days=3)))
    else:
        start = draw(
            st.datetimes(datetime(year, 1, 1), datetime(year, 12, 31), timezones=st.just(UTC))
        )
    if draw(st.booleans()):
        start = start.replace(second=0, microsecond=0)
    return timezone, start


COMPARISONS = settings(
    max_examples=500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@COMPARISONS
@given(text=st.one_of(intervals(), calendar_times()), zone_and_start=zones_and_starts())
def test_same_runs_as_google_for_generated_schedules(
    groc: ModuleType, text: str, zone_and_start: tuple[str, datetime]
) -> None:
    timezone, start = zone_and_start
    assert_same_as_google(groc, text, timezone, start)


VOCABULARY = (
    *("every", "of", "day", "month", "quarter", "hours", "mins", "minutes", "synchronized"),
    *("from", "to", ",", "1st", "first", "2nd", "third", "4th", "fifth", "mon", "monday"),
    *("tue", "wed", "sat", "sunday", "jan", "feb", "march", "may", "sep", "oct", "december"),
    *("09:00", "9:30", "23:59", "24:00", "0", "1", "5", "7", "15", "29", "30", "31", "32"),
    *("99999", "mond", "sept"),
)


@COMPARISONS
@given(
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=7),
    separator=st.sampled_from((" ", "", ",", "  ")),
)
def test_parses_exactly_what_google_parses(
    groc: ModuleType, words: list[str], separator: str
) -> None:
    assert_same_as_google(groc, separator.join(words), "UTC", at("2024-02-28T12:00"))


# Behaviour with no oracle to compare against.
