"""taskRuns: the run log, for admins only, in the admin schema at /admin/graphql."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from auth.dev_tokens import key_path_in, mint_dev_token
from settings import Settings, TaskSettings
from store.sqlite import SQLiteStore
from taskqueue.headers import app_engine_task_headers
from tests.utils.accounts import call
from tests.utils.clients import serving
from tests.utils.tasks_app import TaskHarness, running_app

ADMIN = "/admin/graphql"
TASK_RUNS = """query($failedOnly: Boolean, $first: Int) {
  taskRuns(failedOnly: $failedOnly, first: $first) {
    kind name queue taskName attempt status startedAt durationMs error
  }
}"""


def bearer(var_dir: Path, user: str, *, admin: bool = False) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_dev_token(key_path_in(var_dir), user, admin=admin)}"}


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[TaskHarness]:
    async with running_app(tmp_path, cron_scheduler=False) as harness:
        # Two real runs through the guarded routes: a cron job, then a failing task.
        cron = await harness.http.get(
            "/_internal/cron/prune_idempotency_records", headers=harness.secret_headers
        )
        assert cron.status_code == 200
        failing = await harness.http.post(
            "/_internal/tasks/test_always_fails",
            headers={
                **app_engine_task_headers("default", "t-7", 2, 2, time.time()),
                **harness.secret_headers,
            },
            json={"key": "k"},
        )
        assert failing.status_code == 500
        yield harness


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def test_an_admin_sees_the_runs_newest_first(harness: TaskHarness, tmp_path: Path) -> None:
    admin = bearer(tmp_path, "root", admin=True)
    body = await call(harness.http, TASK_RUNS, {}, admin, path=ADMIN)
    assert "errors" not in body, body
    failed, cron = body["data"]["taskRuns"]
    assert (failed["kind"], failed["name"], failed["status"]) == (
        "TASK",
        "test_always_fails",
        "ERROR",
    )
    assert (failed["queue"], failed["taskName"], failed["attempt"]) == ("default", "t-7", 3)
    assert failed["error"].startswith("ValueError: this handler always fails")
    assert (cron["kind"], cron["name"], cron["status"], cron["attempt"]) == (
        "CRON",
        "prune_idempotency_records",
        "DONE",
        1,
    )
    assert (cron["queue"], cron["taskName"], cron["error"]) == (None, None, None)
    assert cron["durationMs"] >= 0
    assert cron["startedAt"] <= failed["startedAt"]

    only_failed = await call(harness.http, TASK_RUNS, {"failedOnly": True}, admin, path=ADMIN)
    assert [run["name"] for run in only_failed["data"]["taskRuns"]] == ["test_always_fails"]
    newest = await call(harness.http, TASK_RUNS, {"first": 1}, admin, path=ADMIN)
    assert [run["name"] for run in newest["data"]["taskRuns"]] == ["test_always_fails"]
    defaults = await call(
        harness.http, TASK_RUNS, {"failedOnly": None, "first": None}, admin, path=ADMIN
    )
    assert len(defaults["data"]["taskRuns"]) == 2
    for first in (0, 501):
        refused = await call(harness.http, TASK_RUNS, {"first": first}, admin, path=ADMIN)
        assert codes(refused) == ["BAD_USER_INPUT"]


async def test_others_are_refused(harness: TaskHarness, tmp_path: Path) -> None:
    signed_in = await call(harness.http, TASK_RUNS, {}, bearer(tmp_path, "alice"), path=ADMIN)
    assert codes(signed_in) == ["FORBIDDEN"]
    assert signed_in["data"] is None
    anonymous = await call(harness.http, TASK_RUNS, {}, path=ADMIN)
    assert codes(anonymous) == ["UNAUTHENTICATED"]


async def test_the_public_schema_has_no_admin_fields(harness: TaskHarness, tmp_path: Path) -> None:
    public = await call(harness.http, TASK_RUNS, {}, bearer(tmp_path, "root", admin=True))
    assert codes(public) == ["GRAPHQL_VALIDATION_FAILED"]
    assert public["errors"][0]["message"].startswith("Cannot query field 'taskRuns'")


async def test_on_app_engine_the_answer_says_where_the_runs_are(tmp_path: Path) -> None:
    # Production keeps runs as structured log lines; the run log cannot list them.
    settings = Settings(
        environment="production",
        app_engine=True,
        var_dir=tmp_path,
        sqlite_path=tmp_path / "timeline.db",
        secret_key=b"k" * 48,
        tasks=TaskSettings(
            backend="cloudtasks", cloud_location="us-central1", emulator_host="127.0.0.1:9"
        ),
    )
    app = create_app(settings, store=SQLiteStore(settings.sqlite_path))
    async with serving(app, "http://t") as http:
        body = await call(http, TASK_RUNS, {}, bearer(tmp_path, "root", admin=True), path=ADMIN)
    assert codes(body) == ["RUN_LOG_UNAVAILABLE"]
    assert "Cloud Logging" in body["errors"][0]["message"]
