"""cron.yaml as Cloud Scheduler jobs, for targets without App Engine's cron service.

    python -m deploy.scheduler --location europe-west1 \\
        --url https://photo-timeline-123456789012.europe-west1.run.app \\
        --service-account timeline-tasks@my-project.iam.gserviceaccount.com [--update]

prints one `gcloud scheduler jobs create http` (or `update http`) command per
cron.yaml entry, so that cron.yaml stays the one list of jobs on both targets.
Each job calls GET <url>/_internal/cron/<job> with an OIDC token for the service
account and the URL as audience, which is what the internal-route guard accepts
off App Engine (taskqueue/guard.py). Retries are cron.yaml's retry_parameters as
`gcloud app deploy cron.yaml` turns them into a Cloud Scheduler retry config
(cron/config.py).

Schedules are written in unix-cron form, which HTTP jobs take. App Engine's
`every N minutes|hours` counts from the previous run; the cron form counts from
the clock (`*/10 * * * *`), the same period in step with the hour. A schedule
with no such form (a period that does not divide the hour or the day, a time
window, `1st monday of ...`) is refused rather than approximated.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from datetime import time, timedelta
from pathlib import Path

from cron.config import CronEntry, load_cron_yaml
from cron.grammar import ALL_MONTHS, CalendarSpec, IntervalSpec
from deploy.commands import backoff_flags, print_commands
from taskqueue.backoff import RetryPolicy

JOB_PREFIX = "timeline-"
# Cloud Run's request timeout (service.yaml timeoutSeconds): a run may take that long.
ATTEMPT_DEADLINE = "300s"
_ALL_DAY = (time(0, 0), time(23, 59))  # `synchronized` (cron/grammar.py)
_ALL_ORDINALS = frozenset(range(1, 6))


class UnschedulableError(ValueError):
    """A cron.yaml schedule that unix-cron cannot say exactly."""


def unix_cron(spec: IntervalSpec | CalendarSpec) -> str:
    """`minute hour day-of-month month day-of-week`, as Cloud Scheduler reads it."""
    if isinstance(spec, IntervalSpec):
        return _interval(spec)
    if spec.ordinals != _ALL_ORDINALS and not spec.monthdays:
        raise UnschedulableError("'1st/2nd/... <weekday> of' has no unix-cron form")
    months = "*" if spec.months == ALL_MONTHS else _numbers(spec.months)
    if spec.monthdays:
        days, weekdays = _numbers(spec.monthdays), "*"
    elif spec.weekdays == frozenset(range(7)):
        days, weekdays = "*", "*"
    else:  # ours count from Monday = 0, unix-cron's from Sunday = 0
        days, weekdays = "*", _numbers(frozenset((day + 1) % 7 for day in spec.weekdays))
    return f"{spec.at.minute} {spec.at.hour} {days} {months} {weekdays}"


def _interval(spec: IntervalSpec) -> str:
    if spec.window not in (None, _ALL_DAY):
        raise UnschedulableError("a 'from HH:MM to HH:MM' window has no unix-cron form")
    minutes = int(spec.period / timedelta(minutes=1))
    if spec.period != timedelta(minutes=minutes):
        raise UnschedulableError(f"a period of {spec.period} is not whole minutes")
    if minutes < 60 and 60 % minutes == 0:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    hours, rest = divmod(minutes, 60)
    if rest == 0 and 24 % hours == 0:
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    raise UnschedulableError(f"every {minutes} minutes does not divide the hour or the day")


def _numbers(values: frozenset[int]) -> str:
    return ",".join(str(value) for value in sorted(values))


def job_command(
    entry: CronEntry, *, location: str, url: str, service_account: str, update: bool = False
) -> list[str]:
    """One job's gcloud command, as arguments."""
    base = url.rstrip("/")
    command = ["gcloud", "scheduler", "jobs", "update" if update else "create", "http"]
    command += [JOB_PREFIX + entry.job.replace("_", "-"), f"--location={location}"]
    command += [
        f"--schedule={unix_cron(entry.schedule.spec)}",
        f"--time-zone={entry.schedule.zone.key}",
        f"--uri={base}{entry.url}",
        "--http-method=get",
        f"--oidc-service-account-email={service_account}",
        f"--oidc-token-audience={base}",
        f"--attempt-deadline={ATTEMPT_DEADLINE}",
    ]
    if entry.description:
        command.append(f"--description={entry.description}")
    return command + _retry_flags(entry.retry)


def _retry_flags(retry: RetryPolicy) -> list[str]:
    flags = [f"--max-retry-attempts={retry.task_retry_limit or 0}"]
    if not retry.task_retry_limit and retry.task_age_limit is None:
        return flags  # no retry_parameters: a failed run waits for its next slot
    return flags + backoff_flags(retry)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.scheduler", description=__doc__)
    parser.add_argument("--location", required=True, help="the Cloud Scheduler region")
    parser.add_argument("--url", required=True, help="the service's base URL (https://...)")
    parser.add_argument("--service-account", required=True, help="whom the OIDC token names")
    parser.add_argument("--cron-yaml", type=Path, default=None, help="default: cron.yaml")
    parser.add_argument("--update", action="store_true", help="update existing jobs instead")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"https://[^/\s]+", args.url.rstrip("/")):
        parser.error(f"--url must be https://host, not {args.url!r}")
    try:
        commands = [
            job_command(
                entry,
                location=args.location,
                url=args.url,
                service_account=args.service_account,
                update=args.update,
            )
            for entry in load_cron_yaml(args.cron_yaml)
        ]
    except UnschedulableError as error:
        parser.error(str(error))
    print_commands(commands)


if __name__ == "__main__":
    main()
