"""The parent of several server processes (`serve --workers N`): each worker
listens on a socket of its own.

uvicorn's own supervisor hands one listening socket to every worker. The worker
whose event loop wakes first accepts every connection waiting, so a burst of new
connections lands mostly on one process (15 of 16 counted, docs/PERFORMANCE.md),
and keep-alive clients (a load balancer, a proxy, a benchmark) stay where they
landed while the other process idles. Here each worker gets its own socket, all
bound to one port with SO_REUSEPORT, and the kernel spreads new connections over
them by a hash of their addresses.

This process binds the sockets, listens on them and keeps them open for as long
as it runs: a worker that dies is started again on its socket, and whatever the
kernel sent that socket meanwhile waits in its backlog for the replacement
instead of being reset. Before binding, the address is tried without
SO_REUSEPORT: a server already there (a second `make run`) makes this one stop
with "address already in use", where SO_REUSEPORT alone would quietly share
the port with it.

Workers are uvicorn's `Process`: spawned, pinged over a pipe, killed and started
again when they die or stop answering, except after a failed start-up (its exit
status STARTUP_FAILURE), which would fail the same way again: then everything
stops with that status. SIGINT and SIGTERM stop the workers (each finishes its
requests within uvicorn's graceful timeout) and then this process.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from types import FrameType

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Process

log = logging.getLogger("timeline.serve")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# How often dead or hung workers are looked for, and how soon a signal is acted on.
CHECK_SECONDS = 0.5


def bind_sockets(
    host: str, port: int, count: int, backlog: int, reuse_port: bool = True
) -> list[socket.socket]:
    """`count` listening sockets on one address, one for each worker, the kernel
    spreading connections over them; port 0 picks one free port for all of them.

    Where the kernel refuses SO_REUSEPORT (or `reuse_port` is False) the workers
    share one socket, as under uvicorn's supervisor, and a warning says so."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:  # without SO_REUSEPORT: refused where anyone listens
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        address = (host, probe.getsockname()[1])
    group: list[socket.socket] = []
    try:
        while reuse_port and len(group) < count:
            group.append(_listen(family, address, backlog, reuse_port=True))
    except OSError as refused:
        log.warning("SO_REUSEPORT refused (%s): one socket for every worker", refused)
        for sock in group:
            sock.close()
        reuse_port = False
    return group if reuse_port else [_listen(family, address, backlog, reuse_port=False)] * count


def _listen(
    family: socket.AddressFamily, address: tuple[str, int], backlog: int, reuse_port: bool
) -> socket.socket:
    sock = socket.socket(family)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(backlog)  # now, so that connections wait for a worker still starting
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Runs one uvicorn worker per socket until told to stop (`run`)."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        self.config = config
        self.sockets = sockets
        self.workers = [Process(config, [sock]) for sock in sockets]
        self.exit_status = 0
        self._stop = threading.Event()
        self._signals: list[int] = []

    def run(self) -> int:
        """Serves until SIGINT or SIGTERM, or a worker's failed start-up; the exit
        status: 0, or STARTUP_FAILURE."""
        # A handler only notes the signal: the loop below acts on it. Setting the
        # Event from the handler could deadlock on its lock, held by the wait it
        # interrupted.
        previous = {sig: signal.signal(sig, self._note_signal) for sig in STOP_SIGNALS}
        try:
            log.info("parent process %d: %d workers, a socket each", os.getpid(), len(self.workers))
            for worker in self.workers:
                worker.start()
            while not self._stop.wait(CHECK_SECONDS):
                self._act_on_signals()
                self._replace_dead_workers()
            for worker in self.workers:
                worker.terminate()
            for worker in self.workers:
                worker.join()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for sock in self.sockets:
                sock.close()
        log.info("parent process %d stopped", os.getpid())
        return self.exit_status

    def _note_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals.append(signum)

    def _act_on_signals(self) -> None:
        if self._signals:
            log.info("received %s, stopping", signal.Signals(self._signals[0]).name)
            self._stop.set()

    def _replace_dead_workers(self) -> None:
        for index, worker in enumerate(self.workers):
            if self._stop.is_set():
                return
            if worker.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            worker.kill()  # if it is hung rather than gone
            worker.join()
            if worker.exitcode == STARTUP_FAILURE:
                log.error("worker %s failed to start: stopping the server", worker.pid)
                self.exit_status = STARTUP_FAILURE
                self._stop.set()
                return
            log.warning("worker %s ended (%s): starting another", worker.pid, worker.exitcode)
            replacement = Process(self.config, [self.sockets[index]])
            replacement.start()
            self.workers[index] = replacement


def supervise(config: Config) -> None:
    """Binds config's address, runs config.workers workers and exits with the
    supervisor's status (uvicorn's STARTUP_FAILURE when the address is taken)."""
    try:
        sockets = bind_sockets(config.host, config.port, config.workers, config.backlog)
    except OSError as taken:
        log.error("cannot listen on %s:%d: %s", config.host, config.port, taken.strerror)
        sys.exit(STARTUP_FAILURE)
    port = sockets[0].getsockname()[1]
    log.info("listening on http://%s:%d with %d processes", config.host, port, config.workers)
    status = Supervisor(config, sockets).run()
    if status:
        sys.exit(status)
