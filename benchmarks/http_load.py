"""A small HTTP/1.1 load generator: keep-alive connections on asyncio streams, one
fixed request each, back to back, for a given time.

It writes the same bytes every time and reads a response by its Content-Length,
with none of a full client's per-request work, so that on a two-core machine
it leaves the server as much of a core as it can. Each connection records every
request's latency and status.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit


@dataclass(frozen=True)
class HttpRequest:
    url: str
    method: str = "GET"
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def graphql(
        cls, url: str, query: str, variables: dict[str, Any], headers: dict[str, str] | None = None
    ) -> HttpRequest:
        body = json.dumps({"query": query, "variables": variables}).encode()
        extra = {"content-type": "application/json", **(headers or {})}
        return cls(url, "POST", body, tuple(extra.items()))

    def wire(self) -> bytes:
        parts = urlsplit(self.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"{self.method} {target} HTTP/1.1", f"host: {parts.netloc}", "accept: */*"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body or self.method == "POST":
            lines.append(f"content-length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


class LoadFigures(Protocol):
    """What a benchmark reads of a generator's run (Load here, WrkLoad in wrk_load)."""

    @property
    def requests(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def per_second(self) -> float: ...
    @property
    def p50_ms(self) -> float: ...
    @property
    def p99_ms(self) -> float: ...


@dataclass
class Load:
    """What one run of the generator saw."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0  # responses other than 200

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else 0.0

    @property
    def p99_ms(self) -> float:
        return self.percentile(0.99) * 1000


async def fetch(request: HttpRequest) -> tuple[int, bytes]:
    """One request on a fresh connection: the status and the body."""
    host, port = _address(request.url)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request.wire())
        return await _read_response(reader)
    finally:
        writer.close()


async def generate(request: HttpRequest, *, seconds: float, concurrency: int) -> Load:
    """`concurrency` connections sending `request` back to back for `seconds`."""
    load = Load()
    wire = request.wire()
    host, port = _address(request.url)
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                writer.write(wire)
                status, _ = await _read_response(reader)
                load.latencies.append(time.perf_counter() - start)
                if status != 200:
                    load.errors += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    load.seconds = time.perf_counter() - start
    return load


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    length = None
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding":
            raise ValueError("the load generator reads Content-Length responses only")
    if length is None:
        raise ValueError(f"no Content-Length in {status_line!r}")
    return int(status_line.split(" ", 2)[1]), await reader.readexactly(length)
