"""Task admin on the embedded queue, through the admin schema at /admin/graphql:
pending tasks, delete, purge (while the workers dispatch), pause and resume
(across a restart of the runtime)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from store.port import Query
from tests.test_cron_admin import bearer, codes
from tests.utils.accounts import call
from tests.utils.tasks_app import (
    DELIVERY,
    TaskHarness,
    deliveries,
    effect_count,
    eventually,
    running_app,
)

ADMIN = "/admin/graphql"
PENDING = """query($queue: String!, $first: Int) {
  pendingTasks(queue: $queue, first: $first) { name queue handler eta attempts }
}"""
QUEUES = "{ taskQueues { name paused } }"
DELETE = """mutation($queue: String!, $name: String!) {
  deleteTask(queue: $queue, name: $name) { queue name }
}"""
PURGE = """mutation($queue: String!) {
  purgeQueue(queue: $queue) { queue purged running }
}"""
PAUSE = "mutation($queue: String!) { pauseQueue(queue: $queue) { name paused } }"
RESUME = "mutation($queue: String!) { resumeQueue(queue: $queue) { name paused } }"


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[TaskHarness]:
    async with running_app(tmp_path, cron_scheduler=False) as harness:
        yield harness


async def admin_call(
    harness: TaskHarness, document: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    var_dir = harness.app.state.settings.var_dir
    body = await call(
        harness.http, document, variables, bearer(var_dir, "root", admin=True), path=ADMIN
    )
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def states(harness: TaskHarness) -> dict[str, str]:
    return {row.name: row.state for row in await harness.task_rows()}


async def all_deliveries(harness: TaskHarness) -> list[dict[str, Any]]:
    results = await harness.store.page(Query(DELIVERY, order_by="sort"), limit=100_000)
    return [dict(result.entity.properties) for result in results]


async def settle(harness: TaskHarness, queue: str) -> None:
    """Once every started attempt has been logged, a task enqueued after the longest
    backoff of the tests' queues (0.2 s) has run: whatever was still due to run on
    `queue` (a retry included) has been claimed before it."""
    started = await all_deliveries(harness)

    async def attempts_logged() -> bool:
        return len([r for r in await harness.runs() if r.kind == "task"]) >= len(started)

    await eventually(attempts_logged, what="every started attempt to end")
    await harness.tasks.enqueue(
        "test_effect", {"key": f"sentinel-{queue}"}, queue=queue, countdown=0.5
    )

    async def sentinel_ran() -> bool:
        return await effect_count(harness.store, f"sentinel-{queue}") == 1

    await eventually(sentinel_ran, what=f"a task enqueued on {queue} after the others")


async def test_an_admin_lists_pending_tasks_with_eta_and_attempts(harness: TaskHarness) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    later = tomorrow.replace(microsecond=tomorrow.microsecond // 1000 * 1000)
    await harness.tasks.enqueue("test_noop", {}, name="later-1", eta=later)
    await harness.tasks.enqueue("test_effect", {"key": "slow", "seconds": 0.5}, name="slow-1")

    async def started() -> bool:
        return bool(await deliveries(harness.store, "slow"))

    await eventually(started, what="the slow task to start")
    data = await admin_call(harness, PENDING, {"queue": "default"})
    assert data["pendingTasks"][1] == {
        "name": "later-1",
        "queue": "default",
        "handler": "test_noop",
        "eta": later.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z",
        "attempts": 0,
    }
    running = data["pendingTasks"][0]
    assert (running["name"], running["handler"], running["attempts"]) == (
        "slow-1",
        "test_effect",
        1,
    )
    first = await admin_call(harness, PENDING, {"queue": "default", "first": 1})
    assert [task["name"] for task in first["pendingTasks"]] == ["slow-1"]
    assert (await admin_call(harness, PENDING, {"queue": "retries"}))["pendingTasks"] == []


async def test_a_deleted_task_never_runs_and_its_name_stays_taken(harness: TaskHarness) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=0.3)
    await harness.tasks.enqueue("test_effect", {"key": "doomed"}, name="doomed-1", eta=soon)
    unnamed = await harness.tasks.enqueue("test_effect", {"key": "doomed-too"}, eta=soon)
    for name in ("doomed-1", unnamed.name):
        data = await admin_call(harness, DELETE, {"queue": "default", "name": name})
        assert data["deleteTask"] == {"queue": "default", "name": name}
    # The outbox's relay or sweeper adding it again is collapsed, as a finished name is.
    again = await harness.tasks.enqueue("test_effect", {"key": "doomed"}, name="doomed-1")
    assert not again.created
    await settle(harness, "default")
    assert await deliveries(harness.store, "doomed") == []
    assert await deliveries(harness.store, "doomed-too") == []
    assert (await states(harness)).get("doomed-1") == "deleted"
    assert unnamed.name not in await states(harness)


async def test_a_running_task_that_is_deleted_finishes_its_attempt_but_is_not_retried(
    harness: TaskHarness,
) -> None:
    payload = {"key": "cut", "seconds": 0.3, "fail_times": 1}
    await harness.tasks.enqueue("test_effect", payload, name="cut-1")

    async def started() -> bool:
        return bool(await deliveries(harness.store, "cut"))

    await eventually(started, what="the task to start")
    await admin_call(harness, DELETE, {"queue": "default", "name": "cut-1"})
    await settle(harness, "default")
    assert len(await deliveries(harness.store, "cut")) == 1  # failed, and not tried again
    assert (await states(harness))["cut-1"] == "deleted"


async def test_no_task_runs_after_a_purge_made_while_the_workers_dispatch(
    harness: TaskHarness,
) -> None:
    # Each task fails its first attempt, so a purge that let a running attempt
    # settle would see it queued again.
    count = 300
    await asyncio.gather(
        *(
            harness.tasks.enqueue(
                "test_effect",
                {"key": f"p{n:03}", "seconds": 0.05, "fail_times": 1},
                name=f"p{n:03}",
            )
            for n in range(count)
        )
    )

    async def dispatching() -> bool:
        return len(await all_deliveries(harness)) >= 40

    await eventually(dispatching, what="the workers to be busy")
    purged = (await admin_call(harness, PURGE, {"queue": "default"}))["purgeQueue"]
    at_purge = await all_deliveries(harness)
    await settle(harness, "default")
    after = await all_deliveries(harness)

    running = set(purged["running"])
    rows = await states(harness)
    done = {name for name, state in rows.items() if state == "done" and name.startswith("p")}
    assert purged["purged"] == count - len(done) > 0
    assert running, "the purge should have caught attempts mid-run"
    assert {rows[name] for name in running} == {"deleted"}  # their outcome was dropped
    assert {state for name, state in rows.items() if name.startswith("p")} <= {"done", "deleted"}
    assert {name for name in rows if rows[name] == "deleted"} == {
        f"p{n:03}" for n in range(count)
    } - done
    # After the purge, only the attempts it reported as running may have started
    # (their handlers may begin just after it), once each; and none was retried,
    # or its task would now be queued again or done.
    late = [d["key"] for d in after if d not in at_purge and d["key"] != "sentinel-default"]
    assert set(late) <= running
    assert len(late) == len(set(late))


async def test_a_pause_survives_a_restart_and_resume_runs_the_kept_tasks(tmp_path: Path) -> None:
    async with running_app(tmp_path, cron_scheduler=False) as harness:
        paused = await admin_call(harness, PAUSE, {"queue": "default"})
        assert paused["pauseQueue"] == {"name": "default", "paused": True}
        for n in range(5):
            await harness.tasks.enqueue("test_effect", {"key": f"kept-{n}"}, name=f"kept-{n}")
        await settle(harness, "retries")  # another queue's worker ran meanwhile
        assert {d["key"] for d in await all_deliveries(harness)} == {"sentinel-retries"}

    async with running_app(tmp_path, cron_scheduler=False) as harness:
        queues = (await admin_call(harness, QUEUES))["taskQueues"]
        assert {"name": "default", "paused": True} in queues
        assert {"name": "retries", "paused": False} in queues
        await harness.tasks.enqueue("test_effect", {"key": "other"}, queue="retries")

        async def other_ran() -> bool:
            return await effect_count(harness.store, "other") == 1

        await eventually(other_ran, what="a task on a running queue")
        pending = (await admin_call(harness, PENDING, {"queue": "default"}))["pendingTasks"]
        assert sorted(task["name"] for task in pending) == [f"kept-{n}" for n in range(5)]
        assert all(task["attempts"] == 0 for task in pending)

        resumed = await admin_call(harness, RESUME, {"queue": "default"})
        assert resumed["resumeQueue"] == {"name": "default", "paused": False}

        async def kept_ran() -> bool:
            counts = [await effect_count(harness.store, f"kept-{n}") for n in range(5)]
            return counts == [1] * 5

        await eventually(kept_ran, what="the kept tasks to run on resume")

        # A task's effect commits before its run is settled: it leaves the pending
        # list a moment after its effect shows.
        async def none_pending() -> bool:
            answer = await admin_call(harness, PENDING, {"queue": "default"})
            return bool(answer["pendingTasks"] == [])

        await eventually(none_pending, what="the resumed tasks to settle")


async def test_refusals_carry_codes(harness: TaskHarness, tmp_path: Path) -> None:
    admin = bearer(tmp_path, "root", admin=True)
    unknown = await call(harness.http, PURGE, {"queue": "nope"}, admin, path=ADMIN)
    assert codes(unknown) == ["BAD_USER_INPUT"]
    assert unknown["errors"][0]["extensions"]["argument"] == "queue"
    missing = await call(
        harness.http, DELETE, {"queue": "default", "name": "never-was"}, admin, path=ADMIN
    )
    assert codes(missing) == ["NOT_FOUND"]
    malformed = await call(
        harness.http, DELETE, {"queue": "default", "name": "a/b"}, admin, path=ADMIN
    )
    assert codes(malformed) == ["BAD_USER_INPUT"]
    for first in (0, 1001):
        refused = await call(
            harness.http, PENDING, {"queue": "default", "first": first}, admin, path=ADMIN
        )
        assert codes(refused) == ["BAD_USER_INPUT"]


ON_DEFAULT = {"queue": "default"}


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (PENDING, ON_DEFAULT),
        (QUEUES, {}),
        (DELETE, {"queue": "default", "name": "x"}),
        (PURGE, ON_DEFAULT),
        (PAUSE, ON_DEFAULT),
        (RESUME, ON_DEFAULT),
    ],
)
async def test_only_admins_administer_queues(
    harness: TaskHarness, tmp_path: Path, document: str, variables: dict[str, Any]
) -> None:
    signed_in = await call(harness.http, document, variables, bearer(tmp_path, "alice"), path=ADMIN)
    assert codes(signed_in) == ["FORBIDDEN"]
    anonymous = await call(harness.http, document, variables, path=ADMIN)
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    public = await call(harness.http, document, variables, bearer(tmp_path, "root", admin=True))
    assert codes(public) == ["GRAPHQL_VALIDATION_FAILED"]
    queues = await admin_call(harness, QUEUES)
    assert all(not queue["paused"] for queue in queues["taskQueues"])
