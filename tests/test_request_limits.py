"""Slow and oversized requests are cut off: headers past their size (431) or their
deadline (connection closed), bodies past theirs (408 with a GraphQL error body).
In process for the app's middleware; `python -m serve` in a subprocess for what
only the server sees (a connection that never finishes its headers)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from request_limits import RequestLimits
from settings import Settings, WebSettings
from tests.utils.clients import app_client
from tests.utils.processes import ManagedServer, free_port

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 0.3  # seconds; each test waits for it to pass at most once


def local(tmp_path: Path) -> Settings:
    return Settings(
        environment="local",
        var_dir=tmp_path,
        sqlite_path=tmp_path / "timeline.db",
        secret_key=b"k" * 48,
        web=WebSettings(body_timeout_seconds=DEADLINE),
    )


async def a_body_that_stalls() -> AsyncIterator[bytes]:
    yield b'{"query": "{ __typ'
    await asyncio.Event().wait()
    yield b""  # never reached


async def test_a_body_that_does_not_arrive_in_time_gets_408(tmp_path: Path) -> None:
    async with app_client(local(tmp_path)) as http:
        response = await http.post(
            "/graphql", content=a_body_that_stalls(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 408
        assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
        # The deadline is the request's, not the connection's: the next one is served.
        assert (await http.post("/graphql", json={"query": "{ __typename }"})).status_code == 200


async def test_headers_over_the_limit_get_431(tmp_path: Path) -> None:
    settings = local(tmp_path)
    settings = replace(settings, web=replace(settings.web, max_header_bytes=4096))
    async with app_client(settings) as http:
        response = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"x-padding": "a" * 4096}
        )
        assert response.status_code == 431
        assert response.json()["errors"][0]["extensions"]["code"] == "HEADERS_TOO_LARGE"
        response = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"x-padding": "a" * 3000}
        )
        assert response.status_code == 200


async def body_read_through_limits(receive: Receive) -> tuple[bytes, int]:
    """What an app behind RequestLimits reads of the body, and its status."""
    read = b""
    statuses: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal read
        more = True
        while more:
            message = await receive()
            read += message.get("body", b"")
            more = message.get("more_body", False)
        await PlainTextResponse("read")(scope, receive, send)

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    limits = RequestLimits(app, max_header_bytes=8192, body_seconds=DEADLINE)
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"host", b"x")]}
    await limits(scope, receive, send)
    return read, statuses[0]


async def test_only_a_body_that_is_still_coming_arms_a_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    timers: list[float] = []
    call_at = loop.call_at

    def counted(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        timers.append(when)
        return call_at(when, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", counted)  # the event loop's, to count its timers

    async def arrived() -> Message:  # as uvicorn's receive when the body came with the headers
        return {"type": "http.request", "body": b"all of it", "more_body": False}

    assert await body_read_through_limits(arrived) == (b"all of it", 200)
    assert timers == []

    parts = [b"first ", b"then the rest"]

    async def trickling() -> Message:  # each part a turn of the loop after it is asked for
        arrives = asyncio.Event()
        loop.call_soon(arrives.set)
        await arrives.wait()
        body = parts.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(parts)}

    assert await body_read_through_limits(trickling) == (b"first then the rest", 200)
    assert len(timers) == 2  # one for each wait


def serve(var: Path, header_seconds: float) -> tuple[ManagedServer, int]:
    port = free_port()
    argv = [sys.executable, "-m", "serve", "--port", str(port)]
    argv += ["--header-seconds", str(header_seconds)]
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "TIMELINE_ENV": "local",
        "TIMELINE_VAR_DIR": str(var),
        "TIMELINE_BODY_TIMEOUT_SECONDS": str(DEADLINE),
    }
    health = f"http://127.0.0.1:{port}/healthz"
    return ManagedServer(argv, health, log_path=var / "serve.log", env=env), port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    process, port = serve(tmp_path_factory.mktemp("serve"), DEADLINE)
    process.start()
    try:
        yield port
    finally:
        process.stop()


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(10)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.mark.slow
def test_serve_closes_a_connection_whose_headers_never_finish(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert answer(sock) == b""
    with socket.create_connection(("127.0.0.1", server)) as sock:  # nothing at all
        assert answer(sock) == b""


@pytest.mark.slow
def test_serve_refuses_headers_past_the_limit_while_they_arrive(server: int) -> None:
    received = b""
    with socket.create_connection(("127.0.0.1", server)) as sock:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
            for _ in range(20):
                sock.sendall(b"a" * 1024)
            received = answer(sock)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while we were still sending
    assert received == b"" or received.startswith(b"HTTP/1.1 400"), received[:100]


@pytest.mark.slow
def test_serve_refuses_headers_past_the_limit_before_the_deadline(tmp_path: Path) -> None:
    """httptools buffers a header however long it grows: the server counts the bytes
    itself and answers 400 at once, rather than holding them until the deadline."""
    process, port = serve(tmp_path, header_seconds=30)
    process.start()
    try:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
            received = b""
            try:
                for _ in range(20):
                    sock.sendall(b"a" * 1024)
                    time.sleep(0.01)  # separate reads, as a slow client's would be
                received = answer(sock)
            except (BrokenPipeError, ConnectionResetError):
                received = b"HTTP/1.1 400 (reset while we were still sending)"
    finally:
        process.stop()
    assert received.startswith(b"HTTP/1.1 400"), received[:100]


@pytest.mark.slow
def test_serve_answers_a_trickling_body_with_408(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"query": '
        )
        head, _, body = answer(sock).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"


@pytest.mark.slow
def test_serve_serves_requests_as_usual(server: int) -> None:
    response = httpx.post(f"http://127.0.0.1:{server}/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "server" not in response.headers
