"""The server: uvicorn, run with the limits that keep one client from holding it,
in as many processes as the instance has CPUs for.

    python -m serve [--host 127.0.0.1] [--port 8080]    # `make run`; App Engine's entrypoint
    python -m serve --host 0.0.0.0                      # the container's CMD (Dockerfile)
    python -m serve --workers 2                         # two processes (default: see below)

uvicorn on its own bounds neither how long a client may take to send its headers
nor how many connections it holds. Here:
- headers: at most MAX_HEADER_BYTES while they arrive (HeaderDeadline counts them:
  400 and the connection closed) and once they have (request_limits.py: 431),
  and complete within TIMELINE_HEADER_SECONDS of the connection opening or of the
  previous response (HeaderDeadline; the connection is closed otherwise);
- idle keep-alive connections close after KEEP_ALIVE_SECONDS;
- at most MAX_CONCURRENCY connections and requests at once per process (503 beyond);
- the body must arrive within TIMELINE_BODY_TIMEOUT_SECONDS (request_limits.py, 408);
- on SIGTERM, requests in flight get GRACEFUL_SHUTDOWN_SECONDS to finish.

How long a request may run is the platform's to enforce, not ours: App Engine
standard ends a request after 10 minutes (automatic scaling), Cloud Run after the
service's timeoutSeconds (deploy/cloudrun/service.yaml: 300). Both are longer than
anything the API does on purpose; a task handler that needs longer chains itself.

Speed: httptools rather than the pure-Python h11, uvloop (uvicorn's "auto" loop
picks it), and no access log: a line per request cost about a sixth of a small
request. Errors are still logged.

Processes (`worker_count`): one event loop per CPU the instance may use, because
the work between awaits is CPU (GraphQL execution, JSON); image decoding runs in
each process's thread pool, outside the GIL. `--workers N`, else WEB_CONCURRENCY,
overrides the count (WEB_CONCURRENCY, HOST, PORT and FORWARDED_ALLOW_IPS are
read with the settings: settings/server.py); on the embedded store the default is
1 (`worker_count` says why), and `--workers N` runs N processes on its one file,
one of them leading the background work (store/sqlite_lock.py). With several
processes each gets an equal share of the image memory budget, the in-process
cache is off, and each listens on a socket of its own (supervisor.py), so that
the kernel spreads connections over them.

Logging is the app's (observability/logs.py): JSON lines for Cloud Logging in
production, readable ones locally, uvicorn's loggers through the same handler,
and the app's own access line (with request id, trace and latency) instead of
uvicorn's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging.config
import math
import os
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app import create_app
from collector import freeze_survivors
from media.budget import default_budget
from observability.logs import log_config
from settings import PREFIX, Settings, SettingsError, WebSettings, load_settings
from supervisor import supervise

log = logging.getLogger("timeline.serve")

# HeaderDeadline reads at most this much of an incomplete request line and headers; the app
# checks complete ones against the same figure (request_limits.py).
MAX_HEADER_BYTES = WebSettings.max_header_bytes
KEEP_ALIVE_SECONDS = 5
# Above what the platforms send an instance: App Engine's max_concurrent_requests
# (40, app.yaml) and Cloud Run's containerConcurrency (80, service.yaml).
MAX_CONCURRENCY = 200
# Cloud Run sends SIGKILL 10 s after SIGTERM: 3 s for requests in flight, then the
# lifespan's 5 s for running tasks (handed back to the queue if they do not finish).
GRACEFUL_SHUTDOWN_SECONDS = 3


class HeaderDeadline(HttpToolsProtocol):
    """httptools with bounds on each request's headers (slowloris): a deadline,
    armed when the connection opens and after each response, that closes a
    connection that has not started a request by then; and a size bound on headers
    still arriving, which h11 has and httptools has not (it buffers them unbounded)."""

    header_seconds = WebSettings.header_seconds  # worker_app() sets the configured one
    _header_timer: asyncio.TimerHandle | None = None
    _awaiting_headers = True
    _header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        waiting = self._awaiting_headers
        super().data_received(data)
        if waiting and self._awaiting_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self.send_400_response("Request header fields too large.")

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._awaiting_headers, self._header_bytes = True, 0
        super().on_response_complete()
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(self.header_seconds, self._close_if_no_request)

    def _close_if_no_request(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()


def worker_count(
    settings: Settings,
    cgroup_root: Path = Path("/sys/fs/cgroup"),
    requested: int | None = None,
) -> int:
    """How many server processes this instance runs.

    - `--workers N` (`requested`) when given, else WEB_CONCURRENCY when set
      (`settings.web.processes`; service.yaml sets it to the container's CPU limit);
    - the embedded store: 1 unless asked for more. It is the local default, where one
      process keeps the in-process cache (several run without it: each would miss
      the others' writes), one log and one place to debug; several processes share
      the file (store/sqlite_lock.py), which pays where the cores are free (on this
      project's shared machine it was not measurable: docs/PERFORMANCE.md);
    - App Engine: 1. Its F-class instances have at most one CPU's worth (an F2 is
      1.2 GHz) and report the host's CPUs, so counting them would oversubscribe;
    - elsewhere: the CPUs this process may use (affinity, and the cgroup's quota,
      which is how a container's CPU limit is set).
    """
    if requested is not None:
        if requested < 1:
            raise SettingsError(f"--workers must be a whole number above 0, not {requested}")
        return requested
    if settings.web.processes is not None:
        return settings.web.processes
    if settings.store == "sqlite" or settings.app_engine:
        return 1
    return usable_cpus(cgroup_root)


def listen_address(settings: Settings, host: str | None, port: int | None) -> tuple[str, int]:
    """Where the server listens: `--host` and `--port` when given, else HOST and PORT
    (App Engine and Cloud Run set PORT), else 127.0.0.1:8080."""
    return host or settings.web.host, settings.web.port if port is None else port


def uncached_for_workers(
    settings: Settings, workers: int, environ: MutableMapping[str, str]
) -> bool:
    """With several processes, the in-process cache is off (each process would keep
    serving what another one's write changed); whether it was turned off here. Asked
    for in so many words (TIMELINE_CACHE=memory), it is refused instead."""
    if workers == 1 or settings.cache.backend != "memory":
        return False
    name = PREFIX + "CACHE"
    if environ.get(name, "").strip():
        raise SettingsError(
            f"{name}=memory with {workers} processes: each would keep serving what another "
            f"one's write changed; use {name}=off, or redis ({PREFIX}REDIS_URL)"
        )
    environ[name] = "off"  # inherited by the worker processes
    return True


def usable_cpus(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    cpus = len(os.sched_getaffinity(0))
    try:  # cgroup v2: "<quota> <period>", or "max <period>" without a limit
        quota, period = (cgroup_root / "cpu.max").read_text().split()
    except (OSError, ValueError):
        return cpus
    if quota == "max":
        return cpus
    return max(1, min(cpus, math.ceil(int(quota) / int(period))))


def worker_app() -> Starlette:
    """The app in each worker process (uvicorn's factory when there are several)."""
    settings = load_settings()
    HeaderDeadline.header_seconds = settings.web.header_seconds
    app = create_app(settings)
    # Everything made so far (modules, the schema, the app) lives as long as the
    # process, and so does most of what the in-process cache keeps from now on:
    # out of the collector's sight, a full collection does not walk it, and its
    # pause no longer grows as the cache fills (collector.py).
    freeze_survivors()
    return app


async def _prepare_store(app: Starlette) -> None:
    """Seed demo data into a store made at this start, then close it."""
    try:
        if app.state.seed_demo:
            from demo import seed_demo_data

            await seed_demo_data(app.state.store, app.state.media)
    finally:
        await app.state.store.close()


def _share_image_budget(workers: int) -> None:
    """Each process's image budget is its share of the instance's (media/budget.py),
    handed to the workers through the environment they inherit."""
    name = PREFIX + "IMAGE_MEMORY_BUDGET"
    if workers > 1 and not os.environ.get(name):
        os.environ[name] = str(default_budget(os.environ) // workers)


def logging_for(settings: Settings) -> dict[str, Any]:
    """JSON lines for Cloud Logging in production, readable lines locally, for the
    app's loggers and uvicorn's alike (observability/logs.py)."""
    return log_config(
        production=settings.is_production,
        project=settings.observability.project,
        level=settings.observability.log_level,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m serve`: a setting that is wrong stops it with exit status 2 and what
    to fix, in a line a deploy log shows whole (a traceback would bury it)."""
    try:
        run(argv)
    except SettingsError as wrong:
        print(f"cannot start: {wrong}", file=sys.stderr)
        sys.exit(2)


def run(argv: Sequence[str] | None) -> None:
    parser = argparse.ArgumentParser(prog="python -m serve", description=__doc__.split("\n")[0])
    parser.add_argument("--host", help="the address to listen on (default: HOST, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="the port to listen on (default: PORT, else 8080)")
    parser.add_argument(
        "--forwarded-allow-ips",
        help="sets FORWARDED_ALLOW_IPS for this server: proxies whose X-Forwarded-* headers "
        "are believed ('*' behind Google's front ends)",
    )
    parser.add_argument(
        "--header-seconds", type=float, help=f"sets {PREFIX}HEADER_SECONDS for this server"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="server processes (default: WEB_CONCURRENCY, else 1 on the embedded store, "
        "else the usable CPUs)",
    )
    args = parser.parse_args(argv)
    if args.header_seconds is not None:
        os.environ[PREFIX + "HEADER_SECONDS"] = str(args.header_seconds)
    if args.forwarded_allow_ips is not None:  # read and checked with the other settings
        os.environ["FORWARDED_ALLOW_IPS"] = args.forwarded_allow_ips
    settings = load_settings()
    logging_config = logging_for(settings)
    logging.config.dictConfig(logging_config)  # before the app is built, which may log
    host, port = listen_address(settings, args.host, args.port)
    workers = worker_count(settings, requested=args.workers)
    if uncached_for_workers(settings, workers, os.environ):
        log.info("%d processes: the in-process cache is off (TIMELINE_CACHE=off)", workers)
    _share_image_budget(workers)
    # Built here whatever the count: a setting the app refuses stops the server now.
    # Were it left to the workers, uvicorn would start each failed one again, forever.
    app = worker_app()
    if workers > 1:
        # The workers build their own; this one only makes the store (and its demo
        # data, which a worker would not seed into a file it did not make).
        asyncio.run(_prepare_store(app))
    options = server_options(settings, host, port, logging_config)
    if workers == 1:  # said in so many words: uvicorn would read WEB_CONCURRENCY itself
        uvicorn.run(app, workers=1, **options)
    else:
        supervise(uvicorn.Config("serve:worker_app", factory=True, workers=workers, **options))


def server_options(
    settings: Settings, host: str, port: int, logging_config: dict[str, Any]
) -> dict[str, Any]:
    """uvicorn's settings, the same for one process and for several."""
    return {
        "host": host,
        "port": port,
        "http": HeaderDeadline,
        "proxy_headers": True,
        "forwarded_allow_ips": list(settings.web.forwarded_allow_ips),  # ['*']: any peer
        "server_header": False,
        "limit_concurrency": MAX_CONCURRENCY,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        "log_config": logging_config,  # applied again in each worker process
        "access_log": False,  # the app writes one access line per request, with its ids
    }


if __name__ == "__main__":
    # Run as the importable `serve`, the module uvicorn loads worker_app from, so
    # that both see one protocol class (and worker processes can unpickle it).
    import serve

    serve.main()
