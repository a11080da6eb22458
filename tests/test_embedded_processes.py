"""The embedded store in real server processes: one process per file, and SIGTERM.

A second process on the same embedded file (a second server, or `uvicorn --workers
2`) is refused at start with a message that says why and what to do. SIGTERM under
load stops the server: open requests get serve.py's graceful timeout, a task
that is still running is handed back to the queue (runnable again at once), and the
process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from auth.dev_tokens import key_path_in, mint_dev_token
from store.sqlite import SQLiteStore
from taskqueue.config import load_queue_yaml
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue, list_tasks
from taskqueue.enqueue import Tasks
from tests.utils.accounts import CREATE_PROFILE, UPDATE_PROFILE, VIEWER
from tests.utils.app_server import AppServer
from tests.utils.tasks_app import deliveries, eventually

# Starts servers in subprocesses: left out of `make test-fast`.
pytestmark = pytest.mark.slow

STARTUP_FAILURE = 3  # uvicorn's exit code for an app that failed to start
QUEUE_YAML = """
queue:
- name: default
  rate: 100/s
  bucket_size: 100
  max_concurrent_requests: 5
"""


def refused(server: AppServer) -> str:
    """Start a server that must be refused; its log."""
    with pytest.raises(RuntimeError, match="exited early"):
        server.start()
    assert server.process is not None
    assert server.process.returncode == STARTUP_FAILURE
    return server.log()


def test_a_second_server_on_the_same_embedded_file_is_refused_and_says_why(
    tmp_path: Path,
) -> None:
    first = AppServer(tmp_path, "first")
    second = AppServer(tmp_path, "second")
    first.start()
    try:
        log = refused(second)
        assert first.process is not None
        for says in (
            "refusing to start",
            str(tmp_path / "timeline.db"),
            f"process {first.process.pid}",
        ):
            assert says in log, log
        for advice in ("--workers", "TIMELINE_STORE=datastore"):
            assert advice in log, log
        with httpx.Client() as http:  # the first one is unharmed
            assert http.get(f"{first.url}/healthz").status_code == 200
    finally:
        second.stop()
        first.stop()


def test_uvicorn_with_two_workers_on_the_embedded_store_stops_with_the_reason(
    tmp_path: Path,
) -> None:
    server = AppServer(tmp_path, "workers", uvicorn=("--workers", "2"))
    try:
        # One worker may answer before the other is refused; either way the server stops.
        with contextlib.suppress(RuntimeError):
            server.start()
        assert server.process is not None
        server.process.wait(timeout=60)
    finally:
        server.stop()
    assert "refusing to start" in server.log()
    assert "--workers" in server.log()


async def test_sigterm_under_load_hands_back_the_running_task_and_exits(
    tmp_path: Path,
) -> None:
    (tmp_path / "queue.yaml").write_text(QUEUE_YAML)
    server = AppServer(
        tmp_path,
        "sigterm",
        test_handlers=True,
        env={"TIMELINE_QUEUE_YAML": str(tmp_path / "queue.yaml")},
    )
    path = tmp_path / "timeline.db"
    db, store = task_database(path), SQLiteStore(path)
    await asyncio.to_thread(server.start)
    try:
        tasks = Tasks(EmbeddedQueue(db), queues=load_queue_yaml(tmp_path / "queue.yaml").keys())
        await tasks.enqueue("test_effect", {"key": "long", "seconds": 600}, name="long")

        async def running() -> bool:
            return bool(await deliveries(store, "long"))

        await eventually(running, within=30, what="the long task to start")
        exit_code = await _sigterm_under_load(server)
    finally:
        server.stop()
    assert exit_code == -signal.SIGTERM, server.log()  # uvicorn re-raises it once done
    assert "Application shutdown complete" in server.log()
    rows = await db.read(lambda conn: list_tasks(conn, None, 10))
    (long,) = [row for row in rows if row.name == "long"]
    assert long.state == "queued", "the lease was handed back"
    assert long.retry_count == 0, "handing back is not a failed try"
    assert long.eta <= time.time(), "it runs again at once after a restart"
    await store.close()
    await asyncio.to_thread(db.close)


async def _sigterm_under_load(server: AppServer) -> int | None:
    headers = {"Authorization": f"Bearer {mint_dev_token(key_path_in(server.var), 'loader')}"}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        profile = {"input": {"username": "loader", "displayName": "Loader"}}
        await http.post(
            "/graphql", json={"query": CREATE_PROFILE, "variables": profile}, headers=headers
        )
        clients = [asyncio.create_task(_client(http, headers, n)) for n in range(8)]
        # A slow client whose upload never finishes: only the graceful timeout ends it.
        _, stalled = await asyncio.open_connection("127.0.0.1", server.port)
        stalled.write(
            b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n{"
        )
        await stalled.drain()
        await asyncio.sleep(1.0)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGTERM)
        try:
            # A guard against hanging for ever, not a measurement.
            return await asyncio.to_thread(server.process.wait, 60)
        except subprocess.TimeoutExpired:
            return None
        finally:
            stalled.close()
            await asyncio.gather(*clients)


async def _client(http: httpx.AsyncClient, headers: dict[str, str], n: int) -> None:
    """Reads and writes until the server goes away (at most 1,000 requests)."""
    for i in range(1000):
        if i % 2:
            body = {"query": UPDATE_PROFILE, "variables": {"input": {"displayName": f"L {n} {i}"}}}
        else:
            body = {"query": VIEWER}
        try:
            await http.post("/graphql", json=body, headers=headers)
        except httpx.TransportError:
            return
