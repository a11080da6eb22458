"""GraphQL over HTTP through the real app: the media type the Accept header asks for,
the status codes that go with it, and transport errors as GraphQL error bodies.
(graphql-http's own audit runs against a real server: test_graphql_http_audit.py.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphql_media import negotiate
from settings import Settings
from tests.utils.clients import app_client

GRAPHQL_RESPONSE = "application/graphql-response+json"
APOLLO_4 = "application/graphql-response+json,application/json;q=0.9"
REQUEST_ERRORS = {
    "parse": {"query": "{"},
    "validation": {"query": "{ notAField }"},
    "variables": {"query": "query($n: Int!) { photos(first: $n) { edges { cursor } } }"},
}


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (APOLLO_4, GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", "application/json"),
        ("application/json;q=0.5, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0, */*", "application/json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json"),
        ("text/html", None),
        ("application/xml, text/plain", None),
        ("application/json;q=0", None),
    ],
)
def test_the_accept_header_chooses_the_media_type(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


async def test_graphql_response_json_is_answered_in_kind(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": APOLLO_4}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("kind", REQUEST_ERRORS)
async def test_a_request_error_is_400_without_data_in_graphql_response_json(
    client: httpx.AsyncClient, kind: str
) -> None:
    response = await client.post(
        "/graphql", json=REQUEST_ERRORS[kind], headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"]


@pytest.mark.parametrize("kind", REQUEST_ERRORS)
async def test_a_request_error_stays_200_in_application_json(
    client: httpx.AsyncClient, kind: str
) -> None:
    response = await client.post(
        "/graphql", json=REQUEST_ERRORS[kind], headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None


async def test_an_error_during_execution_is_200_with_its_data(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": '{ __typename node(id: "bm9wZQ") { id } }'},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["__typename"] == "Query"
    assert body["errors"][0]["path"] == ["node"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_several_operations_need_an_operation_name(
    client: httpx.AsyncClient, accept: str
) -> None:
    document = "query A { __typename } query B { photos(first: 1) { edges { cursor } } }"
    response = await client.post("/graphql", json={"query": document}, headers={"Accept": accept})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "operation name" in error["message"]
    named = await client.post(
        "/graphql", json={"query": document, "operationName": "A"}, headers={"Accept": accept}
    )
    assert named.json() == {"data": {"__typename": "Query"}}


async def test_an_unacceptable_accept_header_is_406_with_a_graphql_body(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": "text/plain"}
    )
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


async def test_a_browser_still_gets_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


JSON_BODY = {"content-type": "application/json"}
TYPENAME = {"query": "{ __typename }"}
TRANSPORT_ERRORS: dict[str, tuple[dict[str, Any], int, str]] = {
    "bad json": (dict(method="POST", content=b"{ nope", headers=JSON_BODY), 400, "BAD_REQUEST"),
    "batch": (dict(method="POST", content=b"[{}]", headers=JSON_BODY), 400, "BAD_REQUEST"),
    "text body": (
        dict(method="POST", content=b"{ x }", headers={"content-type": "text/plain"}),
        415,
        "BAD_REQUEST",
    ),
    "no query": (dict(method="POST", json={"notquery": "{ x }"}), 400, "BAD_REQUEST"),
    "put": (dict(method="PUT", json=TYPENAME), 405, "METHOD_NOT_ALLOWED"),
    "mutation by get": (
        dict(method="GET", params={"query": "mutation { __typename }"}),
        405,
        "METHOD_NOT_ALLOWED",
    ),
    "bad token": (
        dict(method="POST", json=TYPENAME, headers={"authorization": "Bearer nonsense"}),
        401,
        "UNAUTHENTICATED",
    ),
    "form post": (
        dict(method="POST", content=b"x", headers={"content-type": "multipart/form-data; b=x"}),
        400,
        "CSRF_REFUSED",
    ),
}


@pytest.mark.parametrize("kind", TRANSPORT_ERRORS)
async def test_transport_errors_are_graphql_bodies_in_the_negotiated_type(
    client: httpx.AsyncClient, kind: str
) -> None:
    request, status, code = TRANSPORT_ERRORS[kind]
    request = {**request, "headers": {**request.get("headers", {}), "accept": GRAPHQL_RESPONSE}}
    response = await client.request(url="/graphql", **request)
    assert response.status_code == status
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code


async def test_header_limits_answer_in_the_negotiated_type(
    settings: Settings, tmp_path: Path
) -> None:
    small = replace(settings, web=replace(settings.web, max_header_bytes=4096))
    async with app_client(small) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"accept": GRAPHQL_RESPONSE, "x-padding": "a" * 4096},
        )
    assert response.status_code == 431
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json()["errors"][0]["extensions"]["code"] == "HEADERS_TOO_LARGE"
