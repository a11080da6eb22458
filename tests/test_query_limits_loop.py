"""No request holds the event loop: the real app under uvicorn keeps answering
/healthz while each of issue 10's hostile documents is in flight and refused, and
while a large legitimate query is served.

The hostile bodies are sent in two parts, so each request is provably open while
the health checks run; the last byte then starts the server's work on it, and more
health checks go out at the same moment. Before the limits, the 2^30 fragment
document held the loop for good and those checks never came back. Timeouts here
are hang guards, not measurements.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from store import models
from store.port import MAX_BATCH, Entity
from store.social_models import Comment, comment_to_entity
from store.sqlite import SQLiteStore
from tests.utils.builders import BASE_TIME, make_photos, make_user
from tests.utils.hostile_documents import BODY_REFUSED, HOSTILE_DOCUMENTS, status_of
from tests.utils.processes import ManagedServer, free_port

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD = httpx.Timeout(30.0)
PHOTOS = 50
COMMENTS_PER_PHOTO = 30
# Cost 1 + 50 x (edges, node, id, caption, owner, username, comments
# (1 + 30 x (nodes, id, text, author, username))) = 7,851 of the 10,000 allowed.
LARGE_QUERY = f"""{{ photos(first: {PHOTOS}) {{ edges {{ node {{ id caption owner {{ username }}
  comments(first: {COMMENTS_PER_PHOTO}) {{ nodes {{ id text author {{ username }} }} }}
}} }} }} }}"""


async def seed(database: Path) -> None:
    store = SQLiteStore(database)
    try:
        alice = await make_user(store, "alice")
        photos = await make_photos(store, alice, PHOTOS)
        comments: list[Entity] = [
            comment_to_entity(
                Comment(
                    models.photo_to_entity(photo).key,
                    f"c{index}-{n}",  # comments are keyed under their author: ids unique per author
                    alice.id,
                    f"comment {n}",
                    BASE_TIME,
                )
            )
            for index, photo in enumerate(photos)
            for n in range(COMMENTS_PER_PHOTO)
        ]
        for offset in range(0, len(comments), MAX_BATCH):
            await store.put_many(comments[offset : offset + MAX_BATCH])
    finally:
        await store.close()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[str]:
    await seed(tmp_path / "timeline.db")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TIMELINE_ENV": "local",
        "TIMELINE_VAR_DIR": str(tmp_path),
        "TIMELINE_CRON_SCHEDULER": "0",
    }
    env.pop("GAE_ENV", None)
    app = ManagedServer(
        [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)],
        health_url=f"http://127.0.0.1:{port}/healthz",
        log_path=tmp_path / "server.log",
        env=env,
    )
    app.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.stop()


async def healthy(http: httpx.AsyncClient) -> bool:
    response = await http.get("/healthz")
    return bool(response.json() == {"status": "ok"})


async def test_health_answers_while_each_hostile_document_is_in_flight(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=HANG_GUARD) as http:
        for name, (document, code, rule) in HOSTILE_DOCUMENTS.items():
            body = json.dumps({"query": document}).encode()
            last_byte = asyncio.Event()

            async def in_two_parts(
                body: bytes = body, last_byte: asyncio.Event = last_byte
            ) -> AsyncIterator[bytes]:
                yield body[:-1]
                await last_byte.wait()
                yield body[-1:]

            hostile = asyncio.create_task(
                http.post(
                    "/graphql",
                    content=in_two_parts(),
                    headers={"content-type": "application/json"},
                )
            )
            while_open = [await healthy(http) for _ in range(3)]
            # A body over the route's limit is refused as it streams, before its end.
            assert code == BODY_REFUSED or not hostile.done(), name
            last_byte.set()
            alongside = await asyncio.gather(*(healthy(http) for _ in range(5)))
            refused = await hostile
            assert while_open == [True] * 3, name
            assert alongside == [True] * 5, name
            assert refused.status_code == status_of(code), (name, refused.text)
            [error] = refused.json()["errors"]
            assert (error["extensions"]["code"], error["extensions"].get("rule", "body")) == (
                code,
                rule,
            )


async def test_all_hostile_documents_at_once_leave_health_answering(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=HANG_GUARD) as http:
        documents = [document for document, _, _ in HOSTILE_DOCUMENTS.values()]
        expected = [status_of(code) for _, code, _ in HOSTILE_DOCUMENTS.values()]
        results = await asyncio.gather(
            *(http.post("/graphql", json={"query": document}) for document in documents * 2),
            *(healthy(http) for _ in range(20)),
        )
        statuses = [result.status_code for result in results if isinstance(result, httpx.Response)]
        assert statuses == expected * 2
        assert results[len(statuses) :] == [True] * 20


async def test_health_answers_while_a_large_legitimate_query_is_served(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=HANG_GUARD) as http:
        large = asyncio.create_task(http.post("/graphql", json={"query": LARGE_QUERY}))
        answered_meanwhile = 0
        while not large.done():
            assert await healthy(http)
            answered_meanwhile += not large.done()
        response = await large
        assert response.status_code == 200
        body = response.json()
        assert "errors" not in body
        edges = body["data"]["photos"]["edges"]
        assert len(edges) == PHOTOS
        assert {len(edge["node"]["comments"]["nodes"]) for edge in edges} == {COMMENTS_PER_PHOTO}
        assert answered_meanwhile >= 1
