"""The real server for a load benchmark: serve.py on 127.0.0.1, as `make run` starts
it (embedded store, local mode, no demo data), in a fresh var dir, stopped by its
process id.

    with LoadServer() as server:
        server.url, server.var
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.utils.processes import ManagedServer, free_port

ROOT = Path(__file__).resolve().parents[1]
_RETRIED_LINE = re.compile(r"(task|cron) \S+ \(\S+\) will be retried")
_ERROR_LINE = re.compile(r"(ERROR|CRITICAL)\b|internal error|[\w.]+(Error|Exception|Conflict)\b")


class LoadServer:
    def __init__(self, workers: int = 1) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-load-")
        self.var = Path(self._tmp.name)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TIMELINE_ENV": "local",
            "TIMELINE_VAR_DIR": str(self.var),
        }
        for name in ("GAE_ENV", "TIMELINE_STORE", "TIMELINE_TASKS", "TIMELINE_DEMO_DATA"):
            env.pop(name, None)
        argv = [sys.executable, "-m", "serve", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", str(workers)]
        self._server = ManagedServer(argv, f"{self.url}/healthz", self.var / "server.log", env)

    def __enter__(self) -> LoadServer:
        self._server.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.stop()
        self._tmp.cleanup()

    async def wait_for_idle_queue(self, *, within: float) -> float | None:
        """Seconds until no task is due or running in the embedded queue (None if
        still busy after `within`), read from the file as `python -m tasks.runs` does."""
        start = time.monotonic()
        while time.monotonic() - start < within:
            if await asyncio.to_thread(self._due_tasks) == 0:
                return time.monotonic() - start
            await asyncio.sleep(0.2)
        return None

    def _due_tasks(self) -> int:
        conn = sqlite3.connect(f"file:{self.var / 'timeline.db'}?mode=ro", uri=True, timeout=30)
        try:
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM task_queue WHERE state = 'leased' "
                "OR (state = 'queued' AND eta <= ?)",
                (time.time(),),
            ).fetchone()
        finally:
            conn.close()
        return int(count)

    def cpu_seconds(self) -> float | None:
        """CPU time the server's processes have used so far (user + system, every
        thread), or None where /proc is not there. Per request, it tells a server
        that slows down from a machine that is busy with other work."""
        process = self._server.process
        if process is None or not Path(f"/proc/{process.pid}").exists():
            return None
        from benchmarks.bench_http import server_cpu_seconds  # with `--workers`' children

        return server_cpu_seconds(process.pid)

    def retried_task_lines(self) -> list[str]:
        """Background runs that lost a race the queue retries (tasks/routes.py)."""
        lines = self._server.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if _RETRIED_LINE.search(line)]

    def error_lines(self) -> list[str]:
        """What the server logged at ERROR or worse, and each traceback's exception line."""
        lines = self._server.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if _ERROR_LINE.match(line)]
