"""One HTTP request to an ASGI app, in process: how the embedded dispatcher reaches
the app's own internal routes, through its whole middleware and routing stack.

Equivalent to httpx's ASGITransport for this one use, at a fraction of the cost
per task (no client-side URL and header models, and no failed `import sniffio`
that httpx 0.28 attempts on every request when sniffio is absent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message

log = logging.getLogger("timeline.tasks.asgi")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


async def post(
    app: ASGIApp, path: str, headers: Mapping[str, str], body: bytes, *, method: str = "POST"
) -> Answer:
    """`method` is POST for tasks; the cron scheduler sends GET, as App Engine's cron does."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("ascii"),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in {**headers, "content-length": str(len(body))}.items()
        ],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    body_sent = False
    finished = asyncio.Event()
    status: int | None = None
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    try:
        await app(scope, receive, send)
    except Exception:
        # Starlette has already answered 500 (ServerErrorMiddleware) and re-raises.
        log.exception("the app raised while handling %s", path)
        if status is None:
            status = 500
    finally:
        finished.set()
    if status is None:
        raise RuntimeError(f"the app sent no response to {method} {path}")
    return Answer(status, b"".join(chunks))
