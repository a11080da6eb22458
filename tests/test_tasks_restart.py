"""Killing the server mid-task and starting it again completes every task once;
and `python -m taskqueue.runs` shows what ran."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from settings import TaskSettings
from store.sqlite import SQLiteStore
from taskqueue.config import load_queue_yaml
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue, list_tasks
from taskqueue.enqueue import Tasks
from tests.utils.processes import ManagedServer, free_port
from tests.utils.tasks_app import deliveries, effect_count, eventually

# Starts servers in subprocesses: left out of `make test-fast`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# Imported, not run as __main__, so that the handlers live under their module's name.
SERVE = "from tests.utils.tasks_app import main; main()"
LEASE_SECONDS = 1.0
SLOW_TASKS = 6
QUEUE_YAML = """
queue:
- name: default
  rate: 100/s
  bucket_size: 100
  max_concurrent_requests: 3
  retry_parameters:
    min_backoff_seconds: 0.1
    max_backoff_seconds: 1
"""


class AppProcess:
    """The real app under uvicorn on 127.0.0.1, with the test handlers, in its own var dir."""

    def __init__(self, var: Path, name: str) -> None:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TIMELINE_ENV": "local",
            "TIMELINE_VAR_DIR": str(var),
            "TIMELINE_QUEUE_YAML": str(var / "queue.yaml"),
            "TIMELINE_TASK_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        env.pop("GAE_ENV", None)
        self.server = ManagedServer(
            [sys.executable, "-c", SERVE, "--port", str(port)],
            health_url=f"http://127.0.0.1:{port}/healthz",
            log_path=var / f"{name}.log",
            env=env,
        )

    def kill(self) -> None:
        assert self.server.process is not None
        os.killpg(self.server.process.pid, signal.SIGKILL)
        self.server.process.wait(timeout=10)


@pytest.fixture
def var(tmp_path: Path) -> Path:
    (tmp_path / "queue.yaml").write_text(QUEUE_YAML)
    return tmp_path


def runs_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskqueue.runs", *args], cwd=ROOT, capture_output=True, text=True
    )


async def test_a_killed_server_runs_its_tasks_again_and_each_takes_effect_once(
    var: Path,
) -> None:
    db = task_database(var / "timeline.db")
    store = SQLiteStore(var / "timeline.db")
    first = AppProcess(var, "first")
    await asyncio.to_thread(first.server.start)
    try:
        # Enqueued from this process into the shared file, as a second worker process would.
        tasks = Tasks(EmbeddedQueue(db), queues=load_queue_yaml(var / "queue.yaml").keys())
        for n in range(SLOW_TASKS):
            await tasks.enqueue("test_effect", {"key": f"slow-{n}", "seconds": 1.5}, name=f"s{n}")

        async def some_running() -> bool:
            started = [await deliveries(store, f"slow-{n}") for n in range(SLOW_TASKS)]
            return sum(bool(d) for d in started) >= 3

        await eventually(some_running, within=20, what="three slow tasks to start")
        first.kill()
    finally:
        first.server.stop()
    leased = db.read_blocking(lambda conn: list_tasks(conn, "leased", 100))
    assert len(leased) >= 1, "the kill should have caught tasks mid-run"

    second = AppProcess(var, "second")
    await asyncio.to_thread(second.server.start)
    try:

        async def all_done() -> bool:
            rows = await db.read(lambda conn: list_tasks(conn, None, 100))
            return [row.state for row in rows] == ["done"] * SLOW_TASKS

        await eventually(all_done, within=30, what="every task to finish after the restart")
    finally:
        second.server.stop()
    for n in range(SLOW_TASKS):
        assert await effect_count(store, f"slow-{n}") == 1, f"slow-{n}"
    for row in leased:
        key = f"slow-{row.name[1:]}"
        assert len(await deliveries(store, key)) >= 2, f"{key} was cut off, so it ran again"
    await store.close()
    await asyncio.to_thread(db.close)

    path = str(var / "timeline.db")
    listing = await asyncio.to_thread(runs_command, "--db", path, "--limit", "50")
    assert listing.stdout.count(" done ") >= SLOW_TASKS, listing.stdout
    tasks_listing = await asyncio.to_thread(runs_command, "--db", path, "--tasks", "done")
    assert tasks_listing.stdout.count("test_effect") == SLOW_TASKS, tasks_listing.stdout


def test_the_runs_command_explains_a_missing_file(tmp_path: Path) -> None:
    result = runs_command("--db", str(tmp_path / "none.db"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_lease_settings_are_read_from_the_environment() -> None:
    from settings import load_settings

    settings = load_settings(
        {"TIMELINE_ENV": "local", "TIMELINE_TASK_LEASE_SECONDS": "2.5", "TIMELINE_VAR_DIR": "var"}
    )
    assert settings.tasks == TaskSettings(lease_seconds=2.5)
