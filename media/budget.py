"""How many bytes of image work may be in memory at once, and who waits for them.

`MemoryBudget` is a weighted semaphore counted in bytes: an upload is admitted
with its estimated cost (media/cost.py) when that many bytes are free, in the
order uploads asked, and gives them back when its work is done. An image
thread may take bytes itself (`try_acquire`) when nobody waits, so inspection
and rendering are one job of the pool instead of two hops of the loop. Waiting is
bounded: past the deadline the caller gets `BudgetExhausted` and answers
"try again shortly" instead of growing the process towards an out-of-memory kill.

`default_budget` derives the budget from the memory the instance has: App
Engine's GAE_MEMORY_MB, else the cgroup limit, else the machine's RAM.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path

MIB = 1024 * 1024
# Image work may use this share of the instance's memory; the rest is the
# interpreter, the app, the store client, requests in flight and allocator slack.
# On an F2 instance (768 MB) that is 384 MiB: one 49 MP PNG at a time.
BUDGET_SHARE = 0.5
# Above this a budget buys nothing: the image worker pool bounds concurrency anyway.
BUDGET_CAP = 2048 * MIB
_UNLIMITED_CGROUP = 1 << 60  # cgroup v1 says "no limit" with a number near 2**63


class BudgetExhausted(Exception):
    """No room was freed within the wait: the caller should answer "retry later"."""


class MemoryBudget:
    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"a memory budget must be positive, not {capacity}")
        self.capacity = capacity
        self._admitted = 0
        self._high_water = 0
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()
        # Image threads take bytes too (try_acquire): every change of the count or
        # the queue holds this lock. Futures are only ever resolved on the loop.
        self._lock = threading.Lock()

    @property
    def admitted(self) -> int:
        """Bytes admitted and not yet released."""
        return self._admitted

    @property
    def high_water(self) -> int:
        """The most bytes ever admitted at once: never more than `capacity`."""
        return self._high_water

    async def acquire(self, cost: int, *, wait_seconds: float) -> None:
        """Admits `cost` bytes, waiting at most `wait_seconds` for them (first come,
        first served: a large image is not overtaken forever by small ones)."""
        if cost > self.capacity:
            raise ValueError(f"{cost} bytes can never fit in a budget of {self.capacity}")
        with self._lock:
            if self._take_if_free(cost):
                return
            entry = (cost, asyncio.get_running_loop().create_future())
            self._waiting.append(entry)
        admitted = entry[1]
        try:
            await asyncio.wait_for(asyncio.shield(admitted), wait_seconds)
        except TimeoutError:
            if self._withdraw(entry):
                raise BudgetExhausted(f"{cost} bytes not free within {wait_seconds:g} s") from None
            # Admitted in the very turn the wait ran out: keep it.
        except BaseException:  # cancelled while waiting
            if not self._withdraw(entry):
                self.release(cost)
            raise

    def try_acquire(self, cost: int) -> bool:
        """Admits `cost` bytes if they are free and nobody waits (first come, first
        served); never waits. Safe from any thread."""
        with self._lock:
            return self._take_if_free(cost)

    def release(self, cost: int) -> None:
        """On the loop's thread: it may admit a waiter."""
        with self._lock:
            self._admitted -= cost
            self._admit_waiting()

    def release_unless_awaited(self, cost: int) -> bool:
        """Gives `cost` bytes back from any thread when nobody waits for them;
        False when somebody does: then `release` them on the loop's thread."""
        with self._lock:
            if self._waiting:
                return False
            self._admitted -= cost
            return True

    def _take_if_free(self, cost: int) -> bool:
        if self._waiting or self._admitted + cost > self.capacity:
            return False
        self._admit(cost)
        return True

    def _withdraw(self, entry: tuple[int, asyncio.Future[None]]) -> bool:
        """Takes a waiter out of the queue; False when it had been admitted already."""
        _, admitted = entry
        if admitted.done():
            return False
        admitted.cancel()
        with self._lock:
            self._waiting.remove(entry)
            self._admit_waiting()  # a large head that left may unblock smaller ones
        return True

    def _admit(self, cost: int) -> None:
        self._admitted += cost
        self._high_water = max(self._high_water, self._admitted)

    def _admit_waiting(self) -> None:
        while self._waiting and self._admitted + self._waiting[0][0] <= self.capacity:
            cost, admitted = self._waiting.popleft()
            self._admit(cost)
            admitted.set_result(None)


def default_budget(environ: Mapping[str, str], cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """`BUDGET_SHARE` of the instance's memory, at most `BUDGET_CAP`."""
    return min(BUDGET_CAP, int(instance_memory(environ, cgroup_root) * BUDGET_SHARE))


def instance_memory(environ: Mapping[str, str], cgroup_root: Path) -> int:
    """The memory this process may use: the smallest of what App Engine says
    (GAE_MEMORY_MB, set on the standard runtimes), the cgroup limit (v2 or v1,
    as containers set it) and the machine's physical memory."""
    candidates = [os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")]
    app_engine = environ.get("GAE_MEMORY_MB", "")
    if app_engine.isdigit() and int(app_engine) > 0:
        candidates.append(int(app_engine) * MIB)
    for limit_file in (cgroup_root / "memory.max", cgroup_root / "memory/memory.limit_in_bytes"):
        limit = _read_limit(limit_file)
        if limit is not None:
            candidates.append(limit)
    return min(candidates)


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit() or not 0 < int(text) < _UNLIMITED_CGROUP:
        return None  # "max" (v2) or a huge number (v1): no limit
    return int(text)


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (musl, macOS): nothing to do
    return trim


_MALLOC_TRIM = _load_malloc_trim()


def return_freed_memory() -> None:
    """Hands memory that image work freed back to the system. glibc keeps freed
    blocks in the arena of the thread that freed them, for reuse by that thread:
    with several image threads, each would keep its last image's worth and the
    process would grow past the budget without holding a byte more of pixels."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
