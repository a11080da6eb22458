"""Whether the store can serve a read now: what `/healthz` reports.

One lookup by key, through the port, so both adapters answer the same question:
a corrupt or unreadable SQLite file and an unreachable Datastore both show, and a
store that hangs shows as a timeout instead of hanging the health check
(TIMELINE_HEALTH_TIMEOUT_SECONDS).
"""

from __future__ import annotations

import asyncio
import logging

from store.keys import Key
from store.port import Store

log = logging.getLogger("timeline.health")

PROBE = Key.of("HealthProbe", "probe")  # never written: the read only has to succeed
_CAUSE_CHARS = 300


async def store_problem(store: Store, *, within: float) -> str | None:
    """None when a read works within `within` seconds, else what went wrong."""
    try:
        async with asyncio.timeout(within):
            await store.get_many([PROBE])
    except TimeoutError:
        cause = f"the store did not answer a read within {within:g}s"
    except Exception as error:
        cause = f"the store cannot be read: {type(error).__name__}: {error}"
    else:
        return None
    log.error("health check failed: %s", cause)
    return cause[:_CAUSE_CHARS]
