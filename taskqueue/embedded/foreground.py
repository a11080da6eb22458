"""Clients waiting for answers, and how many deliveries the workers run meanwhile.

The embedded workers deliver tasks through the app's own stack on the event loop
that answers clients, and a queue allows up to its max_concurrent_requests at
once (100 for pushes). Under `bench_load` 13 to 30 deliveries were in flight
beside 20 clients' requests, and every turn of the loop passed over each of
them: a mutation, which waits for several turns, waited for them all. The
tasks' callers wait for nobody, so while clients' requests come each queue runs
at most DELIVERIES_WHILE_CLIENTS_WAIT at once. It gets its whole concurrency
back once none came for QUIET_SECONDS, or once the backlog (backlog.py) reaches
half its limit: the background keeps up before requests would wait for it.

`CountedRequests` counts the requests: every HTTP request except the
deliveries themselves (under TASKS_PATH, where the workers post them).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

DELIVERIES_WHILE_CLIENTS_WAIT = 4  # per queue
# A load's requests come one after the other, with gaps of a few milliseconds in
# which none is in flight (under `bench_load` about a third of the time): it ends
# only when none came for this long.
QUIET_SECONDS = 0.5
TASKS_PATH = "/_internal/"


class Foreground:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.requests = 0  # client requests in flight
        self._clock = clock
        self._last_finished = -QUIET_SECONDS

    def started(self) -> None:
        self.requests += 1

    def finished(self) -> None:
        self.requests -= 1
        self._last_finished = self._clock()

    @property
    def busy(self) -> bool:
        """Whether a client request is in flight, or one finished within QUIET_SECONDS."""
        return self.requests > 0 or self._clock() - self._last_finished < QUIET_SECONDS

    def deliveries(self, most: int, *, backlog_high: bool) -> int:
        """How many deliveries a queue allowed `most` may run at once now."""
        if not backlog_high and self.busy:
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
