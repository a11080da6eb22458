"""The app's outermost layer in one pass (observability/middleware.py): the security
headers beside the echoed request id, a response's own header kept whatever its
case, and the access line's record as logging itself would have made it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from observability.logs import SOURCE, CloudLoggingFormatter
from security_headers import API_POLICY, HSTS, SecurityHeaders

PING = {"query": "query Ping { __typename }", "operationName": "Ping"}


def test_the_security_headers_follow_the_response_s_own_and_never_replace_them() -> None:
    own = [(b"content-type", b"application/json"), (b"Content-Security-Policy", b"mine")]
    assert SecurityHeaders(hsts=True).added_to(own) == [
        *own,
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"strict-transport-security", HSTS.encode()),
    ]
    assert SecurityHeaders(hsts=False).added_to([])[-1] == (
        b"content-security-policy",
        API_POLICY.encode(),
    )


async def test_an_answer_carries_the_security_headers_then_its_request_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json=PING, headers={"x-request-id": "env-1"})
    names = [name.lower() for name, _ in response.headers.raw]
    assert names[-5:] == [
        b"x-content-type-options",
        b"x-frame-options",
        b"referrer-policy",
        b"content-security-policy",
        b"x-request-id",
    ]
    assert response.headers["x-request-id"] == "env-1"


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    handler = Kept()
    logger = logging.getLogger("timeline.access")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_the_access_record_names_its_source_and_formats_like_any_other(
    client: httpx.AsyncClient, records: list[logging.LogRecord]
) -> None:
    await client.post("/graphql", json=PING, headers={"x-request-id": "env-2"})
    [record] = records
    assert (record.name, record.levelno, record.funcName) == (
        "timeline.access",
        logging.INFO,
        "_log_access",
    )
    assert record.pathname.endswith("observability/middleware.py")
    assert record.getMessage().startswith("POST /graphql 200 ")
    line = json.loads(CloudLoggingFormatter().format(record))
    assert line[SOURCE]["function"] == "_log_access"
    assert line["httpRequest"]["status"] == 200
