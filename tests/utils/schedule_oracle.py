"""Google's cron schedule parser (the Cloud SDK's googlecron) as a test oracle.

How the comparison is made fair and exact, and what is left out of it, is
explained in tests/test_schedule.py's docstring.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytz

from cron.schedule import Schedule, ScheduleError, parse_schedule
from tests.gcloud_sdk import load_sdk_module

RUNS = 5
PYTZ_HORIZON = datetime(2037, 1, 1, tzinfo=UTC)
COMPARED_ZONES = (
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # clocks move by 30 minutes
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Chatham",
    "America/Santiago",  # clocks change at midnight
    "America/Havana",  # midnight does not exist on the day clocks go forward
    "America/Sao_Paulo",
    "Pacific/Apia",  # skipped 30 December 2011
    "Europe/Moscow",
)


@pytest.fixture(scope="module")
def groc() -> Iterator[ModuleType]:
    module = load_sdk_module("googlecloudsdk.appengine.googlecron.groctimespecification")
    with pytest.MonkeyPatch.context() as patch:
        if module.pytz is None:
            patch.setattr(module, "pytz", pytz)
            patch.setattr(module, "NonExistentTimeError", pytz.NonExistentTimeError)
            patch.setattr(module, "AmbiguousTimeError", pytz.AmbiguousTimeError)
        yield module


def google_runs(groc: ModuleType, text: str, timezone: str, start: datetime) -> list[datetime]:
    """Google's next runs before the pytz horizon; raises if Google refuses the schedule."""
    spec: Any = groc.GrocTimeSpecification(text, timezone)
    runs: list[datetime] = []
    previous = start.astimezone(pytz.utc)
    while len(runs) < RUNS:
        run = spec.GetMatch(previous)
        if run >= PYTZ_HORIZON or run <= previous:  # see the module docstring
            break
        runs.append(run.astimezone(UTC))
        previous = run
    return runs


def with_pytz_zone_data(schedule: Schedule, timezone: str) -> Schedule:
    name = str(pytz.timezone(timezone or "UTC"))
    with resources.files(pytz).joinpath("zoneinfo", *name.split("/")).open("rb") as zone_file:
        return dataclasses.replace(schedule, zone=ZoneInfo.from_file(zone_file, key=name))


def assert_same_as_google(groc: ModuleType, text: str, timezone: str, start: datetime) -> None:
    refusals = (groc.groc.GrocException, ValueError, pytz.UnknownTimeZoneError)
    try:
        expected = google_runs(groc, text, timezone, start)
    except refusals:
        with pytest.raises(ScheduleError):
            parse_schedule(text, timezone)
        return
    schedule = with_pytz_zone_data(parse_schedule(text, timezone), timezone)
    runs = schedule.next_runs(start, len(expected))
    assert runs == expected
    assert all(run.tzinfo is UTC for run in runs)


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC)
