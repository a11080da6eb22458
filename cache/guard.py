"""The cache may fail; a request may not fail because of it.

`GuardedCache` wraps an adapter. A failing lookup is a miss and a failing fill
is dropped, so the request is answered from the store, slower, and a warning
says so (at most once a minute, with how many failures it stands for). After a
failure the cache is left alone for `retry_after` seconds, so an unreachable
Redis costs one timeout a second rather than one a request.

An invalidation that does not get through is kept and sent again before this
process reads the cache again; until it has been, this process reads past the
cache. So the writing client reads its own write even through an outage. Other
instances sharing the cache could see the old value only while this one cannot
reach a cache that they can, and at most for the value's time to live.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Sequence

from cache.port import MISS, Cache, Fill, Found, Slot

log = logging.getLogger("timeline.cache")
RETRY_AFTER_SECONDS = 1.0
WARN_EVERY_SECONDS = 60.0


class GuardedCache:
    def __init__(
        self,
        inner: Cache,
        *,
        name: str,
        retry_after: float = RETRY_AFTER_SECONDS,
        warn_every: float = WARN_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self._name = name
        self._retry_after = retry_after
        self._warn_every = warn_every
        self._clock = clock
        self._resting_until = float("-inf")
        self._last_warning = float("-inf")
        self._unreported = 0
        self._failing = False
        self.failures = 0
        # generation key -> when it was marked; an entry added again while a send
        # is in flight is newer than that send, so the send does not clear it.
        self._pending: dict[str, int] = {}
        self._marks = itertools.count()

    @property
    def keeps_objects(self) -> bool:
        return self.inner.keeps_objects

    @property
    def pending_invalidations(self) -> int:
        return len(self._pending)

    async def lookup(self, slots: Sequence[Slot]) -> list[Found]:
        if not slots or not await self._send_pending():
            return [MISS] * len(slots)
        try:
            found = await self.inner.lookup(slots)
        except Exception as error:
            self._failed("lookup", error)
            return [MISS] * len(slots)
        self._succeeded()
        return found

    async def fill(self, fills: Sequence[Fill]) -> None:
        if not fills or not self._awake():
            return
        try:
            await self.inner.fill(fills)
        except Exception as error:
            self._failed("fill", error)
        else:
            self._succeeded()

    async def invalidate(self, generations: Sequence[str]) -> None:
        for key in generations:
            self._pending[key] = next(self._marks)
        await self._send_pending()

    async def close(self) -> None:
        try:
            await self.inner.close()
        except Exception as error:
            self._failed("close", error)

    async def _send_pending(self) -> bool:
        """True once no invalidation is outstanding, so the cache may be read."""
        if not self._pending:
            return self._awake()
        if not self._awake():
            return False
        sending = dict(self._pending)
        try:
            await self.inner.invalidate(list(sending))
        except Exception as error:
            self._failed("invalidate", error)
            return False
        for key, mark in sending.items():
            if self._pending.get(key) == mark:
                del self._pending[key]
        self._succeeded()
        return not self._pending

    def _awake(self) -> bool:
        return self._clock() >= self._resting_until

    def _failed(self, operation: str, error: Exception) -> None:
        self.failures += 1
        self._failing = True
        now = self._clock()
        self._resting_until = now + self._retry_after
        self._unreported += 1
        if now - self._last_warning >= self._warn_every:
            log.warning(
                "%s cache unreachable (%s: %r; %d failure(s) since the last warning); "
                "serving from the store",
                self._name,
                operation,
                error,
                self._unreported,
            )
            self._last_warning = now
            self._unreported = 0

    def _succeeded(self) -> None:
        if self._failing:
            self._failing = False
            log.info("%s cache reachable again", self._name)
