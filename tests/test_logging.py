"""Log lines as Cloud Logging reads them, written while the real app serves requests
in process: the request id (taken or made, and echoed), the trace from either header,
the operation's name, the access line's status and latency, severities, and tracebacks."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from graphql_request import leading_operation_name
from observability.logs import CloudLoggingFormatter, ReadableFormatter, severity
from store import models
from store.port import Store
from tests.utils.builders import BASE_TIME

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
PROJECT = "demo-project"
PING = {"query": "query Ping { __typename }", "operationName": "Ping"}
Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def cloud_lines() -> Iterator[Lines]:
    """What the app's loggers write through the production formatter."""
    stream = io.StringIO()
    yield from _captured(stream, CloudLoggingFormatter(project=PROJECT))


@pytest.fixture
def readable_text() -> Iterator[Callable[[], str]]:
    stream = io.StringIO()
    for _ in _captured(stream, ReadableFormatter()):
        yield stream.getvalue


def _captured(stream: io.StringIO, formatter: logging.Formatter) -> Iterator[Lines]:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("timeline")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def access_lines(lines: Lines) -> list[dict[str, Any]]:
    return [line for line in lines() if line["logger"] == "timeline.access"]


async def test_the_access_line_carries_the_request_its_trace_and_its_outcome(
    client: httpx.AsyncClient, cloud_lines: Lines
) -> None:
    response = await client.post(
        "/graphql", json=PING, headers={"traceparent": TRACEPARENT, "x-request-id": "req-123"}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-123"
    [line] = access_lines(cloud_lines)
    assert line["severity"] == "INFO"
    assert line["message"].startswith("POST /graphql 200 ")
    assert line["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{TRACE_ID}"
    assert line["logging.googleapis.com/spanId"] == "00f067aa0ba902b7"
    assert line["logging.googleapis.com/trace_sampled"] is True
    assert (line["requestId"], line["operationName"]) == ("req-123", "Ping")
    assert line["httpRequest"]["requestMethod"] == "POST"
    assert line["httpRequest"]["status"] == 200
    assert re.fullmatch(r"\d+\.\d{6}s", line["httpRequest"]["latency"])
    assert isinstance(line["latencyMs"], float)
    assert datetime.fromisoformat(line["time"]).tzinfo is not None


@pytest.mark.parametrize(
    ("header", "span_id", "sampled"),
    [
        (f"{TRACE_ID}/1;o=1", "0000000000000001", True),
        (f"{TRACE_ID.upper()}/18446744073709551615;o=0", "ffffffffffffffff", False),
        (f"{TRACE_ID}/0", None, False),  # no span of the caller's, but still its trace
    ],
)
async def test_google_s_trace_header_gives_the_trace_and_the_span(
    client: httpx.AsyncClient, cloud_lines: Lines, header: str, span_id: str | None, sampled: bool
) -> None:
    await client.post("/graphql", json=PING, headers={"x-cloud-trace-context": header})
    [line] = access_lines(cloud_lines)
    assert line["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{TRACE_ID}"
    assert line.get("logging.googleapis.com/spanId") == span_id
    assert line["logging.googleapis.com/trace_sampled"] is sampled


async def test_traceparent_wins_over_google_s_header_and_bad_ones_are_ignored(
    client: httpx.AsyncClient, cloud_lines: Lines
) -> None:
    other = "0af7651916cd43dd8448eb211c80319c"
    await client.post(
        "/graphql",
        json=PING,
        headers={"traceparent": TRACEPARENT, "x-cloud-trace-context": f"{other}/7;o=1"},
    )
    for bad in (
        f"00-{'0' * 32}-00f067aa0ba902b7-01",  # the invalid all-zero trace id
        f"ff-{TRACE_ID}-00f067aa0ba902b7-01",  # a forbidden version
        f"00-{TRACE_ID}-00f067aa0ba902b7-01-extra",  # version 00 has nothing more
        "garbage",
    ):
        await client.post(
            "/graphql",
            json=PING,
            headers={"traceparent": bad, "x-cloud-trace-context": f"{other}/7;o=1"},
        )
    await client.post("/graphql", json=PING, headers={"traceparent": "garbage"})
    traces = [line.get("logging.googleapis.com/trace") for line in access_lines(cloud_lines)]
    theirs = f"projects/{PROJECT}/traces/{other}"
    assert traces == [f"projects/{PROJECT}/traces/{TRACE_ID}", *[theirs] * 4, None]


@pytest.mark.parametrize(
    "given", [None, "", "has space", "x" * 129, 'quote"d', "\u00e9t\u00e9".encode("latin-1")]
)
async def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(
    client: httpx.AsyncClient, cloud_lines: Lines, given: str | bytes | None
) -> None:
    value = given.encode() if isinstance(given, str) else given
    headers = {} if value is None else {b"x-request-id": value}
    first = await client.post("/graphql", json=PING, headers=headers)
    second = await client.post("/graphql", json=PING, headers=headers)
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", made) for made in ids)
    assert ids[0] != ids[1]
    assert [line["requestId"] for line in access_lines(cloud_lines)] == ids


async def test_every_answer_echoes_its_request_id_refusals_too(client: httpx.AsyncClient) -> None:
    refused = await client.put("/graphql", headers={"x-request-id": "refused-1"})
    missing = await client.get("/nowhere", headers={"x-request-id": "missing-1"})
    assert (refused.status_code, refused.headers["x-request-id"]) == (405, "refused-1")
    assert (missing.status_code, missing.headers["x-request-id"]) == (404, "missing-1")


async def test_an_internal_error_is_logged_as_error_with_its_traceback_and_request(
    client: httpx.AsyncClient, store: Store, cloud_lines: Lines
) -> None:
    orphan = models.Photo("ghost", "p1", "no owner", BASE_TIME)
    await store.put_many([models.photo_to_entity(orphan)])
    response = await client.post(
        "/graphql",
        json={"query": "query Broken { photos { edges { node { owner { id } } } } }"},
        headers={"x-request-id": "broken-1", "traceparent": TRACEPARENT},
    )
    error_id = response.json()["errors"][0]["extensions"]["errorId"]
    [line] = [line for line in cloud_lines() if line["logger"] == "timeline.errors"]
    assert line["severity"] == "ERROR"
    assert error_id in line["message"]
    assert line["stack_trace"].startswith("Traceback (most recent call last):")
    assert "has no owner" in line["stack_trace"]
    assert (line["requestId"], line["operationName"]) == ("broken-1", "Broken")
    assert line["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{TRACE_ID}"
    [access] = access_lines(cloud_lines)
    assert access["requestId"] == "broken-1"


@pytest.mark.parametrize(
    ("level", "name"),
    [
        (logging.DEBUG, "DEBUG"),
        (logging.INFO, "INFO"),
        (logging.WARNING, "WARNING"),
        (logging.ERROR, "ERROR"),
        (logging.CRITICAL, "CRITICAL"),
        (logging.INFO + 5, "INFO"),  # a custom level between two takes the lower
        (5, "DEFAULT"),
    ],
)
def test_python_levels_become_cloud_logging_severities(level: int, name: str) -> None:
    assert severity(level) == name


def test_a_line_outside_any_request_has_no_request_fields(cloud_lines: Lines) -> None:
    logging.getLogger("timeline.tasks.runs").info("task %s done", "fan-out")
    [line] = cloud_lines()
    assert (line["severity"], line["message"]) == ("INFO", "task fan-out done")
    assert not {"requestId", "logging.googleapis.com/trace"} & line.keys()


async def test_local_lines_are_readable_and_name_the_request(
    client: httpx.AsyncClient, readable_text: Callable[[], str]
) -> None:
    await client.post("/graphql", json=PING, headers={"x-request-id": "req-9"})
    [line] = readable_text().splitlines()
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d INFO timeline\.access \[req-9 Ping\] POST /graphql 200 .* ms", line
    )


@pytest.mark.parametrize(
    ("document", "name"),
    [
        ("query Feed { viewer { id } }", "Feed"),
        ("\ufeff# the home screen\n,mutation\tLike($id: ID!) { like(id: $id) }", "Like"),
        ("{ viewer { id } }", None),  # anonymous
        ("query { viewer { id } }", None),
        ("fragment F on User { id } query Late { viewer { ...F } }", None),  # not leading
        ('{ search(text: "query Fake") }', None),
        (None, None),
    ],
)
def test_the_operation_name_is_read_from_the_start_of_the_document(
    document: str | None, name: str | None
) -> None:
    assert leading_operation_name(document) == name
