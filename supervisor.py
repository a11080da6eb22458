"""The parent of several server processes (`serve --workers N`): each worker
listens on a socket of its own.

uvicorn's own supervisor hands one listening socket to every worker. The worker
whose event loop wakes first accepts every connection waiting, so a burst of new
connections lands mostly on one process (15 of 16 counted, docs/PERFORMANCE.md),
and keep-alive clients (a load balancer, a proxy, a benchmark) stay where they
landed while the other process idles. Here, on Linux, each worker gets its own
socket, all bound to one port with SO_REUSEPORT, and the kernel spreads new
connections over them by a hash of their addresses. Elsewhere (macOS spreads no
TCP connections over such sockets, Windows has none), or where the kernel
refuses the option, every worker shares one socket, as under uvicorn.

This process binds the sockets, listens on them and keeps them open for as long
as it runs. Before binding, the address is tried without SO_REUSEPORT: a server
already there (a second `make run`) makes this one stop with "address already in
use", where SO_REUSEPORT alone would quietly share the port with it.

The trade-off of a socket each: the kernel picks a socket by address, not by
which worker is free. A connection sent to a worker that has died waits in its
socket's backlog for the replacement (0.5 s to notice, then the start-up)
rather than being reset; one sent to a worker that hangs waits until the
parent's ping goes unanswered (uvicorn's timeout_worker_healthcheck, 5 s) and
the worker is replaced. With one shared socket the other worker would have
taken both at once.

Workers are uvicorn's `Process`: spawned, pinged over a pipe, killed and
started again when they die or stop answering, except after a failed start-up
(exit status STARTUP_FAILURE), which would fail the same way again: then
everything stops with that status. SIGINT, SIGTERM and SIGQUIT to this process
stop the workers (each finishes its requests within uvicorn's graceful timeout;
one still running WORKER_STOP_SECONDS later is killed) and then this process;
SIGHUP replaces the workers one at a time, each new one serving before the old
one stops, as uvicorn's supervisor does. SIGUSR1, SIGUSR2 and SIGWINCH
are ignored rather than killing the parent and orphaning its workers; and should
the parent die anyway (SIGKILL, the OOM killer), each worker on Linux gets
SIGTERM from the kernel (PR_SET_PDEATHSIG) instead of holding the port and the
embedded file with nobody to stop it.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from types import FrameType

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Process

log = logging.getLogger("timeline.serve")

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGQUIT}
IGNORED_SIGNALS = {signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH}
HANDLED_SIGNALS = STOP_SIGNALS | IGNORED_SIGNALS | {signal.SIGHUP}
# How often dead or hung workers are looked for, and how soon a signal is acted on.
CHECK_SECONDS = 0.5
# How long a worker started by SIGHUP may take to serve before the old one is kept.
READY_SECONDS = 60.0
# Longer than a worker's own bounds on stopping (serve.py: 3 s for requests, then
# 5 s for running tasks), so that only a worker whose loop is stuck is killed.
WORKER_STOP_SECONDS = 15
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def bind_sockets(
    host: str, port: int, count: int, backlog: int, reuse_port: bool = True
) -> list[socket.socket]:
    """`count` listening sockets on one address, one for each worker, the kernel
    spreading connections over them; port 0 picks one free port for all of them.

    Where SO_REUSEPORT cannot be set (or `reuse_port` is False) the workers share
    one socket, as under uvicorn's supervisor, and a warning says so."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:  # without SO_REUSEPORT: refused where anyone listens
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        address = probe.getsockname()  # a host name looked up once, port 0 chosen once
    if reuse_port and not _can_reuse_port(family):
        reuse_port = False
    if not reuse_port:
        return [_listen(family, address, backlog, reuse_port=False)] * count
    group: list[socket.socket] = []
    try:
        while len(group) < count:
            group.append(_listen(family, address, backlog, reuse_port=True))
    except OSError:
        for sock in group:
            sock.close()
        raise
    return group


def _can_reuse_port(family: socket.AddressFamily) -> bool:
    try:
        with socket.socket(family) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    except (AttributeError, OSError) as refused:  # AttributeError: no such option here
        log.warning("SO_REUSEPORT refused (%s): one socket for every worker", refused)
        return False
    return True


def _listen(
    family: socket.AddressFamily, address: tuple[object, ...], backlog: int, reuse_port: bool
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


class Worker(Process):
    """uvicorn's worker process, which on Linux also ends when its parent does."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        _end_with_parent()
        super().target(sockets)


def _end_with_parent() -> None:
    """Ask the kernel for SIGTERM when the parent dies, even by SIGKILL: a worker
    left behind would go on holding the port and the embedded file, and a new
    server would be refused both."""
    parent = multiprocessing.parent_process()  # spawn hands the worker its parent's pid
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        log.warning("cannot ask to end with the parent: errno %d", ctypes.get_errno())
    elif os.getppid() != parent.pid:  # it died before the request took effect
        os._exit(1)


class Supervisor:
    """Runs one uvicorn worker per socket until told to stop (`run`)."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        self.config = config
        self.sockets = sockets
        self.workers: list[Worker] = []
        self.exit_status = 0
        self._stopping = False
        self._signals: list[int] = []

    def run(self) -> int:
        """Serves until SIGINT, SIGTERM or SIGQUIT, or a worker's failed start-up;
        the exit status: 0, or STARTUP_FAILURE."""
        # A handler only notes the signal and the loop below acts on it: starting
        # and stopping workers from a handler would run in the middle of whatever
        # it interrupted, a replacement of workers included.
        previous = {sig: signal.signal(sig, self._note_signal) for sig in HANDLED_SIGNALS}
        try:
            log.info("parent process %d: %d workers", os.getpid(), len(self.sockets))
            for sock in self.sockets:
                self.workers.append(self._start(sock))
            while not self._stopping:
                time.sleep(CHECK_SECONDS)
                self._act_on_signals()
                self._replace_dead_workers()
        finally:
            # Whatever ended the loop, no worker is left serving without a parent.
            self._stop_workers(self.workers)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for sock in self.sockets:
                sock.close()
        log.info("parent process %d stopped", os.getpid())
        return self.exit_status

    def _start(self, sock: socket.socket) -> Worker:
        worker = Worker(self.config, [sock])
        worker.start()
        return worker

    def _note_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals.append(signum)

    def _act_on_signals(self) -> None:
        while self._signals and not self._stopping:
            signum = self._signals.pop(0)
            name = signal.Signals(signum).name
            if signum in STOP_SIGNALS:
                log.info("received %s, stopping", name)
                self._stopping = True
            elif signum == signal.SIGHUP:
                log.info("received SIGHUP, replacing the workers one at a time")
                self._replace_all()
            else:
                log.info("received %s, ignored", name)

    def _interrupted(self) -> bool:
        """Whether a signal waits that comes before the work in hand: a stop, or
        another SIGHUP (not one of the ignored ones)."""
        return self._stopping or any(s not in IGNORED_SIGNALS for s in self._signals)

    def _stop_workers(self, workers: list[Worker]) -> None:
        """SIGTERM to each, then WORKER_STOP_SECONDS for all of them to finish;
        SIGKILL to one that has not (its loop is stuck)."""
        for worker in workers:
            worker.terminate()
        deadline = time.monotonic() + WORKER_STOP_SECONDS
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.exitcode is None:
                log.error(
                    "worker %s did not stop in %d s: killing it", worker.pid, WORKER_STOP_SECONDS
                )
                worker.kill()
                worker.join()

    def _replace_all(self) -> None:
        for index, old in enumerate(self.workers):
            if self._interrupted():
                return  # a stop asked for meanwhile comes first
            new = self._start(self.sockets[index])
            if not self._until_ready(new):
                # Gracefully: it may have taken connections from the shared socket.
                self._stop_workers([new])
                if not self._interrupted():
                    log.error("worker %s did not start: keeping worker %s", new.pid, old.pid)
                return
            self._stop_workers([old])
            self.workers[index] = new

    def _until_ready(self, worker: Worker) -> bool:
        """Whether `worker` serves within READY_SECONDS; False at once if it ends,
        or if a stop or another SIGHUP comes meanwhile."""
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline and not self._interrupted():
            if worker.exitcode is not None:
                return False
            if worker.is_ready(timeout=1):
                return True
            time.sleep(0.1)
        return False

    def _replace_dead_workers(self) -> None:
        for index, worker in enumerate(self.workers):
            if self._interrupted():
                return  # acted on first: a stop must not start a worker
            if worker.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            worker.kill()  # if it is hung rather than gone
            worker.join()
            if worker.exitcode == STARTUP_FAILURE:
                log.error("worker %s failed to start: stopping the server", worker.pid)
                self.exit_status = STARTUP_FAILURE
                self._stopping = True
                return
            log.warning("worker %s ended (%s): starting another", worker.pid, worker.exitcode)
            self.workers[index] = self._start(self.sockets[index])


def supervise(config: Config) -> None:
    """Binds config's address, runs config.workers workers and exits with the
    supervisor's status (uvicorn's STARTUP_FAILURE when the address is taken)."""
    try:
        sockets = bind_sockets(
            config.host,
            config.port,
            config.workers,
            config.backlog,
            reuse_port=sys.platform.startswith("linux"),
        )
    except OSError as taken:
        log.error("cannot listen on %s:%d: %s", _shown(config.host), config.port, taken.strerror)
        sys.exit(STARTUP_FAILURE)
    host, port = sockets[0].getsockname()[:2]
    spread = "a socket each" if len(set(sockets)) > 1 else "one shared socket"
    log.info(
        "listening on http://%s:%d, %d processes, %s", _shown(host), port, config.workers, spread
    )
    status = Supervisor(config, sockets).run()
    if status:
        sys.exit(status)


def _shown(host: str) -> str:
    """`host` as it goes in a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host
