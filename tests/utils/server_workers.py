"""Servers of several workers under supervisor.py, seen from the tests: which
processes are the workers and which sockets they hold (from /proc), bursts of
connections, and a supervisor running an app whose start-up a test steers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.utils.app_server import ROOT, AppServer
from tests.utils.processes import ManagedServer, free_port
from tests.utils.sockets import LISTEN, held
from tests.utils.tasks_app import eventually

GUARD = 60.0  # a bound that catches a hang, not a measurement
TWO_WORKERS = {"WEB_CONCURRENCY": "2"}
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"


def children(pid: int) -> set[int]:
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def workers(server: AppServer) -> dict[int, set[str]]:
    """The server's worker processes: pid -> the listening sockets each holds."""
    assert server.process is not None
    return workers_of(server.process.pid, server.port)


def workers_of(parent: int, port: int) -> dict[int, set[str]]:
    found = {pid: held(pid, LISTEN, port) for pid in children(parent)}
    return {pid: sockets for pid, sockets in found.items() if sockets}


async def all_workers_up(server: AppServer, count: int) -> bool:
    assert server.process is not None
    assert server.process.poll() is None, server.log()
    return server.log().count("Application startup complete") >= count


async def healthz_burst(
    port: int, count: int, request: bytes = HEALTHZ
) -> list[asyncio.StreamWriter]:
    """`count` connections opened at once, each answered once (and left open)."""
    connections = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in range(count))
    )
    for _, writer in connections:
        writer.write(request)
    for reader, _ in connections:
        status = await asyncio.wait_for(reader.readline(), GUARD)
        assert status.startswith(b"HTTP/1.1 200 "), status
        await reader.readuntil(b"\r\n\r\n")
    return [writer for _, writer in connections]


def close_all(writers: list[asyncio.StreamWriter]) -> None:
    for writer in writers:
        writer.close()


@dataclass
class Steered:
    """`supervisor.supervise` running two workers of tests/utils/startup_switch_app.py,
    and the file (`switch`) that says how each new worker starts."""

    server: ManagedServer
    port: int
    switch: Path

    @property
    def parent(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid

    def workers(self) -> dict[int, set[str]]:
        return workers_of(self.parent, self.port)

    def log(self) -> str:
        return self.server.log_path.read_text()

    async def logged(self, text: str, times: int = 1) -> None:
        async def seen() -> bool:
            return self.log().count(text) >= times

        await eventually(seen, GUARD, f"{text!r} logged {times} times")


def supervise_command(port: int, switch: Path) -> tuple[list[str], dict[str, str]]:
    """argv and environment of `supervisor.supervise` running two workers of
    tests/utils/startup_switch_app.py on `port`, `switch` saying how each starts."""
    run = (
        "import logging, uvicorn, supervisor; logging.basicConfig(level=logging.INFO); "
        "supervisor.supervise(uvicorn.Config('tests.utils.startup_switch_app:app', "
        f"port={port}, workers=2, lifespan='on'))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TIMELINE_TEST_START": str(switch)}
    return [sys.executable, "-c", run], env


@contextlib.asynccontextmanager
async def steered_supervisor(tmp_path: Path) -> AsyncIterator[Steered]:
    """The steered supervisor, once both its workers have started."""
    port, switch = free_port(), tmp_path / "start"
    argv, env = supervise_command(port, switch)
    log = tmp_path / "steered.log"
    server = ManagedServer(argv, f"http://127.0.0.1:{port}/", log, env, ROOT)
    try:
        await asyncio.to_thread(server.start)
        steered = Steered(server, port, switch)
        await steered.logged("Application startup complete", times=2)
        yield steered
    finally:
        server.stop()
