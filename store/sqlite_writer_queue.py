"""The SQLite writer's queue: a request's jobs before the background's.

Under a mixed load most of the writer's jobs are background work (task handlers'
commits, claims, settled deliveries, relayed enqueues, pushes' receipts): under
`bench_load`, about seven in ten. In one FIFO queue a request's commit waited
behind all of them, each a GIL hand-off between the event loop's thread and the
writer's, while its client waited; the background's tasks wait for nobody. So
the writer takes a foreground job (one submitted outside `writes_in_background`)
before any background one; and so that a steady stream of requests cannot
starve the background (whose backlog in turn slows requests down), it takes one
background job after every `background_every` foreground jobs taken while one
waited.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

Item = TypeVar("Item")

BACKGROUND_EVERY = 8  # foreground jobs taken at most while a background one waits


class WriterQueue(Generic[Item]):
    def __init__(self, *, background_every: int = BACKGROUND_EVERY) -> None:
        self._background_every = background_every
        self._changed = threading.Condition()
        self._foreground: deque[Item] = deque()
        self._background: deque[Item] = deque()
        self._passed_over = 0  # foreground jobs taken since a background one waits

    def put(self, item: Item, *, background: bool) -> None:
        with self._changed:
            (self._background if background else self._foreground).append(item)
            self._changed.notify()

    def get(self) -> Item:
        """The next job, waiting for one: foreground first, within the bound."""
        with self._changed:
            while not (self._foreground or self._background):
                self._changed.wait()
            if self._background and (
                not self._foreground or self._passed_over >= self._background_every
            ):
                self._passed_over = 0
                return self._background.popleft()
            if self._background:
                self._passed_over += 1
            return self._foreground.popleft()

    def foreground_waiting(self) -> bool:
        """Whether a request's job waits (reading a deque's length needs no lock)."""
        return bool(self._foreground)
