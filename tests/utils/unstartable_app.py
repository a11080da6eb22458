"""An ASGI app whose start-up always fails: what a server worker that cannot
start runs (tests/test_supervisor.py)."""

from __future__ import annotations

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.failed", "message": "this app never starts"})
