"""`serve --workers N` (supervisor.py): each worker listens on a socket of its own,
so the kernel spreads connections over them; a worker that dies is replaced on its
socket, and what waited on that socket is served by the replacement; SIGHUP
replaces the workers; a taken port, a worker that cannot start and SIGTERM each
stop the whole server as they should.

What a process holds is read from /proc (tests/utils/sockets.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from supervisor import bind_sockets
from tests.utils.app_server import ROOT, AppServer
from tests.utils.processes import free_port
from tests.utils.sockets import ESTABLISHED, LISTEN, held, waiting_to_be_accepted
from tests.utils.tasks_app import eventually

# Starts servers in subprocesses: left out of `make test-fast`.
in_subprocesses = pytest.mark.slow

STARTUP_FAILURE = 3  # uvicorn's exit status for a server that could not start
GUARD = 60.0  # a bound that catches a hang, not a measurement
TWO_WORKERS = {"WEB_CONCURRENCY": "2"}
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
# How many connections a burst opens, and the least share of them each of two
# workers must hold. With the kernel hashing addresses, fewer than a quarter of 64
# on one of two sockets is four standard deviations out (about 1 in 30,000 runs);
# one shared socket gave 5 / 27 and 6 / 26 of 32 in a row.
BURST = 64
LEAST_SHARE = BURST // 4


def children(pid: int) -> set[int]:
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def workers(server: AppServer) -> dict[int, set[str]]:
    """The server's worker processes: pid -> the listening sockets each holds."""
    assert server.process is not None
    found = {pid: held(pid, LISTEN, server.port) for pid in children(server.process.pid)}
    return {pid: sockets for pid, sockets in found.items() if sockets}


async def all_workers_up(server: AppServer, count: int) -> bool:
    assert server.process is not None
    assert server.process.poll() is None, server.log()
    return server.log().count("Application startup complete") >= count


async def healthz_burst(port: int, count: int) -> list[asyncio.StreamWriter]:
    """`count` connections opened at once, each answered once (and left open)."""
    connections = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in range(count))
    )
    for _, writer in connections:
        writer.write(HEALTHZ)
    for reader, _ in connections:
        status = await asyncio.wait_for(reader.readline(), GUARD)
        assert status.startswith(b"HTTP/1.1 200 "), status
        await reader.readuntil(b"\r\n\r\n")
    return [writer for _, writer in connections]


def close_all(writers: list[asyncio.StreamWriter]) -> None:
    for writer in writers:
        writer.close()


def reuses_port(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))


def test_each_worker_gets_a_listening_socket_of_its_own_on_one_port() -> None:
    sockets = bind_sockets("127.0.0.1", 0, 3, backlog=8)
    try:
        assert len({sock.fileno() for sock in sockets}) == 3
        assert len({sock.getsockname() for sock in sockets}) == 1
        assert all(reuses_port(sock) for sock in sockets)
        with socket.create_connection(sockets[0].getsockname(), timeout=GUARD):
            pass  # listening already: a worker still starting finds it waiting
    finally:
        for sock in sockets:
            sock.close()


def test_without_reuse_port_every_worker_shares_one_socket() -> None:
    sockets = bind_sockets("127.0.0.1", 0, 3, backlog=8, reuse_port=False)
    try:
        assert len({id(sock) for sock in sockets}) == 1
        assert not reuses_port(sockets[0])
    finally:
        sockets[0].close()


@pytest.mark.parametrize("reuse_port", [False, True], ids=["plain", "an earlier group"])
def test_a_port_someone_listens_on_is_refused(reuse_port: bool) -> None:
    """Even where the listener took SO_REUSEPORT, as an earlier `serve --workers`
    did: joining its group would take half its connections."""
    with socket.socket() as there:
        there.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, int(reuse_port))
        there.bind(("127.0.0.1", 0))
        there.listen(8)
        with pytest.raises(OSError, match="Address already in use") as refused:
            bind_sockets("127.0.0.1", there.getsockname()[1], 2, backlog=8)
    assert refused.value.errno == errno.EADDRINUSE


@in_subprocesses
async def test_each_worker_listens_on_its_own_socket_and_connections_spread(
    tmp_path: Path,
) -> None:
    server = AppServer(tmp_path, "spread", env=TWO_WORKERS)
    try:
        server.start()
        assert server.process is not None
        await eventually(lambda: all_workers_up(server, 2), GUARD, "both workers")
        listening = workers(server)
        assert len(listening) == 2, listening
        first, second = listening.values()
        assert len(first) == len(second) == 1, "a socket each"
        assert first != second
        # The parent keeps both open, for a worker started again on its socket.
        assert held(server.process.pid, LISTEN, server.port) == first | second

        burst = await healthz_burst(server.port, BURST)
        try:
            connections = {pid: held(pid, ESTABLISHED, server.port) for pid in listening}
        finally:
            close_all(burst)
        counts = sorted(len(held_by_one) for held_by_one in connections.values())
        assert sum(counts) == BURST, counts
        assert counts[0] >= LEAST_SHARE, f"connections per worker: {counts}"
    finally:
        server.stop()


@in_subprocesses
async def test_a_killed_worker_is_replaced_on_its_socket_which_kept_what_waited_for_it(
    tmp_path: Path,
) -> None:
    """The parent holds every socket: connections the kernel queued on a worker's
    socket outlive the worker and are served by its replacement, not reset."""
    server = AppServer(tmp_path, "replaced", env=TWO_WORKERS)
    try:
        server.start()
        await eventually(lambda: all_workers_up(server, 2), GUARD, "both workers")
        (victim, its_socket), (survivor, _) = workers(server).items()
        (inode,) = its_socket
        os.kill(victim, signal.SIGSTOP)  # it accepts nothing more
        burst = asyncio.create_task(healthz_burst(server.port, BURST // 2))

        async def queued_for_the_victim() -> bool:
            assert not burst.done(), "answered with the victim stopped: nothing queued on it"
            return waiting_to_be_accepted(inode) > 0

        await eventually(queued_for_the_victim, GUARD, "connections queued on its socket")
        os.kill(victim, signal.SIGKILL)
        close_all(await burst)  # every one answered, those queued included

        async def replaced() -> bool:
            now = workers(server)
            return victim not in now and survivor in now and its_socket in now.values()

        await eventually(replaced, GUARD, "a new worker on the killed one's socket")
        assert f"worker {victim} ended" in server.log()
    finally:
        server.stop()


@in_subprocesses
async def test_sighup_replaces_each_worker_on_its_socket_and_other_signals_are_ignored(
    tmp_path: Path,
) -> None:
    server = AppServer(tmp_path, "sighup", env=TWO_WORKERS)
    try:
        server.start()
        assert server.process is not None
        parent = server.process.pid
        await eventually(lambda: all_workers_up(server, 2), GUARD, "both workers")
        before = workers(server)
        for ignored in (signal.SIGUSR1, signal.SIGUSR2):
            os.kill(parent, ignored)

        async def both_ignored() -> bool:
            log = server.log()
            return "received SIGUSR1, ignored" in log and "received SIGUSR2, ignored" in log

        await eventually(both_ignored, GUARD, "both signals noted")
        assert workers(server) == before, "an ignored signal touched no worker"

        os.kill(parent, signal.SIGHUP)

        async def all_replaced() -> bool:
            now = workers(server)
            new_pids = not set(now) & set(before)
            same_sockets = sorted(map(sorted, now.values())) == sorted(map(sorted, before.values()))
            return len(now) == 2 and new_pids and same_sockets

        await eventually(all_replaced, GUARD, "both workers replaced on their sockets")
        assert server.process.poll() is None
        close_all(await healthz_burst(server.port, BURST // 2))
    finally:
        server.stop()


@in_subprocesses
async def test_a_second_server_on_a_taken_port_stops_and_says_so(tmp_path: Path) -> None:
    """SO_REUSEPORT alone would let it share the port (and take half the
    connections) with the server already there."""
    first = AppServer(tmp_path / "first", "first", env=TWO_WORKERS)
    second = AppServer(tmp_path / "second", "second", env=TWO_WORKERS, port=first.port)
    for var in (first.var, second.var):
        var.mkdir()
    try:
        first.start()
        with contextlib.suppress(RuntimeError):  # or the first one answers its health check
            second.start()
        assert second.process is not None
        assert await asyncio.to_thread(second.process.wait, GUARD) == STARTUP_FAILURE
        assert f"cannot listen on 127.0.0.1:{first.port}: Address already in use" in second.log()
        close_all(await healthz_burst(first.port, BURST // 2))  # all answered by the first
    finally:
        second.stop()
        first.stop()


@in_subprocesses
async def test_sigterm_to_the_parent_stops_the_workers_then_the_parent(tmp_path: Path) -> None:
    server = AppServer(tmp_path, "sigterm", env=TWO_WORKERS)
    try:
        server.start()
        assert server.process is not None
        await eventually(lambda: all_workers_up(server, 2), GUARD, "both workers")
        pids = set(workers(server))
        # A request whose body never comes: only the graceful timeout ends it.
        _, stalled = await asyncio.open_connection("127.0.0.1", server.port)
        stalled.write(
            b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
        await stalled.drain()
        os.kill(server.process.pid, signal.SIGTERM)  # the parent only, as a platform does
        status = await asyncio.to_thread(server.process.wait, GUARD)
        stalled.close()
    finally:
        server.stop()
    assert status == 0, server.log()
    assert not [pid for pid in pids if running(pid)], "workers left running"
    assert server.log().count("Application shutdown complete") == 2
    # Its worker waited for the stalled request until the graceful timeout.
    assert "timeout graceful shutdown exceeded" in server.log()


@in_subprocesses
async def test_workers_end_with_a_killed_parent_and_free_the_port_and_the_file(
    tmp_path: Path,
) -> None:
    server = AppServer(tmp_path, "orphans", env=TWO_WORKERS)
    again = AppServer(tmp_path, "again", env=TWO_WORKERS, port=server.port)
    try:
        server.start()
        assert server.process is not None
        await eventually(lambda: all_workers_up(server, 2), GUARD, "both workers")
        pids = set(workers(server))
        os.kill(server.process.pid, signal.SIGKILL)
        await asyncio.to_thread(server.process.wait, GUARD)

        async def all_ended() -> bool:
            return not [pid for pid in pids if running(pid)]

        await eventually(all_ended, GUARD, "the orphaned workers to end")
        await asyncio.to_thread(again.start)  # the port and the embedded file are free
        close_all(await healthz_burst(again.port, 4))
    finally:
        again.stop()
        server.stop()


@in_subprocesses
async def test_one_process_serves_alone_whatever_uvicorn_would_read(tmp_path: Path) -> None:
    """An empty WEB_CONCURRENCY is no count (settings/server.py): one process, which
    listens itself, and uvicorn must not read the variable again."""
    server = AppServer(tmp_path, "alone", env={"WEB_CONCURRENCY": ""})
    try:
        server.start()
        assert server.process is not None
        assert workers(server) == {}
        assert held(server.process.pid, LISTEN, server.port)
    finally:
        server.stop()


@in_subprocesses
def test_a_worker_that_cannot_start_stops_the_server_with_startup_failure(
    tmp_path: Path,
) -> None:
    """Started again it would fail again, for ever: the parent stops instead."""
    port = free_port()
    run = (
        "import logging, uvicorn, supervisor; logging.basicConfig(level=logging.INFO); "
        "supervisor.supervise(uvicorn.Config('tests.utils.unstartable_app:app', "
        f"port={port}, workers=2, lifespan='on'))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", run], cwd=ROOT, env=env, capture_output=True, timeout=GUARD
    )
    log = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == STARTUP_FAILURE, log
    assert "this app never starts" in log
    assert "failed to start: stopping the server" in log
