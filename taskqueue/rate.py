"""A token bucket: queue.yaml's `rate` and `bucket_size`, as App Engine applies them.

The bucket holds at most `bucket_size` tokens and gains `rate` tokens a second; each
dispatch spends one. A full bucket allows a burst of `bucket_size` at once, and
after that dispatches flow at `rate`. A rate of 0 pauses the queue.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self, rate: float, capacity: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = float(capacity)
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def try_take(self, most: int) -> int:
        """Take up to `most` whole tokens without waiting; 0 when the bucket is dry."""
        self._refill()
        taken = max(0, min(most, math.floor(self._tokens)))
        self._tokens -= taken
        return taken

    def give_back(self, count: int) -> None:
        self._tokens = min(self.capacity, self._tokens + count)

    def seconds_until_token(self) -> float:
        """How long until one whole token is there (infinite for a paused queue)."""
        self._refill()
        if self._tokens >= 1:
            return 0.0
        return math.inf if self.rate <= 0 else (1 - self._tokens) / self.rate
