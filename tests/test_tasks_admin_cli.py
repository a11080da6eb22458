"""`python -m taskqueue.admin` on the embedded queue, beside a running app; deleted
names and files made before task admin existed."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from store.sqlite_db import SQLiteDatabase
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue, list_tasks
from taskqueue.port import TaskRequest
from tests.utils.tasks_app import effect_count, eventually, running_app

ROOT = Path(__file__).resolve().parents[1]


def admin_command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    files = ["--db", str(tmp_path / "timeline.db"), "--queue-yaml", str(tmp_path / "queue.yaml")]
    return subprocess.run(
        [sys.executable, "-m", "taskqueue.admin", *files, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def admin(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(admin_command, tmp_path, *args)


async def test_the_command_administers_the_queue_of_a_running_app(tmp_path: Path) -> None:
    async with running_app(tmp_path, cron_scheduler=False) as harness:
        paused = await admin(tmp_path, "pause", "default")
        assert paused.returncode == 0, paused.stderr
        assert paused.stdout == "paused queue default: its tasks wait until it is resumed\n"
        for n in range(3):
            await harness.tasks.enqueue("test_effect", {"key": f"cli-{n}"}, name=f"cli-{n}")

        listing = await admin(tmp_path, "list", "default")
        assert listing.returncode == 0, listing.stderr
        lines = listing.stdout.splitlines()
        assert lines[0] == "queue default (paused): 3 pending task(s)"
        assert lines[1].split() == ["eta", "(UTC)", "attempts", "handler", "name"]
        assert [line.split()[-3:] for line in lines[2:]] == [
            ["0", "test_effect", f"cli-{n}"] for n in range(3)
        ]
        queues = await admin(tmp_path, "queues")
        assert "default                  paused" in queues.stdout.splitlines()
        assert "retries                  running" in queues.stdout.splitlines()

        deleted = await admin(tmp_path, "delete", "default", "cli-0")
        assert deleted.stdout == "deleted task cli-0 from queue default; it will not run\n"
        purged = await admin(tmp_path, "purge", "retries")
        assert purged.stdout == "purged 0 task(s) from queue retries\n"

        # The app's workers see the resume written by another process at their next poll.
        resumed = await admin(tmp_path, "resume", "default")
        assert resumed.stdout == "resumed queue default\n"

        async def kept_ran() -> bool:
            return [await effect_count(harness.store, f"cli-{n}") for n in (1, 2)] == [1, 1]

        await eventually(kept_ran, what="the kept tasks to run after the resume")
        assert await effect_count(harness.store, "cli-0") == 0
        after = await admin(tmp_path, "list", "default")
        assert after.stdout == "queue default (running): 0 pending task(s)\n"


async def test_refusals_exit_with_1_and_say_why(tmp_path: Path) -> None:
    async with running_app(tmp_path, cron_scheduler=False):
        pass
    unknown = await admin(tmp_path, "pause", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: queue 'nope' is not defined in queue.yaml (known: ")
    missing = await admin(tmp_path, "delete", "default", "never-was")
    assert (missing.returncode, missing.stderr) == (
        1,
        "error: no pending task 'never-was' on queue 'default'\n",
    )
    bad_limit = await admin(tmp_path, "list", "default", "--limit", "0")
    assert bad_limit.returncode == 2
    no_file = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "taskqueue.admin", "--db", str(tmp_path / "none.db"), "queues"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert no_file.returncode == 1
    assert "does not exist" in no_file.stderr


async def test_a_deleted_name_is_free_again_after_the_dedup_window(tmp_path: Path) -> None:
    now = [1_000_000.0]
    db = task_database(SQLiteDatabase(tmp_path / "q.db"))
    queue = EmbeddedQueue(db, clock=lambda: now[0], dedup_window=timedelta(seconds=60))
    request = TaskRequest("test_noop", b"{}", name="again")
    assert (await queue.add(request)).created
    assert await queue.delete("default", "again")
    assert not await queue.delete("default", "again")  # no longer pending
    now[0] += 59
    assert not (await queue.add(request)).created
    now[0] += 2
    assert (await queue.add(request)).created
    (row,) = await db.read(lambda conn: list_tasks(conn, None, 10))
    assert (row.name, row.state) == ("again", "queued")
    db.close()


OLD_TASK_QUEUE = """CREATE TABLE task_queue (
    name TEXT PRIMARY KEY, named INTEGER NOT NULL, queue TEXT NOT NULL,
    handler TEXT NOT NULL, payload BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'failed')),
    eta REAL NOT NULL, created_at REAL NOT NULL, first_attempt_at REAL,
    lease_token TEXT, lease_until REAL, retry_count INTEGER NOT NULL DEFAULT 0,
    execution_count INTEGER NOT NULL DEFAULT 0, last_status INTEGER, last_error TEXT,
    finished_at REAL
);
CREATE INDEX task_queue_due ON task_queue(queue, state, eta);
INSERT INTO task_queue(name, named, queue, handler, payload, state, eta, created_at)
VALUES ('old-1', 1, 'default', 'test_noop', x'7b7d', 'queued', 5, 5);
"""


async def test_a_file_from_before_task_admin_can_hold_deleted_tasks(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_TASK_QUEUE)
    conn.close()
    db = task_database(SQLiteDatabase(path))
    queue = EmbeddedQueue(db)
    assert [task.name for task in await queue.pending("default", 10)] == ["old-1"]
    assert await queue.delete("default", "old-1")
    (row,) = await db.read(lambda conn: list_tasks(conn, None, 10))
    assert row.state == "deleted"
    indexes = await db.read(
        lambda conn: conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'task_queue' "
            "AND sql IS NOT NULL ORDER BY name"
        ).fetchall()
    )
    assert [name for (name,) in indexes] == [
        "task_queue_due",
        "task_queue_finished",
        "task_queue_leases",
    ]
    db.close()
