"""The server: uvicorn, run with the limits that keep one client from holding it.

    python -m serve [--host 127.0.0.1] [--port 8080]    # `make run`; App Engine's entrypoint

uvicorn on its own bounds neither how long a client may take to send its headers
nor how many connections it holds. Here:
- headers: at most MAX_HEADER_BYTES (h11's incomplete-event limit while they
  arrive, request_limits.py once they have: 431), and complete within
  HEADER_SECONDS of the connection opening or of the previous response
  (HeaderDeadline; the connection is closed otherwise);
- idle keep-alive connections close after KEEP_ALIVE_SECONDS;
- at most MAX_CONCURRENCY connections and requests at once (503 beyond);
- the body must arrive within TIMELINE_BODY_TIMEOUT_SECONDS (request_limits.py, 408);
- on SIGTERM, requests in flight get GRACEFUL_SHUTDOWN_SECONDS to finish.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from app import create_app
from settings import WebSettings, load_settings

# h11 buffers at most this much of an incomplete request line and headers; the app
# checks complete ones against the same figure (request_limits.py).
MAX_HEADER_BYTES = WebSettings.max_header_bytes
HEADER_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5
MAX_CONCURRENCY = 200  # App Engine sends at most max_concurrent_requests (40) per instance
# SIGTERM budget, about 10 s in all: 3 s for requests in flight, then the lifespan's
# 5 s for running tasks (handed back to the queue if they do not finish).
GRACEFUL_SHUTDOWN_SECONDS = 3


class HeaderDeadline(H11Protocol):
    """h11 with a deadline for each request's headers (slowloris): armed when the
    connection opens and after each response, it closes a connection that has
    not started a request by then."""

    header_seconds = HEADER_SECONDS
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m serve", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        help="proxies whose X-Forwarded-* headers are believed ('*' behind App Engine's front end)",
    )
    parser.add_argument("--header-seconds", type=float, default=HEADER_SECONDS)
    args = parser.parse_args(argv)
    protocol = type("Protocol", (HeaderDeadline,), {"header_seconds": args.header_seconds})
    config = uvicorn.Config(
        create_app(load_settings()),
        host=args.host,
        port=args.port,
        http=protocol,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        server_header=False,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        limit_concurrency=MAX_CONCURRENCY,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
