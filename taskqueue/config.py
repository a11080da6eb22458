"""Per-queue settings from queue.yaml, in App Engine's format.

    queue:
    - name: default
      rate: 100/s                 # tokens added per second (also /m, /h, /d)
      bucket_size: 100            # burst: tokens the bucket holds
      max_concurrent_requests: 50
      retry_parameters:
        task_retry_limit: 10      # retries after the first attempt
        task_age_limit: 1d        # s, m, h, d
        min_backoff_seconds: 1
        max_backoff_seconds: 600
        max_doublings: 5

Omitted values take App Engine's defaults. A queue that queue.yaml does not list
does not exist, except `default`, which App Engine always has (5/s, bucket 5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from taskqueue.backoff import RetryPolicy
from taskqueue.errors import QueueConfigError
from taskqueue.port import DEFAULT_QUEUE

PROJECT_QUEUE_YAML = Path(__file__).resolve().parents[1] / "queue.yaml"
# App Engine's limits for push queues; a queue.yaml past them would not deploy.
MAX_RATE_PER_SECOND = 500.0
MAX_BUCKET_SIZE = 500
DEFAULT_MAX_CONCURRENT = 1000  # Cloud Tasks' default max_concurrent_dispatches
_RATE = re.compile(r"(\d+(?:\.\d+)?)/([smhd])")
_AGE = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_KNOWN = {"name", "rate", "bucket_size", "max_concurrent_requests", "retry_parameters", "target"}
_KNOWN_RETRY = {
    "task_retry_limit",
    "task_age_limit",
    "min_backoff_seconds",
    "max_backoff_seconds",
    "max_doublings",
}


@dataclass(frozen=True)
class QueueConfig:
    name: str
    rate_per_second: float = 5.0
    bucket_size: int = 5
    max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def load_queue_yaml(path: Path | None = None) -> dict[str, QueueConfig]:
    path = path or PROJECT_QUEUE_YAML
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise QueueConfigError(f"cannot read {path}: {error}") from error
    return parse_queue_yaml(document, source=str(path))


def parse_queue_yaml(document: Any, source: str = "queue.yaml") -> dict[str, QueueConfig]:
    entries = (document or {}).get("queue") if isinstance(document, Mapping | None) else None
    if not isinstance(entries, list):
        raise QueueConfigError(f"{source}: expected a top-level 'queue:' list")
    queues = {DEFAULT_QUEUE: QueueConfig(DEFAULT_QUEUE)}
    seen: set[str] = set()
    for entry in entries:
        config = _queue(entry, source)
        if config.name in seen:
            raise QueueConfigError(f"{source}: queue {config.name!r} is defined twice")
        seen.add(config.name)
        queues[config.name] = config
    return queues


def _queue(entry: Any, source: str) -> QueueConfig:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        raise QueueConfigError(f"{source}: every queue needs a name: {entry!r}")
    name = entry["name"]
    where = f"{source}: queue {name!r}"
    if not re.fullmatch(r"[A-Za-z0-9-]{1,100}", name):
        raise QueueConfigError(f"{where}: a queue name is letters, digits and '-'")
    if entry.get("mode", "push") != "push":
        raise QueueConfigError(f"{where}: only push queues are supported")
    unknown = set(entry) - _KNOWN - {"mode"}
    if unknown:
        raise QueueConfigError(f"{where}: unsupported settings {sorted(unknown)}")
    rate = _rate(entry.get("rate", "5/s"), where)
    bucket = _whole(entry.get("bucket_size", 5), "bucket_size", where, low=1, high=MAX_BUCKET_SIZE)
    concurrent = _whole(
        entry.get("max_concurrent_requests", DEFAULT_MAX_CONCURRENT),
        "max_concurrent_requests",
        where,
        low=1,
        high=5000,
    )
    return QueueConfig(name, rate, bucket, concurrent, _retry(entry.get("retry_parameters"), where))


def _retry(raw: Any, where: str) -> RetryPolicy:
    if raw is None:
        return RetryPolicy()
    if not isinstance(raw, Mapping):
        raise QueueConfigError(f"{where}: retry_parameters must be a mapping")
    unknown = set(raw) - _KNOWN_RETRY
    if unknown:
        raise QueueConfigError(f"{where}: unsupported retry_parameters {sorted(unknown)}")
    defaults = RetryPolicy()
    limit = raw.get("task_retry_limit")
    age = raw.get("task_age_limit")
    try:
        return RetryPolicy(
            task_retry_limit=None if limit is None else _whole(limit, "task_retry_limit", where),
            task_age_limit=None if age is None else _age(age, where),
            min_backoff_seconds=_seconds(raw, "min_backoff_seconds", defaults, where),
            max_backoff_seconds=_seconds(raw, "max_backoff_seconds", defaults, where),
            max_doublings=_whole(
                raw.get("max_doublings", defaults.max_doublings), "max_doublings", where
            ),
        )
    except ValueError as error:
        raise QueueConfigError(f"{where}: {error}") from error


def _rate(value: Any, where: str) -> float:
    match = _RATE.fullmatch(str(value).strip())
    if match is None:
        raise QueueConfigError(f"{where}: rate must look like 5/s, 10/m, 1/h or 1/d: {value!r}")
    per_second = float(match.group(1)) / _UNIT_SECONDS[match.group(2)]
    if per_second > MAX_RATE_PER_SECOND:
        raise QueueConfigError(f"{where}: rate is at most {MAX_RATE_PER_SECOND:g}/s: {value!r}")
    return per_second


def parse_age(value: Any) -> timedelta | None:
    """An age limit as queue.yaml and cron.yaml write it (30s, 10m, 2h, 7d), or
    None when `value` is not one."""
    match = _AGE.fullmatch(str(value).strip())
    if match is None:
        return None
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _age(value: Any, where: str) -> timedelta:
    age = parse_age(value)
    if age is None:
        raise QueueConfigError(f"{where}: task_age_limit must look like 30s, 10m, 2h or 7d")
    return age


def _seconds(raw: Mapping[str, Any], key: str, defaults: RetryPolicy, where: str) -> float:
    value = raw.get(key, getattr(defaults, key))
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise QueueConfigError(f"{where}: {key} must be a number of seconds, not {value!r}")
    return float(value)


def _whole(value: Any, key: str, where: str, *, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise QueueConfigError(f"{where}: {key} must be a whole number ≥ {low}, not {value!r}")
    if high is not None and value > high:
        raise QueueConfigError(f"{where}: {key} is at most {high}, not {value}")
    return value
