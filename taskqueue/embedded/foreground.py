"""Clients waiting for answers, and how many deliveries the workers run meanwhile.

The embedded workers deliver tasks through the app's own stack on the event loop
that answers clients, and a queue allows up to its max_concurrent_requests at
once (100 for pushes). Under `bench_load` 13 to 30 deliveries were in flight
beside 20 clients' requests, and every turn of the loop passed over each of
them: a mutation, which waits for several turns, waited for them all. The
tasks' callers wait for nobody, so while any client request is in flight each
queue runs at most DELIVERIES_WHILE_CLIENTS_WAIT at once; it gets its whole
concurrency back as soon as none is, or once the backlog (backlog.py) reaches
half its limit, so that the background keeps up before requests would have to
wait for it.

`CountedRequests` counts the requests: every HTTP request except the
deliveries themselves (under TASKS_PATH, where the workers post them).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

DELIVERIES_WHILE_CLIENTS_WAIT = 4  # per queue
TASKS_PATH = "/_internal/"


class Foreground:
    def __init__(self) -> None:
        self.requests = 0  # client requests in flight
        self._on_idle: list[Callable[[], None]] = []

    def on_idle(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever the last request in flight finishes."""
        self._on_idle.append(listener)

    def started(self) -> None:
        self.requests += 1

    def finished(self) -> None:
        self.requests -= 1
        if self.requests == 0:
            for listener in self._on_idle:
                listener()

    def deliveries(self, most: int, *, backlog_high: bool) -> int:
        """How many deliveries a queue allowed `most` may run at once now."""
        if self.requests and not backlog_high:
            return min(most, DELIVERIES_WHILE_CLIENTS_WAIT)
        return most


class CountedRequests:
    """ASGI middleware: keeps `foreground.requests` for the requests it passes on."""

    def __init__(self, app: ASGIApp, *, foreground: Foreground) -> None:
        self._app = app
        self._foreground = foreground

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(TASKS_PATH):
            await self._app(scope, receive, send)
            return
        self._foreground.started()
        try:
            await self._app(scope, receive, send)
        finally:
            self._foreground.finished()
