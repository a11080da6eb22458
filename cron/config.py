"""cron.yaml in App Engine's format, read for the embedded scheduler.

    cron:
    - description: "fold sharded counters"    # optional, at most 499 characters
      url: /_internal/cron/fold_counters      # /_internal/cron/<job>, a registered job
      schedule: every 10 minutes              # cron/schedule.py: App Engine's grammar
      timezone: Europe/London                 # optional; UTC when omitted
      target: default                         # optional; this app is one service
      retry_parameters:                       # optional: without it, no retries
        job_retry_limit: 2                    # retries after the first attempt, 0..5
        job_age_limit: 30m                    # s, m, h, d, counted from the first attempt
        min_backoff_seconds: 10
        max_backoff_seconds: 300
        max_doublings: 3

Retry parameters mean what `gcloud app deploy cron.yaml` makes of them: it turns
each entry into a Cloud Scheduler job (googlecloudsdk/api_lib/tasks/
app_deploy_migration_util.py). Without retry_parameters a failed run is not
retried. With them, omitted values become 0.1 s, 3600 s and 16 doublings, no age
limit and a retry count of 0 (Cloud Scheduler's default), and a failed run is
retried until every limit given is spent: so `job_age_limit` alone retries for that
long, and `job_retry_limit` above 5 is refused as the deploy refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from cron.schedule import Schedule, ScheduleError, parse_schedule
from taskqueue.backoff import RetryPolicy
from taskqueue.config import parse_age
from taskqueue.errors import TaskError

PROJECT_CRON_YAML = Path(__file__).resolve().parents[1] / "cron.yaml"
CRON_URL_PREFIX = "/_internal/cron/"
MAX_JOB_RETRY_LIMIT = 5  # Cloud Scheduler's limit, enforced by `gcloud app deploy`
# gcloud's CRON_JOB_LEGACY_DEFAULT_VALUES, used once any retry parameter is given.
DEFAULT_MIN_BACKOFF_SECONDS = 0.1
DEFAULT_MAX_BACKOFF_SECONDS = 3600.0
DEFAULT_MAX_DOUBLINGS = 16
_JOB = re.compile(r"[a-z][a-z0-9_]{0,99}")  # as taskqueue/registry.py names jobs
_KNOWN = {"url", "schedule", "timezone", "description", "target", "retry_parameters"}
_KNOWN_RETRY = {
    "job_retry_limit",
    "job_age_limit",
    "min_backoff_seconds",
    "max_backoff_seconds",
    "max_doublings",
}


class CronConfigError(TaskError):
    """cron.yaml is malformed, or names a URL the scheduler cannot call."""


@dataclass(frozen=True)
class CronEntry:
    job: str
    schedule: Schedule
    retry: RetryPolicy
    description: str | None = None
    target: str | None = None

    @property
    def url(self) -> str:
        return CRON_URL_PREFIX + self.job


# Without retry_parameters: a failed run waits for its next slot.
NO_RETRIES = RetryPolicy(task_retry_limit=0)


def load_cron_yaml(path: Path | None = None) -> list[CronEntry]:
    path = path or PROJECT_CRON_YAML
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise CronConfigError(f"cannot read {path}: {error}") from error
    return parse_cron_yaml(document, source=str(path))


def parse_cron_yaml(document: Any, source: str = "cron.yaml") -> list[CronEntry]:
    if not isinstance(document, Mapping) or set(document) - {"cron", "application"}:
        raise CronConfigError(f"{source}: expected a mapping with a top-level 'cron:' list")
    raw = document.get("cron") or []
    if not isinstance(raw, list):
        raise CronConfigError(f"{source}: 'cron:' must be a list of jobs")
    entries: list[CronEntry] = []
    for position, item in enumerate(raw, start=1):
        entry = _entry(item, f"{source}: entry {position}")
        if any(known.job == entry.job for known in entries):
            # The scheduler keeps its slots per job, so two schedules for one job
            # would take turns overwriting each other's.
            raise CronConfigError(f"{source}: job {entry.job!r} is scheduled twice")
        entries.append(entry)
    return entries


def _entry(item: Any, where: str) -> CronEntry:
    if not isinstance(item, Mapping):
        raise CronConfigError(f"{where}: expected a mapping, got {item!r}")
    unknown = set(item) - _KNOWN
    if unknown:
        raise CronConfigError(f"{where}: unsupported settings {sorted(unknown)}")
    url = item.get("url")
    if not isinstance(url, str) or not url.startswith(CRON_URL_PREFIX):
        raise CronConfigError(f"{where}: url must be {CRON_URL_PREFIX}<job>, not {url!r}")
    job = url.removeprefix(CRON_URL_PREFIX)
    if not _JOB.fullmatch(job):
        raise CronConfigError(f"{where}: {job!r} is not a job name ({_JOB.pattern})")
    where = f"{where} ({job})"
    schedule, timezone = item.get("schedule"), item.get("timezone") or "UTC"
    if not isinstance(schedule, str) or not isinstance(timezone, str):
        raise CronConfigError(f"{where}: schedule and timezone must be strings")
    try:
        parsed = parse_schedule(schedule, timezone)
    except ScheduleError as error:
        raise CronConfigError(f"{where}: {error}") from error
    description, target = item.get("description"), item.get("target")
    if description is not None and (not isinstance(description, str) or len(description) > 499):
        raise CronConfigError(f"{where}: description must be a string of at most 499 characters")
    if target is not None and not isinstance(target, str):
        raise CronConfigError(f"{where}: target must be a string")
    return CronEntry(job, parsed, _retry(item.get("retry_parameters"), where), description, target)


def _retry(raw: Any, where: str) -> RetryPolicy:
    if raw is None:
        return NO_RETRIES
    if not isinstance(raw, Mapping):
        raise CronConfigError(f"{where}: retry_parameters must be a mapping")
    unknown = set(raw) - _KNOWN_RETRY
    if unknown:
        raise CronConfigError(f"{where}: unsupported retry_parameters {sorted(unknown)}")
    limit = _whole(raw.get("job_retry_limit", 0), "job_retry_limit", where)
    if limit > MAX_JOB_RETRY_LIMIT:
        raise CronConfigError(f"{where}: job_retry_limit is at most {MAX_JOB_RETRY_LIMIT}")
    age = raw.get("job_age_limit")
    low, high = _backoffs(raw, where)
    return RetryPolicy(
        task_retry_limit=limit,
        task_age_limit=None if age is None else _age(age, where),
        min_backoff_seconds=low,
        max_backoff_seconds=high,
        max_doublings=_whole(
            raw.get("max_doublings", DEFAULT_MAX_DOUBLINGS), "max_doublings", where
        ),
    )


def _backoffs(raw: Mapping[str, Any], where: str) -> tuple[float, float]:
    """gcloud's rule (_ReplaceDefaultRetryParamsForYamlJob): a backoff left out takes
    its default, moved so that min <= max; both given the wrong way round is refused."""
    low = _seconds(raw.get("min_backoff_seconds"), "min_backoff_seconds", where)
    high = _seconds(raw.get("max_backoff_seconds"), "max_backoff_seconds", where)
    if low is not None and high is not None:
        if low > high:
            raise CronConfigError(f"{where}: min_backoff_seconds exceeds max_backoff_seconds")
        return low, high
    if low is None and high is None:
        return DEFAULT_MIN_BACKOFF_SECONDS, DEFAULT_MAX_BACKOFF_SECONDS
    low = low or DEFAULT_MIN_BACKOFF_SECONDS  # gcloud replaces a 0 as well
    if high:
        low = min(low, high)
    high = DEFAULT_MAX_BACKOFF_SECONDS if high is None else high
    return low, max(low, high)


def _age(value: Any, where: str) -> timedelta:
    age = parse_age(value)
    if age is None:
        raise CronConfigError(f"{where}: job_age_limit must look like 30s, 10m, 2h or 7d")
    if age.total_seconds() < 1:
        raise CronConfigError(f"{where}: job_age_limit must be at least a second")
    return age


def _seconds(value: Any, key: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise CronConfigError(f"{where}: {key} must be a number of seconds, not {value!r}")
    return float(value)


def _whole(value: Any, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CronConfigError(f"{where}: {key} must be a whole number ≥ 0, not {value!r}")
    return value
