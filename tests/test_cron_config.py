"""cron.yaml: the project's file, the loader's rules, and the settings that wire it in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import tasks.runtime  # noqa: F401  (imports every module whose jobs the app registers)
import tests.utils.cron  # noqa: F401  (registers the test jobs)
from app import create_app
from cron.config import (
    NO_RETRIES,
    PROJECT_CRON_YAML,
    CronConfigError,
    load_cron_yaml,
    parse_cron_yaml,
)
from settings import Settings, SettingsError, TaskSettings, load_settings
from store.sqlite import SQLiteStore
from taskqueue.backoff import RetryPolicy
from taskqueue.registry import cron_jobs
from tests.utils.tasks_app import eventually, running_app

PROJECT_JOBS = {
    "prune_idempotency_records",
    "reclaim_stray_blobs",
    "fold_counters",
    "daily_digest",
    "sweep_fan_in",
    "relay_outbox",
}


def test_every_cron_yaml_url_names_a_registered_job() -> None:
    scheduled = {entry.job for entry in load_cron_yaml(PROJECT_CRON_YAML)}
    assert scheduled == PROJECT_JOBS
    unregistered = sorted(job for job in scheduled if cron_jobs.get(job) is None)
    assert unregistered == [], "cron.yaml calls URLs that would answer 404"


def test_the_project_schedules() -> None:
    entries = {entry.job: entry for entry in load_cron_yaml()}
    assert entries["prune_idempotency_records"].schedule.text == "every 1 hours"
    assert entries["reclaim_stray_blobs"].schedule.text == "every day 03:30"
    assert entries["fold_counters"].schedule.text == "every 10 minutes"
    assert entries["fold_counters"].retry == NO_RETRIES
    assert entries["daily_digest"].schedule.text == "every day 09:00"
    assert entries["daily_digest"].url == "/_internal/cron/daily_digest"
    assert entries["relay_outbox"].schedule.text == "every 1 minutes"


def one(**item: Any) -> dict[str, Any]:
    return {"cron": [{"url": "/_internal/cron/job_a", "schedule": "every 5 minutes", **item}]}


@pytest.mark.parametrize(
    ("retry", "policy"),
    [
        # No retry_parameters: Cloud Scheduler's retry count of 0.
        (None, RetryPolicy(task_retry_limit=0)),
        # gcloud's CRON_JOB_LEGACY_DEFAULT_VALUES fill in what is left out.
        ({"job_retry_limit": 3}, RetryPolicy(3, None, 0.1, 3600, 16)),
        ({"job_age_limit": "2h"}, RetryPolicy(0, timedelta(hours=2), 0.1, 3600, 16)),
        ({"max_backoff_seconds": 0.05}, RetryPolicy(0, None, 0.05, 0.05, 16)),
        ({"min_backoff_seconds": 7200}, RetryPolicy(0, None, 7200, 7200, 16)),
        ({"min_backoff_seconds": 0}, RetryPolicy(0, None, 0.1, 3600, 16)),
        (
            {"job_retry_limit": 5, "min_backoff_seconds": 2.5, "max_doublings": 0},
            RetryPolicy(5, None, 2.5, 3600, 0),
        ),
    ],
)
def test_retry_parameters_mean_what_gcloud_deploys(
    retry: dict[str, Any] | None, policy: RetryPolicy
) -> None:
    document = one() if retry is None else one(retry_parameters=retry)
    (entry,) = parse_cron_yaml(document)
    assert entry.retry == policy


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (one(url="/tasks/summary"), "url must be /_internal/cron/<job>"),
        (one(url="/_internal/cron/Bad-Name"), "is not a job name"),
        (one(schedule="every 2 hrs"), "unrecognised 'hrs'"),
        (one(timezone="Mars/Olympus_Mons"), "unknown time zone"),
        (one(retry_parameters={"job_retry_limit": 6}), "at most 5"),
        (one(retry_parameters={"job_age_limit": "0s"}), "at least a second"),
        (one(retry_parameters={"job_age_limit": 30}), "job_age_limit must look like"),
        (one(retry_parameters={"min_backoff_seconds": 9, "max_backoff_seconds": 1}), "exceeds"),
        (one(retry_parameters={"task_retry_limit": 1}), "unsupported retry_parameters"),
        (one(retries=3), "unsupported settings"),
        (one(description="x" * 500), "at most 499"),
        ({"cron": [one()["cron"][0], one()["cron"][0]]}, "scheduled twice"),
        ({"queue": []}, "top-level 'cron:'"),
    ],
)
def test_a_malformed_cron_yaml_is_refused_with_a_reason(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(CronConfigError, match=message):
        parse_cron_yaml(document)


def test_an_unreadable_cron_yaml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(CronConfigError, match="cannot read"):
        load_cron_yaml(tmp_path / "missing.yaml")


def test_settings_for_the_scheduler(tmp_path: Path) -> None:
    local = load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)})
    assert local.tasks.cron_scheduler
    assert local.tasks.cron_yaml is None
    chosen = load_settings(
        {
            "TIMELINE_ENV": "local",
            "TIMELINE_VAR_DIR": str(tmp_path),
            "TIMELINE_CRON_SCHEDULER": "0",
            "TIMELINE_CRON_YAML": "ops/cron.yaml",
        }
    )
    assert not chosen.tasks.cron_scheduler
    assert chosen.tasks.cron_yaml == Path("ops/cron.yaml")
    production = {
        "GAE_ENV": "standard",
        "GOOGLE_CLOUD_PROJECT": "photo-timeline",
        "TIMELINE_SECRET_KEY": "s" * 48,
    }
    assert not load_settings(production).tasks.cron_scheduler
    with pytest.raises(SettingsError, match="App Engine's cron service"):
        load_settings({**production, "TIMELINE_CRON_SCHEDULER": "1"})


async def test_the_app_runs_the_scheduler_with_registered_jobs_only(tmp_path: Path) -> None:
    cron_yaml = tmp_path / "cron.yaml"
    cron_yaml.write_text(
        "cron:\n"
        "- url: /_internal/cron/test_cron_a\n  schedule: every day 09:00\n"
        "- url: /_internal/cron/nobody_home\n  schedule: every 5 minutes\n"
    )
    async with running_app(tmp_path, cron_yaml=cron_yaml) as harness:
        scheduler, db = harness.runtime.scheduler, harness.runtime.db
        assert scheduler is not None
        assert db is not None
        assert scheduler.jobs == ["test_cron_a"]

        async def noted() -> bool:
            rows = await db.read(
                lambda conn: conn.execute(
                    "SELECT name FROM sqlite_master WHERE name = 'cron_slots'"
                ).fetchall()
            )
            if not rows:
                return False
            jobs = await db.read(lambda conn: conn.execute("SELECT job FROM cron_slots").fetchall())
            return jobs == [("test_cron_a",)]

        await eventually(noted, what="the lifespan's scheduler to note its job")


async def test_no_scheduler_on_app_engine_or_when_switched_off(tmp_path: Path) -> None:
    async with running_app(tmp_path, cron_scheduler=False) as harness:
        assert harness.runtime.scheduler is None
    on_app_engine = Settings(
        environment="production",
        app_engine=True,
        var_dir=tmp_path,
        sqlite_path=tmp_path / "unused.db",
        secret_key=b"k" * 48,
        tasks=TaskSettings(
            backend="cloudtasks", cloud_location="us-central1", emulator_host="127.0.0.1:9"
        ),
    )
    assert on_app_engine.tasks.cron_scheduler, "even when asked for"
    store = SQLiteStore(tmp_path / "unused.db")
    try:
        assert create_app(on_app_engine, store=store).state.tasks.scheduler is None
    finally:
        await store.close()
