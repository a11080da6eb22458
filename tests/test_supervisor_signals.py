"""`serve --workers N` (supervisor.py) replacing and stopping its workers: a
killed worker is replaced on its socket, which kept what waited for it; SIGHUP
replaces each worker (and a failed or interrupted replacement is handled);
ignored signals; SIGTERM to the parent; a worker stuck in its shut-down; and
workers that end with a killed parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest

from tests.utils.app_server import AppServer
from tests.utils.server_workers import (
    GUARD,
    TWO_WORKERS,
    all_workers_up,
    children,
    close_all,
    healthz_burst,
    running,
    steered_supervisor,
    workers,
)
from tests.utils.sockets import waiting_to_be_accepted
from tests.utils.tasks_app import eventually

# Starts servers in subprocesses: left out of `make test-fast`.
pytestmark = pytest.mark.slow

BURST = 32  # connections opened at once around a worker's replacement


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
        burst = asyncio.create_task(healthz_burst(server.port, BURST))

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
        close_all(await healthz_burst(server.port, BURST))
    finally:
        server.stop()


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


async def test_workers_end_with_a_killed_parent_and_free_the_port_and_the_file(
    tmp_path: Path,
) -> None:
    server = AppServer(tmp_path, "orphans", env=TWO_WORKERS)
    again = AppServer(tmp_path, "again", env=TWO_WORKERS, port=server.port)
    pids: set[int] = set()
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
        server.stop()  # does nothing once the parent is gone: its orphans are ended here
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def test_a_sighup_whose_new_worker_cannot_start_keeps_the_old_ones(
    tmp_path: Path,
) -> None:
    async with steered_supervisor(tmp_path) as steered:
        before = steered.workers()
        steered.switch.write_text("fail")
        os.kill(steered.parent, signal.SIGHUP)
        await steered.logged("did not start: keeping worker")
        assert steered.workers() == before
        assert steered.server.process is not None
        assert steered.server.process.poll() is None, "a failed replacement stops nothing"
        close_all(await healthz_burst(steered.port, 4, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"))


async def test_an_ignored_signal_does_not_cut_a_sighup_replacement_short(
    tmp_path: Path,
) -> None:
    async with steered_supervisor(tmp_path) as steered:
        before = steered.workers()
        steered.switch.write_text("slow 1.5")  # a window for the terminal's resize to fall in
        os.kill(steered.parent, signal.SIGHUP)

        async def replacement_starting() -> bool:
            return len(children(steered.parent) - set(before)) > 1  # with the tracker

        await eventually(replacement_starting, GUARD, "a new worker")
        os.kill(steered.parent, signal.SIGWINCH)

        async def all_replaced() -> bool:
            now = steered.workers()
            return len(now) == 2 and not set(now) & set(before)

        await eventually(all_replaced, GUARD, "both workers replaced")
        await steered.logged("received SIGWINCH, ignored")  # after the replacement


async def test_a_worker_stuck_in_its_shutdown_is_killed_and_the_parent_exits(
    tmp_path: Path,
) -> None:
    async with steered_supervisor(tmp_path) as steered:
        pids = set(steered.workers())
        steered.switch.write_text("stuck")
        os.kill(steered.parent, signal.SIGTERM)
        assert steered.server.process is not None
        status = await asyncio.to_thread(steered.server.process.wait, GUARD)
        log = steered.log()
    assert status == 0, log
    assert log.count("did not stop in 15 s: killing it") == 2, log
    assert not [pid for pid in pids if running(pid)]
