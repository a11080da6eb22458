"""Task admin from the command line: list, delete, purge, pause and resume.

    python -m tasks.admin queues                    # each queue, and whether paused
    python -m tasks.admin list default [--limit N]  # pending tasks: eta, attempts
    python -m tasks.admin delete default fanout-3f2a
    python -m tasks.admin purge default
    python -m tasks.admin pause default
    python -m tasks.admin resume default

The embedded queue lives in the app's SQLite file (TIMELINE_SQLITE_PATH, or
`--db PATH`); this command writes to it beside a running app, whose workers
see a pause or resume within a second. With `--cloud-tasks` (or
TIMELINE_TASKS=cloudtasks) it calls Cloud Tasks instead: the project
from TIMELINE_CLOUD_TASKS_PROJECT or GOOGLE_CLOUD_PROJECT, the region from
TIMELINE_CLOUD_TASKS_LOCATION, and TIMELINE_CLOUD_TASKS_EMULATOR_HOST for an
emulator. Queues are those of queue.yaml (TIMELINE_QUEUE_YAML, or `--queue-yaml`).

Exit status: 0 done, 1 refused (unknown queue or task, a call the server lacks),
2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import UTC
from pathlib import Path

from settings import local_sqlite_path
from store.errors import StoreUnavailable
from tasks.cloud_tasks import AppEngineTarget, CloudTasksQueue, cloud_tasks_client
from tasks.embedded_queue import EmbeddedQueue
from tasks.errors import TaskError
from tasks.port import PendingTask, PurgeResult
from tasks.queue_config import load_queue_yaml
from tasks.task_admin import MAX_LISTED, QueueStatus, TaskAdmin
from tasks.task_db import task_database

ENV = "TIMELINE_"


def format_pending(status: QueueStatus, tasks: Sequence[PendingTask]) -> str:
    state = "paused" if status.paused else "running"
    lines = [f"queue {status.name} ({state}): {len(tasks)} pending task(s)"]
    if tasks:
        lines.append(f"{'eta (UTC)':19}  {'attempts':>8}  {'handler':24}  name")
    for task in tasks:
        eta = "-" if task.eta is None else f"{task.eta.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
        lines.append(f"{eta:19}  {task.attempts:>8}  {task.handler:24.24}  {task.name}")
    return "\n".join(lines)


def format_purge(queue: str, result: PurgeResult) -> str:
    counted = "tasks" if result.purged is None else f"{result.purged} task(s)"
    lines = [f"purged {counted} from queue {queue}"]
    if result.running:
        lines.append(
            f"{len(result.running)} attempt(s) were running and may finish; none will be retried:"
        )
        lines.extend(f"  {name}" for name in result.running)
    return "\n".join(lines)


async def run(admin: TaskAdmin, args: argparse.Namespace) -> str:
    if args.command == "queues":
        statuses = [await admin.status(queue) for queue in admin.queue_names]
        return "\n".join(
            f"{status.name:24} {'paused' if status.paused else 'running'}" for status in statuses
        )
    if args.command == "list":
        status = await admin.status(args.queue)
        return format_pending(status, await admin.pending(args.queue, args.limit))
    if args.command == "delete":
        await admin.delete(args.queue, args.name)
        return f"deleted task {args.name} from queue {args.queue}; it will not run"
    if args.command == "purge":
        return format_purge(args.queue, await admin.purge(args.queue))
    if args.command == "pause":
        await admin.pause(args.queue)
        return f"paused queue {args.queue}: its tasks wait until it is resumed"
    await admin.resume(args.queue)
    return f"resumed queue {args.queue}"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m tasks.admin", description=__doc__.split("\n")[0])
    top.add_argument("--db", type=Path, help="the embedded SQLite file (default: the app's)")
    top.add_argument("--cloud-tasks", action="store_true", help="administer Cloud Tasks queues")
    top.add_argument("--queue-yaml", type=Path, help="the queue definitions (default: the app's)")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("queues", help="each queue, and whether it is paused")
    listing = commands.add_parser("list", help="pending tasks with their eta and attempts")
    listing.add_argument("queue")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    delete = commands.add_parser("delete", help="delete one pending task by name")
    delete.add_argument("queue")
    delete.add_argument("name")
    for command, text in [
        ("purge", "delete every pending task of a queue"),
        ("pause", "stop dispatching a queue's tasks, keeping them"),
        ("resume", "dispatch a paused queue's tasks again"),
    ]:
        commands.add_parser(command, help=text).add_argument("queue")
    return top


def open_admin(args: argparse.Namespace, cleanup: AsyncExitStack) -> TaskAdmin:
    env = os.environ
    queue_yaml = args.queue_yaml or (
        Path(env[ENV + "QUEUE_YAML"]) if env.get(ENV + "QUEUE_YAML") else None
    )
    queues = load_queue_yaml(queue_yaml).keys()
    if args.cloud_tasks or env.get(ENV + "TASKS") == "cloudtasks":
        project = env.get(ENV + "CLOUD_TASKS_PROJECT") or env.get("GOOGLE_CLOUD_PROJECT")
        location = env.get(ENV + "CLOUD_TASKS_LOCATION")
        if not project or not location:
            raise TaskError(
                f"Cloud Tasks needs {ENV}CLOUD_TASKS_LOCATION and a project "
                f"({ENV}CLOUD_TASKS_PROJECT or GOOGLE_CLOUD_PROJECT)"
            )
        client = cloud_tasks_client(env.get(ENV + "CLOUD_TASKS_EMULATOR_HOST") or None)
        queue = CloudTasksQueue(
            client, project=project, location=location, target=AppEngineTarget()
        )
        return TaskAdmin(queue, queues=queues)
    path = args.db or local_sqlite_path()
    if not path.exists():
        raise TaskError(f"{path} does not exist; has the app run here?")
    db = task_database(path)
    cleanup.callback(db.close)
    return TaskAdmin(EmbeddedQueue(db), queues=queues)


async def main_async(args: argparse.Namespace) -> str:
    async with AsyncExitStack() as cleanup:
        return await run(open_admin(args, cleanup), args)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "list" and not 1 <= args.limit <= MAX_LISTED:
        parser().error(f"--limit must be within 1..{MAX_LISTED}")
    try:
        output = asyncio.run(main_async(args))
    except (TaskError, StoreUnavailable) as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    sys.stdout.write(output + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
