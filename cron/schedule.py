"""When an App Engine cron job runs: a cron.yaml `schedule` in its `timezone`.

    >>> schedule = parse_schedule("every monday 09:00", "Europe/London")
    >>> schedule.next_after(datetime(2024, 3, 29, tzinfo=UTC))
    datetime.datetime(2024, 4, 1, 8, 0, tzinfo=datetime.timezone.utc)

The run times are those of Google's implementation (googlecron in the Cloud SDK),
daylight saving time included:

- a day's run whose local time is skipped when clocks go forward does not happen;
  one whose local time occurs twice runs at the first occurrence, or at the second
  if the first is already past;
- a `from`/`to` window edge that is skipped opens or closes at the first minute that
  exists, and one that occurs twice at its first occurrence;
- `every N minutes|hours` steps in real (UTC) time from the window's opening, and
  without a window from the previous run: N later, with the seconds dropped.

Where gcloud's copy of that code misbehaves we do what it means to do: a window
open for over 24 hours (the day clocks go back) still yields a run after the
start, not before it; in zones whose tz data calls winter time "daylight saving"
(Europe/Dublin) a repeated time still runs at its first occurrence; and a schedule
that can never run again raises ScheduleError instead of searching forever.
"""

from __future__ import annotations

import calendar
import functools
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from cron.grammar import CalendarSpec, IntervalSpec, ScheduleError, parse_spec

__all__ = ["Schedule", "ScheduleError", "parse_schedule"]

# The calendar repeats every 400 years, so a schedule with no run in that span never
# runs again (e.g. "2nd sun of mar 02:30" in New York, skipped every year).
_SEARCH_YEARS = 400


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule; every datetime it returns is aware and in UTC."""

    text: str
    zone: zoneinfo.ZoneInfo
    spec: IntervalSpec | CalendarSpec

    def next_after(self, when: datetime) -> datetime:
        """The first run strictly after `when`, which must be timezone-aware."""
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError(f"when must be timezone-aware, got {when!r}")
        instant = when.astimezone(UTC)
        spec = self.spec
        if isinstance(spec, CalendarSpec):
            run = _next_calendar_run(instant, spec, self.zone)
            if run is None:
                raise ScheduleError(
                    f"schedule {self.text!r} never runs after {instant.isoformat()}"
                )
            return run
        if spec.window is None:
            return _next_tick(instant, spec.period)
        opens, closes = spec.window
        return _next_in_window(instant, spec.period, opens, closes, self.zone)

    def next_runs(self, when: datetime, count: int) -> list[datetime]:
        """The first `count` runs after `when`, in order."""
        runs: list[datetime] = []
        for _ in range(count):
            when = self.next_after(when)
            runs.append(when)
        return runs


def parse_schedule(text: str, timezone: str = "UTC") -> Schedule:
    """Parse a cron.yaml `schedule` and `timezone` (an IANA name; empty means UTC).

    Raises ScheduleError, naming the problem, for either one being invalid.
    """
    return Schedule(text, _load_zone(timezone), parse_spec(text))


def _load_zone(name: str) -> zoneinfo.ZoneInfo:
    # gcloud validates `timezone` with pytz: tz database names, in any case.
    canonical = _zone_names_by_lower_case().get((name or "UTC").lower())
    if canonical is None:
        raise ScheduleError(f"unknown time zone {name!r}")
    return zoneinfo.ZoneInfo(canonical)


@functools.cache
def _zone_names_by_lower_case() -> dict[str, str]:
    # "localtime" (this machine's zone) and "Factory" (a placeholder) are files in
    # the system's zone folder but not zones pytz knows.
    names = zoneinfo.available_timezones() - {"localtime", "Factory"}
    return {name.lower(): name for name in names}


def _next_tick(when: datetime, period: timedelta) -> datetime:
    tick = when + period
    # Google drops the seconds but keeps any microseconds; so do we, to agree exactly.
    return tick - timedelta(seconds=tick.second)


def _next_in_window(
    when: datetime, period: timedelta, opens: time, closes: time, zone: zoneinfo.ZoneInfo
) -> datetime:
    """The next tick of `period` counted from the latest opening, if still in the window."""
    opened = _latest_at_or_before(when, opens, zone)
    tick = opened + ((when - opened) // period + 1) * period
    next_opening = _earliest_after(when, opens, zone)
    if (
        _in_window(when, opens, closes, zone)
        and _in_window(tick, opens, closes, zone)
        and tick < next_opening
    ):
        return tick
    return next_opening


def _in_window(instant: datetime, opens: time, closes: time, zone: zoneinfo.ZoneInfo) -> bool:
    """Whether the window opened more recently than it closed; the closing minute counts.

    Comparing the latest opening with the latest close handles windows that wrap past
    midnight ("from 22:00 to 02:00") without a special case.
    """
    last_opened = _latest_at_or_before(instant, opens, zone)
    last_closed = _latest_at_or_before(instant, closes, zone)
    return last_opened > last_closed or instant == last_closed


def _latest_at_or_before(instant: datetime, wall: time, zone: zoneinfo.ZoneInfo) -> datetime:
    day = instant.astimezone(zone).date()
    while (candidate := _window_edge(day, wall, zone)) > instant:
        day -= timedelta(days=1)
    return candidate


def _earliest_after(instant: datetime, wall: time, zone: zoneinfo.ZoneInfo) -> datetime:
    day = instant.astimezone(zone).date()
    while (candidate := _window_edge(day, wall, zone)) <= instant:
        day += timedelta(days=1)
    return candidate


def _window_edge(day: date, wall: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """When `day` reaches `wall` local time: its first occurrence, or if clocks skip
    it, the first minute after it that exists."""
    local = datetime.combine(day, wall)
    while not (instants := _instants_showing(local, zone)):
        local += timedelta(minutes=1)
    return instants[0]


def _instants_showing(local: datetime, zone: zoneinfo.ZoneInfo) -> list[datetime]:
    """The UTC instants at which clocks in `zone` show `local`, earliest first: none in
    a gap when they go forward, two in the hour they go back."""
    instants: list[datetime] = []
    for fold in (0, 1):
        instant = local.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        shown = instant.astimezone(zone).replace(tzinfo=None)
        if shown == local and instant not in instants:
            instants.append(instant)
    return sorted(instants)


def _next_calendar_run(
    when: datetime, spec: CalendarSpec, zone: zoneinfo.ZoneInfo
) -> datetime | None:
    today = when.astimezone(zone).date()
    for year, month in _months_from(today):
        if month not in spec.months:
            continue
        for day in _matching_days(spec, year, month):
            if date(year, month, day) < today:
                continue
            instants = _instants_showing(datetime.combine(date(year, month, day), spec.at), zone)
            if not instants:
                continue  # skipped when the clocks went forward
            run = instants[0] if when < instants[0] else instants[-1]
            if run > when:
                return run
    return None


def _months_from(start: date) -> Iterator[tuple[int, int]]:
    """(year, month) pairs from the month of `start` on, for _SEARCH_YEARS years."""
    first = start.year * 12 + start.month - 1
    for year, month_index in (
        divmod(index, 12) for index in range(first, first + 12 * _SEARCH_YEARS)
    ):
        if year > datetime.max.year:
            return
        yield year, month_index + 1


def _matching_days(spec: CalendarSpec, year: int, month: int) -> list[int]:
    """Days of the month that match, in order: listed days that exist, or the
    chosen occurrences (1st..5th) of the chosen weekdays."""
    first_weekday, month_length = calendar.monthrange(year, month)
    if spec.monthdays:
        return sorted(day for day in spec.monthdays if day <= month_length)
    days = (
        (weekday - first_weekday) % 7 + 1 + 7 * (ordinal - 1)
        for weekday in spec.weekdays
        for ordinal in spec.ordinals
    )
    return sorted(day for day in days if day <= month_length)
