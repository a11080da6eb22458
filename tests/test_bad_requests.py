"""Every malformed request gets a 4xx with a GraphQL error body (application/json,
`errors[0].extensions.code`), never a 500 and never plain text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from settings import Settings
from tests.utils.clients import app_client

JSON = {"content-type": "application/json"}
PREFLIGHT = {"apollo-require-preflight": "true"}
TYPENAME = {"query": "{ __typename }"}
UPLOAD = {"query": "mutation($f: Upload!) { __typename }", "variables": {"f": None}}


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        environment="local", var_dir=tmp_path, sqlite_path=tmp_path / "t.db", secret_key=b"k" * 48
    )
    async with app_client(settings) as client:
        yield client


def refusal(response: httpx.Response, status: int, code: str = "BAD_REQUEST") -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    message: str = error["message"]
    return message


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"null", "not null"),
        (b"123", "not a number"),
        (b'"str"', "not a string"),
        (b"true", "not a boolean"),
        (b"[]", "batched operations are not supported"),
        (b'[{"query": "{ __typename }"}]', "batched operations are not supported"),
        (b"{", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"query": "\xff"}', "not valid JSON"),
        (b'{"query": "{ __typename }", "variables": {"a": NaN}}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"query": "{ __typename \\ud800 }"}', "lone UTF-16 surrogate"),
        (b'{"query": "{ __typename }", "variables": {"a": "\\udfff"}}', "lone UTF-16 surrogate"),
        (b'{"query": "{ __typename }", "variables": {"\\ud800": 1}}', "lone UTF-16 surrogate"),
        (b'{"query": "{ __typename }", "variables": {"a": "\\uDBFF"}}', "lone UTF-16 surrogate"),
        # Encoded rather than escaped: UTF-8 bytes of a surrogate, and an escape in UTF-16.
        (
            b'{"query": "{ __typename }", "variables": {"a": "\xed\xa0\x80"}}',
            "lone UTF-16 surrogate",
        ),
        (
            '{"query": "{ __typename }", "variables": {"a": "\\ud800"}}'.encode("utf-16"),
            "lone UTF-16 surrogate",
        ),
        (b'{"query": "{ __typename }", "variables": [1]}', "`variables` must be an object"),
        (b'{"query": "{ __typename }", "variables": "{}"}', "`variables` must be an object"),
        (b'{"variables": {}}', "No GraphQL query"),
        (b'{"query": 1}', "`query` must be a string"),
        (b'{"query": ["{ __typename }"]}', "`query` must be a string"),
        (b'{"query": "{ __typename }", "extensions": 1}', "`extensions` must be an object"),
        (b'{"query": "query A { __typename }", "operationName": "B"}', "Unknown operation"),
    ],
)
async def test_malformed_json_bodies(http: httpx.AsyncClient, body: bytes, says: str) -> None:
    assert says in refusal(await http.post("/graphql", content=body, headers=JSON), 400)


async def test_a_valid_pair_of_surrogates_is_a_character(http: httpx.AsyncClient) -> None:
    body = b'{"query": "query($a: String) { __typename }", "variables": {"a": "\\ud83d\\ude00"}}'
    response = await http.post("/graphql", content=body, headers=JSON)
    assert response.status_code == 200
    assert "surrogate" not in response.text


@pytest.mark.parametrize(
    ("operations", "files_map", "says"),
    [
        (UPLOAD, [], "map must be a JSON object"),
        (UPLOAD, "0", "map must be a JSON object"),
        (UPLOAD, {"1": ["variables.f"]}, "names the file '1', which was not sent"),
        (UPLOAD, {"0": "variables.f"}, "must be a list of paths"),
        (UPLOAD, {"0": [1]}, "must be a list of paths"),
        (UPLOAD, {"0": ["variables.f.x.y"]}, "does not lead to a variable"),
        (UPLOAD, {"0": ["variables.missing.x"]}, "does not lead to a variable"),
        ({"query": "{ __typename }", "variables": [None]}, {"0": ["variables.x"]}, "lead to"),
        (123, {}, "not a number"),
        ([UPLOAD], {}, "batched operations are not supported"),
    ],
)
async def test_malformed_multipart_requests(
    http: httpx.AsyncClient, operations: Any, files_map: Any, says: str
) -> None:
    response = await http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
        files={"0": ("a.png", b"not really", "image/png")},
        headers=PREFLIGHT,
    )
    assert says in refusal(response, 400)


async def test_multipart_parts_that_are_not_json(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        data={"operations": "{", "map": "{}"},
        files={"0": ("a.png", b"x", "image/png")},
        headers=PREFLIGHT,
    )
    assert "not valid JSON" in refusal(response, 400)
    response = await http.post(
        "/graphql",
        files={"operations": ("o.json", b"{}", "application/json"), "map": ("m", b"{}")},
        headers=PREFLIGHT,
    )
    assert "must be form fields" in refusal(response, 400)


async def test_a_multipart_body_that_cannot_be_parsed(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\nunterminated",
        headers={"content-type": "multipart/form-data; boundary=x", **PREFLIGHT},
    )
    refusal(response, 400)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""]
)
async def test_other_content_types(http: httpx.AsyncClient, content_type: str) -> None:
    response = await http.post(
        "/graphql", content=json.dumps(TYPENAME), headers={"content-type": content_type}
    )
    assert "application/json" in refusal(response, 415)


async def test_get_may_only_read(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "mutation { __typename }"})
    assert "send mutations by POST" in refusal(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"
    response = await http.get("/graphql", params={"query": "{ __typename }", "variables": "[1]"})
    refusal(response, 400)
    response = await http.get("/graphql", params={"query": "{ __typename }", "variables": "{"})
    refusal(response, 400)
    response = await http.get("/graphql", params={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods(http: httpx.AsyncClient, method: str) -> None:
    response = await http.request(method, "/graphql", json=TYPENAME)
    refusal(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, POST"


async def test_a_large_json_body_is_refused_before_it_is_read_or_decoded(
    http: httpx.AsyncClient,
) -> None:
    # Megabytes of variables are no document: only an upload may be that large.
    body = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 2_000_000}})
    declared = await http.post("/graphql", content=body, headers=JSON)
    assert "at most 256 KiB" in refusal(declared, 413, "PAYLOAD_TOO_LARGE")

    async def undeclared() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024].encode()

    streamed = await http.post("/graphql", content=undeclared(), headers=JSON)
    refusal(streamed, 413, "PAYLOAD_TOO_LARGE")


async def test_a_json_body_under_the_limit_is_served(http: httpx.AsyncClient) -> None:
    body = {"query": "{ __typename }", "variables": {"pad": "x" * 200_000}}
    response = await http.post("/graphql", json=body)
    assert response.json() == {"data": {"__typename": "Query"}}
