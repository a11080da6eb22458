"""bench_workers' wrk generator sends the request it is given (method, headers, a body
with bytes outside ASCII) and counts what the server answers, against a real HTTP
server in a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.http_load import HttpRequest
from benchmarks.wrk_load import WrkGenerator, wrk_path
from tests.utils.processes import missing_tool

QUERY = 'query Page($id: ID!) { node(id: $id) { id } } # ünïcode, "quotes", \\ and ]]'
EXPECTED = HttpRequest.graphql(
    "http://127.0.0.1/graphql", QUERY, {"id": "VXNlcjox"}, {"authorization": "Bearer t"}
)


class Checking(BaseHTTPRequestHandler):
    """200 for exactly EXPECTED's POST, 400 for anything else; keep-alive."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        right = (
            self.path == "/graphql"
            and body == EXPECTED.body
            and self.headers.get("authorization") == "Bearer t"
            and self.headers.get("content-type") == "application/json"
        )
        self.send_response(200 if right else 400)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    if wrk_path() is None:
        missing_tool("wrk is not installed (make system-deps)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Checking)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow  # two one-second wrk runs
async def test_wrk_sends_the_request_it_is_given_and_counts_the_answers(server_url: str) -> None:
    generator = WrkGenerator(threads=2)
    url = f"{server_url}/graphql"
    right = HttpRequest(url, "POST", EXPECTED.body, EXPECTED.headers)
    load = await generator(right, seconds=0.5, concurrency=2)
    assert load.requests > 0
    assert load.errors == 0
    assert load.seconds >= 1.0  # wrk counts whole seconds
    assert 0 < load.p50_ms <= load.p99_ms

    wrong_body = HttpRequest(url, "POST", EXPECTED.body[:-1] + b" ", EXPECTED.headers)
    wrong = await generator(wrong_body, seconds=0.5, concurrency=2)
    assert wrong.requests > 0
    assert wrong.errors == wrong.requests

    assert generator.requests == load.requests + wrong.requests
    assert generator.cpu_seconds > 0
