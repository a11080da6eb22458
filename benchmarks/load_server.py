"""The real server for a load benchmark: uvicorn on 127.0.0.1, as `make run` starts
it (embedded store, local mode, no demo data), in a fresh var dir, stopped by its
process id.

    with LoadServer() as server:
        server.url, server.var
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[1]
READY_WITHIN_SECONDS = 60.0


class LoadServer:
    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-load-")
        self.var = Path(self._tmp.name)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.var / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LoadServer:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TIMELINE_VAR_DIR": str(self.var)}
        for name in ("GAE_ENV", "TIMELINE_STORE", "TIMELINE_TASKS", "TIMELINE_DEMO_DATA"):
            env.pop(name, None)
        argv = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), "--timeout-graceful-shutdown", "3"]
        argv += ["--no-access-log"]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=10)
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

    def error_lines(self) -> list[str]:
        """What the server logged at ERROR or worse (tracebacks not included)."""
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if line.startswith(("ERROR", "CRITICAL"))]

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"the server was not ready within {READY_WITHIN_SECONDS}s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
