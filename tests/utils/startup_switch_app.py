"""An ASGI app whose start-up and shut-down a test steers while it runs: the file
named by TIMELINE_TEST_START says how each new worker starts ("fail", "slow
<seconds>", or anything else: at once), and "stuck" makes a worker's shut-down
block its event loop for good. It answers every request with its process id.
For tests/test_supervisor.py and test_supervisor_signals.py, which start, replace
and stop workers under it."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any


def _how_to_start() -> str:
    path = os.environ.get("TIMELINE_TEST_START")
    return Path(path).read_text().strip() if path and Path(path).exists() else ""


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                if _how_to_start() == "stuck":
                    time.sleep(3600)  # noqa: ASYNC251 (the point: a loop that never wakes)
                await send({"type": "lifespan.shutdown.complete"})
                return
            how = _how_to_start()
            if how == "fail":
                await send({"type": "lifespan.startup.failed", "message": "this app never starts"})
                return
            if how.startswith("slow "):
                await asyncio.sleep(float(how.split()[1]))
            await send({"type": "lifespan.startup.complete"})
    elif scope["type"] == "http":
        body = str(os.getpid()).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
