"""`serve --workers N` (supervisor.py): each worker listens on a socket of its own,
so the kernel spreads connections over them; a taken port and a worker that cannot
start each stop the whole server; one process serves without the supervisor.
How it replaces and stops workers: tests/test_supervisor_signals.py.

What a process holds is read from /proc (tests/utils/sockets.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import subprocess
from pathlib import Path

import pytest

from supervisor import bind_sockets
from tests.utils.app_server import ROOT, AppServer
from tests.utils.processes import free_port
from tests.utils.server_workers import (
    GUARD,
    TWO_WORKERS,
    all_workers_up,
    close_all,
    healthz_burst,
    supervise_command,
    workers,
)
from tests.utils.sockets import ESTABLISHED, LISTEN, held
from tests.utils.tasks_app import eventually

# Starts servers in subprocesses: left out of `make test-fast`.
in_subprocesses = pytest.mark.slow

STARTUP_FAILURE = 3  # uvicorn's exit status for a server that could not start
# How many connections a burst opens, and the least share of them each of two
# workers must hold. With the kernel hashing addresses, fewer than a quarter of 64
# on one of two sockets is four standard deviations out (about 1 in 30,000 runs);
# one shared socket gave 5 / 27 and 6 / 26 of 32 in a row.
BURST = 64
LEAST_SHARE = BURST // 4


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
    switch = tmp_path / "start"
    switch.write_text("fail")
    argv, env = supervise_command(free_port(), switch)
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, timeout=GUARD)
    log = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == STARTUP_FAILURE, log
    assert "this app never starts" in log
    assert "failed to start: stopping the server" in log
