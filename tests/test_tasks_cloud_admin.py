"""Task admin on the Cloud Tasks adapter, against gcloud-tasks-emulator delivering
to the real app.

The emulator implements ListTasks, PurgeQueue, PauseQueue, ResumeQueue and
GetQueue, which are tested here as on the embedded queue. It has no DeleteTask
(nor GetTask): the adapter's call reaches it and comes back UNIMPLEMENTED, which
the adapter reports as QueueAdminUnsupported; deleting is tested on the embedded
queue only. Its purge also races its own dispatcher (a task it is delivering at
that moment is put back if it fails), so purging mid-dispatch is tested on the
embedded queue only; here a purge meets tasks that are waiting.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.sqlite import SQLiteStore
from taskqueue.cloud_tasks import AppEngineTarget, CloudTasksQueue
from taskqueue.enqueue import Tasks
from taskqueue.errors import QueueAdminUnsupported
from taskqueue.task_admin import TaskAdmin
from tests.utils.cloud_tasks_stack import CloudStack, cloud_tasks_stack
from tests.utils.tasks_app import deliveries, effect_count, eventually
from tests.utils.tasks_emulator import LOCATION, PROJECT

# Starts servers in subprocesses: left out of `make test-fast`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
QUEUES = ["default", "adm-list", "adm-purge", "adm-pause", "adm-delete", "adm-cli"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudStack]:
    with cloud_tasks_stack(tmp_path_factory.mktemp("cloud-admin"), QUEUES) as running:
        yield running


def queue(stack: CloudStack) -> CloudTasksQueue:
    return CloudTasksQueue(
        stack.client(), project=PROJECT, location=LOCATION, target=AppEngineTarget()
    )


def admin(stack: CloudStack) -> TaskAdmin:
    return TaskAdmin(queue(stack), queues=QUEUES)


def tasks(stack: CloudStack) -> Tasks:
    return Tasks(queue(stack), queues=QUEUES)


@pytest.fixture
async def store(stack: CloudStack) -> AsyncIterator[SQLiteStore]:
    """The app's SQLite file, where the test handlers leave their marks."""
    opened = SQLiteStore(stack.db_path)
    yield opened
    await opened.close()


async def ran_default_task(stack: CloudStack, store: SQLiteStore, key: str) -> None:
    """A task on the running `default` queue, delivered: the emulator is dispatching."""
    await tasks(stack).enqueue("test_effect", {"key": key})

    async def done() -> bool:
        return await effect_count(store, key) == 1

    await eventually(done, within=20, what=f"{key} to be delivered")


async def test_pending_tasks_show_their_eta_and_attempts(stack: CloudStack) -> None:
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    for n in range(2):
        await tasks(stack).enqueue(
            "test_noop", {}, queue="adm-list", name=f"list-{n}", eta=later + timedelta(seconds=n)
        )
    pending = await admin(stack).pending("adm-list", 10)
    assert sorted((t.name, t.queue, t.handler, t.eta, t.attempts) for t in pending) == [
        ("list-0", "adm-list", "test_noop", later, 0),
        ("list-1", "adm-list", "test_noop", later + timedelta(seconds=1), 0),
    ]
    assert len(await admin(stack).pending("adm-list", 1)) == 1


async def test_a_purged_queue_runs_none_of_its_tasks(stack: CloudStack, store: SQLiteStore) -> None:
    await admin(stack).pause("adm-purge")
    for n in range(3):
        await tasks(stack).enqueue("test_effect", {"key": f"purged-{n}"}, queue="adm-purge")
    assert len(await admin(stack).pending("adm-purge", 10)) == 3
    result = await admin(stack).purge("adm-purge")
    assert result.purged is None  # Cloud Tasks does not count
    assert await admin(stack).pending("adm-purge", 10) == []
    await admin(stack).resume("adm-purge")
    await tasks(stack).enqueue("test_effect", {"key": "after-purge"}, queue="adm-purge")

    async def later_one_ran() -> bool:
        return await effect_count(store, "after-purge") == 1

    await eventually(later_one_ran, within=20, what="a task added after the purge")
    for n in range(3):
        assert await deliveries(store, f"purged-{n}") == []


async def test_a_paused_queue_keeps_its_tasks_and_runs_them_on_resume(
    stack: CloudStack, store: SQLiteStore
) -> None:
    await admin(stack).pause("adm-pause")
    assert (await admin(stack).status("adm-pause")).paused
    for n in range(3):
        await tasks(stack).enqueue("test_effect", {"key": f"held-{n}"}, queue="adm-pause")
    await ran_default_task(stack, store, "while-paused")
    await ran_default_task(stack, store, "while-paused-2")
    for n in range(3):
        assert await deliveries(store, f"held-{n}") == []
    assert len(await admin(stack).pending("adm-pause", 10)) == 3

    await admin(stack).resume("adm-pause")
    assert not (await admin(stack).status("adm-pause")).paused

    async def held_ran() -> bool:
        return [await effect_count(store, f"held-{n}") for n in range(3)] == [1, 1, 1]

    await eventually(held_ran, within=20, what="the held tasks to run on resume")


async def test_the_emulator_has_no_delete_task(stack: CloudStack) -> None:
    await admin(stack).pause("adm-delete")
    await tasks(stack).enqueue("test_noop", {}, queue="adm-delete", name="kept")
    with pytest.raises(QueueAdminUnsupported, match="does not implement"):
        await admin(stack).delete("adm-delete", "kept")
    assert [task.name for task in await admin(stack).pending("adm-delete", 10)] == ["kept"]


def cloud_admin_command(stack: CloudStack, queue_yaml: Path, *args: str) -> str:
    env = {
        **os.environ,
        "TIMELINE_CLOUD_TASKS_PROJECT": PROJECT,
        "TIMELINE_CLOUD_TASKS_LOCATION": LOCATION,
        "TIMELINE_CLOUD_TASKS_EMULATOR_HOST": stack.emulator.host,
    }
    argv = [
        sys.executable,
        "-m",
        "taskqueue.admin",
        "--cloud-tasks",
        "--queue-yaml",
        str(queue_yaml),
    ]
    result = subprocess.run(
        [*argv, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_the_command_line_speaks_to_cloud_tasks(stack: CloudStack, tmp_path: Path) -> None:
    queue_yaml = tmp_path / "queue.yaml"
    queue_yaml.write_text("queue:\n- name: adm-cli\n  rate: 5/s\n")

    def command(*args: str) -> str:
        return cloud_admin_command(stack, queue_yaml, *args)

    assert await asyncio.to_thread(command, "pause", "adm-cli") == (
        "paused queue adm-cli: its tasks wait until it is resumed\n"
    )
    await tasks(stack).enqueue("test_noop", {}, queue="adm-cli", name="cli-task")
    listing = (await asyncio.to_thread(command, "list", "adm-cli")).splitlines()
    assert listing[0] == "queue adm-cli (paused): 1 pending task(s)"
    assert listing[2].split()[-3:] == ["0", "test_noop", "cli-task"]
    queues = await asyncio.to_thread(command, "queues")
    assert "adm-cli                  paused" in queues.splitlines()
    assert (
        await asyncio.to_thread(command, "purge", "adm-cli") == "purged tasks from queue adm-cli\n"
    )
    assert await asyncio.to_thread(command, "resume", "adm-cli") == "resumed queue adm-cli\n"
