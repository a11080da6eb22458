"""The direct path (graphql_direct.py) answers exactly what strawberry's view
answers: the same status, body bytes and headers, for every query of the suite
and the benchmarks and for the ways a request can go wrong (bad variables,
unknown ids, persisted queries, GET caching, media types), signed in and out.
The same calls go to the app with the path on and off (create_app's
`direct_graphql`), over the same seeded file; the error ids, fresh each time,
are the only bytes set aside. Which requests go which way:
test_graphql_direct_routing.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.bench_http import HOME
from benchmarks.http_sides import USER_PAGE
from graphql_direct import stats
from resolvers.node_ids import to_global_id
from schema import build_schema
from schema.compiled import prepared
from settings import PersistedQuerySettings, Settings
from store import models
from store.sqlite import SQLiteStore
from tests.utils.accounts import bearer
from tests.utils.builders import make_photos, make_user
from tests.utils.clients import app_client
from tests.utils.draining import drain
from tests.utils.suite_documents import suite_queries, variable_choices
from trusted_documents import document_hash

ERROR_ID = re.compile(rb'"errorId":"[^"]*"')
RESPONSE_JSON = "application/graphql-response+json"
PHOTOS = "query Photos($n: Int) { photos(first: $n) { edges { node { id caption } } } }"
TWO = "query A { photos(first: 1) { edges { cursor } } } query B { __typename }"


@dataclass(frozen=True)
class Call:
    query: str | None
    variables: dict[str, Any] | None = None
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] | None = None
    operation_name: str | None = None
    direct: bool = True  # answered on the direct path once the app has seen it

    async def send(self, http: httpx.AsyncClient) -> httpx.Response:
        payload: dict[str, Any] = {"query": self.query, "variables": self.variables}
        if self.extensions is not None:
            payload["extensions"] = self.extensions
        if self.operation_name is not None:
            payload["operationName"] = self.operation_name
        if self.method != "GET":
            return await http.request(self.method, "/graphql", json=payload, headers=self.headers)
        params = {
            name: value if isinstance(value, str) else json.dumps(value)
            for name, value in payload.items()
            if value is not None
        }
        return await http.get("/graphql", params=params, headers=self.headers)


Observed = tuple[int, bytes, list[tuple[bytes, bytes]]]


def observed(response: httpx.Response) -> Observed:
    body = ERROR_ID.sub(b'"errorId":"-"', response.content)
    fresh = body != response.content  # a different id: a different ETag and maybe length
    skipped = {b"x-request-id"} | ({b"etag", b"content-length"} if fresh else set())
    headers = [(k, v) for k, v in response.headers.raw if k.lower() not in skipped]
    return response.status_code, body, headers


async def seed(settings: Settings) -> dict[str, str]:
    store = SQLiteStore(settings.sqlite_path)
    users = {name: await make_user(store, name) for name in ("alice", "bob")}
    photos = await make_photos(store, users["bob"], 3)
    ghost = models.User("ghost", "ghost", "Ghost", users["alice"].created_at)
    orphan = models.Photo(ghost.id, "orphan", "no owner", users["alice"].created_at, 10)
    await store.put_many([models.photo_to_entity(orphan)])
    await store.close()
    return {
        "alice": to_global_id("User", users["alice"].key),
        "bob": to_global_id("User", users["bob"].key),
        "photo": to_global_id("Photo", photos[0].key),
        "orphan": to_global_id("Photo", orphan.key),
    }


async def befriend(settings: Settings, ids: dict[str, str]) -> None:
    alice = bearer(settings, "id-alice")
    follow = "mutation($v: ID!) { follow(input: {userId: $v}) { errors { code } } }"
    like = "mutation($v: ID!) { likePhoto(input: {photoId: $v}) { errors { code } } }"
    async with app_client(settings) as http:
        for mutation, value in [(follow, ids["bob"]), (like, ids["photo"])]:
            answer = await http.post(
                "/graphql", json={"query": mutation, "variables": {"v": value}}, headers=alice
            )
            assert answer.status_code == 200, answer.text
            assert "errors" not in answer.json(), answer.text
        await drain(http)  # the counts settle before either path reads them


def both_ways(settings: Settings, ids: dict[str, str]) -> Iterator[Call]:
    alice = bearer(settings, "id-alice")
    page = {"id": ids["bob"], "n": 2}
    sha = document_hash(PHOTOS)
    apq = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    for viewer in ({}, alice):
        yield Call(USER_PAGE, page, headers=viewer)
        yield Call(USER_PAGE, page, headers={**viewer, "accept": RESPONSE_JSON})
        yield Call(HOME, {"n": 2}, headers=viewer)
        yield Call(HOME, {"n": 2}, headers={**viewer, "accept": RESPONSE_JSON})
        yield Call(USER_PAGE, {"id": ids["photo"], "n": 2}, headers=viewer)  # not a user
        yield Call(USER_PAGE, {"id": "nonsense", "n": 2}, headers=viewer)
        for accept in ("application/json", RESPONSE_JSON):  # variables that do not coerce
            yield Call(USER_PAGE, {"id": ids["bob"], "n": "two"}, headers={"accept": accept})
            yield Call(USER_PAGE, {"n": 2}, headers={"accept": accept})
        yield Call(USER_PAGE, page, method="GET", headers=viewer)
        yield Call(PHOTOS, {"n": 2}, method="GET", headers={**viewer, "accept": RESPONSE_JSON})
        yield Call("{ node(id: $id) { id } }".replace("$id", json.dumps(ids["orphan"])))
        yield Call(PHOTOS, {"n": 1}, extensions=apq, headers=viewer)  # registers, then known
        yield Call(None, {"n": 1}, extensions=apq, method="GET", headers=viewer)
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    yield Call(None, extensions=unknown, direct=False)
    yield Call(TWO, operation_name="A")
    yield Call(TWO, direct=False)  # several operations and no name: refused
    yield Call(USER_PAGE, page, headers={"authorization": "Bearer nonsense"}, direct=False)


async def answers(
    settings: Settings, calls: list[Call], *, direct: bool, check: bool = True
) -> list[Observed]:
    """Each call's answer, twice round (the first teaches the direct path); on the
    direct path (`check`), which calls it answered the second time round must be
    those marked `direct`."""
    found: list[Observed] = []
    async with app_client(settings, direct_graphql=direct) as http:
        for round_ in (1, 2):
            for call in calls:
                before = stats.answered
                response = await call.send(http)
                found.append(observed(response))
                etag = response.headers.get("etag")
                if call.method == "GET" and etag is not None:
                    revalidated = replace(call, headers={**call.headers, "if-none-match": etag})
                    found.append(observed(await revalidated.send(http)))
                if direct and check and round_ == 2:
                    went_direct = stats.answered > before
                    assert went_direct == call.direct, (call, response.text)
    return found


def assert_same(direct: list[Observed], normal: list[Observed]) -> None:
    assert len(direct) == len(normal)
    for index, (mine, theirs) in enumerate(zip(direct, normal, strict=True)):
        assert mine == theirs, index


async def test_the_direct_path_answers_what_strawberrys_view_answers(settings: Settings) -> None:
    ids = await seed(settings)
    await befriend(settings, ids)
    calls = list(both_ways(settings, ids))
    normal = await answers(settings, calls, direct=False)
    direct = await answers(settings, calls, direct=True)
    assert_same(direct, normal)
    assert any(status == 304 for status, _, _ in direct)  # ETags were checked
    assert any(status == 400 for status, _, _ in direct)  # and request errors


@pytest.mark.slow
async def test_every_query_of_the_suite_answers_the_same_on_both_paths(settings: Settings) -> None:
    ids = await seed(settings)
    await befriend(settings, ids)
    alice = bearer(settings, "id-alice")
    calls = [
        Call(query, variables, headers=viewer)
        for query in suite_queries(build_schema()._schema)
        for variables in variable_choices(query, ids)[:2]
        for viewer in ({}, alice)
    ]
    assert len(calls) >= 60, len(calls)
    normal = await answers(settings, calls, direct=False)
    before = stats.answered
    direct = await answers(settings, calls, direct=True, check=False)
    assert_same(direct, normal)
    assert stats.answered - before >= len(calls) // 2  # most went direct the second time


async def test_trusted_documents_and_apq_off_answer_the_same_on_both_paths(
    settings: Settings, tmp_path: Path
) -> None:
    ids = await seed(settings)
    manifest = tmp_path / "manifest.json"
    body = {"id": document_hash(USER_PAGE), "name": "Page", "type": "query", "body": USER_PAGE}
    manifest.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [body]}
        )
    )
    page = {"id": ids["bob"], "n": 2}
    by_hash = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(USER_PAGE)}}
    calls = [
        Call(None, page, extensions=by_hash),
        Call(None, page, extensions=by_hash, method="GET"),
        Call(USER_PAGE, page),  # the listed text, sent whole
        Call(PHOTOS, {"n": 1}, direct=False),  # OPERATION_NOT_TRUSTED
    ]
    trusting = PersistedQuerySettings(trusted_documents=manifest)
    for chosen, chosen_calls in [
        (trusting, calls),
        (PersistedQuerySettings(enabled=False), [replace(calls[0], direct=False), calls[2]]),
    ]:
        configured = replace(settings, persisted_queries=chosen)
        normal = await answers(configured, chosen_calls, direct=False)
        assert_same(await answers(configured, chosen_calls, direct=True), normal)


VARIABLES = """query V($id: ID!, $n: Int, $m: Int = 1, $on: Boolean!, $after: String) {
  node(id: $id) { id ... on User {
    a: photos(first: $n, after: $after) { edges { cursor } }
    b: photos(first: $m) @include(if: $on) { pageInfo { hasNextPage } } } } }"""


async def test_variables_coerce_as_graphql_core_coerces_them_on_both_paths(
    settings: Settings,
) -> None:
    """Plain values are taken as they are (schema/compiled/prepared.py); every
    other value, default and error is graphql-core's, as on the normal path."""
    ids = await seed(settings)
    bob = ids["bob"]
    plain: list[dict[str, Any] | None] = [
        {"id": bob, "n": 2, "m": 1, "on": True, "after": None},
        {"id": bob, "m": 2, "on": False},  # nullable ones left out, without defaults
        {"id": bob, "n": -(2**31), "m": 2**31 - 1, "on": True, "unused": [1]},
        {"id": bob, "m": None, "on": True},  # null, not the default
    ]
    other: list[dict[str, Any] | None] = [
        {"id": bob, "on": True},  # $m's default
        {"id": bob, "n": 2.0, "on": True},  # a float an Int takes
        {"id": 5, "m": 1, "on": True},  # an int an ID takes
        {"id": bob, "n": "2", "m": 1, "on": True},
        {"id": bob, "n": True, "m": 1, "on": True},
        {"id": bob, "n": 2**31, "m": 1, "on": True},
        {"id": None, "m": 1, "on": True},
        {"m": 1, "on": True},
        {"id": bob, "m": 1},
        {"id": bob, "m": 1, "on": "yes"},
        {"id": bob, "m": 1, "on": True, "after": 5},
        {"id": [bob], "m": 1, "on": True},
        None,
    ]
    calls = [Call(VARIABLES, variables) for variables in plain + other]
    normal = await answers(settings, calls, direct=False)
    before = (prepared.stats.plain, prepared.stats.by_graphql)
    direct = await answers(settings, calls, direct=True, check=False)
    assert_same(direct, normal)
    bodies = b" ".join(body for _, body, _ in normal)
    assert b"has invalid value" in bodies  # graphql-core's coercion errors were made
    assert b"to be provided" in bodies
    # The first call teaches the path, the second prepares it (as graphql-core's
    # build does it); each later one went its own way.
    assert prepared.stats.plain - before[0] == 2 * len(plain) - 2
    assert prepared.stats.by_graphql - before[1] == 2 * len(other)
