"""Recent task and cron runs, newest first, from the embedded run log.

    python -m taskqueue.runs [--failed] [--limit N] [--tasks {queued,leased,done,failed,deleted}]

`--failed` keeps the runs that did not succeed; `--tasks STATE` lists queued tasks
in that state instead (`--tasks failed`: those that exhausted their retries).
The file is the one the app uses (TIMELINE_SQLITE_PATH), or `--db PATH`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from settings import local_sqlite_path
from store.sqlite_db import SQLiteDatabase
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import TaskRow, list_tasks
from taskqueue.runlog import Run, select_runs


def format_runs(runs: Sequence[Run]) -> str:
    lines = [
        f"{'started (UTC)':19}  {'kind':4}  {'name':28}  {'try':>3}  {'status':6}  {'ms':>8}  task"
    ]
    for run in runs:
        lines.append(
            f"{run.started_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}  {run.kind:4}  {run.name:28.28}  "
            f"{run.attempt:>3}  {run.status:6}  {run.duration_ms:>8.1f}  "
            f"{run.queue or '-'}/{run.task_name or '-'}"
        )
        if run.error:
            lines.append(f"    {run.error.splitlines()[0][:200]}")
    return "\n".join(lines)


def format_tasks(rows: Sequence[TaskRow]) -> str:
    lines = [f"{'eta (UTC)':19}  {'state':6}  {'queue':12}  {'handler':24}  {'retries':>7}  name"]
    for row in rows:
        eta = datetime.fromtimestamp(row.eta, UTC)
        lines.append(
            f"{eta:%Y-%m-%d %H:%M:%S}  {row.state:6}  {row.queue:12.12}  {row.handler:24.24}  "
            f"{row.retry_count:>7}  {row.name}"
        )
        if row.last_error:
            lines.append(f"    {row.last_error.splitlines()[0][:200]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m taskqueue.runs", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--failed", action="store_true", help="only runs that did not succeed")
    parser.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    parser.add_argument(
        "--tasks",
        choices=["queued", "leased", "done", "failed", "deleted"],
        help="list tasks in a state",
    )
    parser.add_argument("--db", type=Path, help="the SQLite file (default: the app's)")
    args = parser.parse_args(argv)
    if not 1 <= args.limit <= 10_000:
        parser.error("--limit must be within 1..10000")
    path = args.db or local_sqlite_path()
    if not path.exists():
        parser.error(f"{path} does not exist; has the app run here?")
    db = task_database(SQLiteDatabase(path))
    try:
        if args.tasks:
            rows = db.read_blocking(lambda conn: list_tasks(conn, args.tasks, args.limit))
            output = format_tasks(rows) if rows else f"no {args.tasks} tasks"
        else:
            runs = db.read_blocking(lambda conn: select_runs(conn, args.limit, args.failed))
            output = format_runs(runs) if runs else "no runs recorded"
    finally:
        db.close()
    sys.stdout.write(output + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
