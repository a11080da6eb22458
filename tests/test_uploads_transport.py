"""The GraphQL route's guards for uploads: CSRF, and the body limit (413) both
when the length is declared and while an undeclared body streams in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from app import create_app
from settings import MediaSettings, Settings
from store.sqlite import SQLiteStore
from tests.utils import images
from tests.utils.accounts import bearer, create_profile
from tests.utils.clients import serving
from tests.utils.uploads import FILE_MAP, create_photo, operations

LIMIT = 100_000  # bytes of image; the body may carry 64 KiB of form fields besides
CHUNK = 16 * 1024


@pytest.fixture
async def small(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    limited = replace(settings, media=MediaSettings(max_upload_bytes=LIMIT))
    app = create_app(limited, store=SQLiteStore(tmp_path / "t.db"))
    async with serving(app) as http:
        await create_profile(http, bearer(settings, "alice"), username="alice", displayName="A")
        yield http


def multipart(image: bytes) -> tuple[str, bytes]:
    request = httpx.Request(
        "POST",
        "http://testserver/graphql",
        data={"operations": json.dumps(operations()), "map": json.dumps(FILE_MAP)},
        files={"0": ("big.jpg", image, "image/jpeg")},
    )
    return request.headers["content-type"], request.read()


class CountingBody:
    """A request body in chunks that counts how much the server asked for."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), CHUNK):
            self.sent += 1
            yield self.body[start : start + CHUNK]


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "MiB" in error["message"]


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    small: httpx.AsyncClient, settings: Settings
) -> None:
    content_type, body = multipart(b"\xff\xd8\xff" + b"\x00" * (LIMIT + 70_000))
    counting = CountingBody(body)
    response = await small.post(
        "/graphql",
        content=counting,
        headers={
            **bearer(settings, "alice"),
            "Content-Type": content_type,
            "Content-Length": str(len(body)),
        },
    )
    assert_too_large(response)
    assert counting.sent == 0


async def test_an_undeclared_body_is_cut_off_once_past_the_limit(
    small: httpx.AsyncClient, settings: Settings
) -> None:
    content_type, body = multipart(b"\xff\xd8\xff" + b"\x00" * LIMIT * 4)
    counting = CountingBody(body)
    response = await small.post(
        "/graphql",
        content=counting,
        headers={**bearer(settings, "alice"), "Content-Type": content_type},
    )
    assert_too_large(response)
    total_chunks = -(-len(body) // CHUNK)
    assert counting.sent < total_chunks / 2


async def test_an_image_just_over_the_limit_is_a_typed_error(
    small: httpx.AsyncClient, settings: Settings
) -> None:
    # Within the form allowance the body passes; the file itself is then too large.
    payload = await create_photo(
        small, bearer(settings, "alice"), images.png_declaring(10, 10) + b"\x00" * LIMIT
    )
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("IMAGE_TOO_LARGE", "image")]


async def test_a_json_body_over_the_limit_is_refused_too(small: httpx.AsyncClient) -> None:
    # Without a file the limit is far lower than an upload's (test_bad_requests.py).
    response = await small.post(
        "/graphql",
        content=b"{" + b" " * (300 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    [error] = response.json()["errors"]
    assert (error["extensions"]["code"], error["extensions"]["maxBytes"]) == (
        "PAYLOAD_TOO_LARGE",
        str(256 * 1024),
    )


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({}, False),
        ({"Apollo-Require-Preflight": ""}, False),
        ({"Origin": "https://evil.example", "Cookie": "session=1"}, False),
        ({"Apollo-Require-Preflight": "true"}, True),
        ({"X-Apollo-Operation-Name": "CreatePhoto"}, True),
        ({"Authorization": "bearer"}, True),
    ],
    ids=["nothing", "empty-preflight", "a-form", "preflight", "apollo-mobile", "bearer"],
)
async def test_a_multipart_request_a_browser_form_could_send_is_refused(
    small: httpx.AsyncClient, settings: Settings, headers: dict[str, str], allowed: bool
) -> None:
    if headers.get("Authorization") == "bearer":
        headers = bearer(settings, "alice")
    content_type, body = multipart(images.png())
    response = await small.post(
        "/graphql", content=body, headers={**headers, "Content-Type": content_type}
    )
    if allowed:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "CSRF_REFUSED"
    assert "Apollo-Require-Preflight" in error["message"]


async def test_json_requests_need_no_preflight_header(small: httpx.AsyncClient) -> None:
    response = await small.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}
