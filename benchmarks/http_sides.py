"""The reference servers of the HTTP benchmark (benchmarks/bench_http.py), each an
ASGI factory that uvicorn runs in its own process:

    (d) plain_page_app   a Starlette route that reads side (a)'s page from the same
                         store (a copy of its file) and writes the same JSON itself
    (e) constant_app     a Starlette route returning a constant body of (a)'s size
    (f) strawberry_app   plain Strawberry with its parser and validation caches, a
                         DataLoader, the same shape, data in memory

They read what they serve from the environment (BENCH_HTTP_DB, BENCH_HTTP_BODY).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.extensions import ParserCache, ValidationCache

from resolvers.cursors import CursorCodec
from resolvers.node_ids import to_global_id
from schema.date_time import serialize_date_time
from store import models
from store.port import Query as StoreQuery
from store.sqlite import SQLiteStore

PAGE = 20
USER = "bench-user"
USER_ID = to_global_id("User", models.user_key(USER))
SECRET = b"bench-http" * 4
PHOTO_FIELDS = "id caption createdAt width height owner { id username }"
# Side (a): a user's page as an app refetches it by id (an ancestor query and one
# batched get of the owners).
USER_PAGE = f"""query($id: ID!, $n: Int) {{ node(id: $id) {{ ... on User {{
  photos(first: $n) {{ edges {{ cursor node {{ {PHOTO_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }} }} }} }} }}"""


def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def plain_page_app() -> Starlette:
    """(d): the page by hand: one query, one batched get of the owners, our cursors
    and ids, the same JSON as (a), written by the same encoder."""
    store = SQLiteStore(os.environ["BENCH_HTTP_DB"])
    cursors = CursorCodec(SECRET)
    scope = f"photos:user:{USER}"
    query = StoreQuery(kind=models.PHOTO, order_by="sort_key", ancestor=models.user_key(USER))

    async def page(request: Request) -> Response:
        results = await store.page(query, limit=PAGE + 1)
        shown = results[:PAGE]
        photos = [models.photo_from_entity(r.entity) for r in shown]
        owner_keys = list({models.user_key(p.owner_id) for p in photos})
        owners = {
            e.key.name: models.user_from_entity(e) for e in await store.get_many(owner_keys) if e
        }
        edges = [
            {
                "cursor": cursors.encode(scope, result.position),
                "node": {
                    "id": to_global_id("Photo", p.key),
                    "caption": p.caption,
                    "createdAt": serialize_date_time(p.created_at),
                    "width": p.width,
                    "height": p.height,
                    "owner": {
                        "id": to_global_id("User", models.user_key(p.owner_id)),
                        "username": owners[p.owner_id].username,
                    },
                },
            }
            for result, p in zip(shown, photos, strict=True)
        ]
        info = {"hasNextPage": len(results) > PAGE, "endCursor": edges[-1]["cursor"]}
        photos_json = {"edges": edges, "pageInfo": info}
        # Written by orjson, as (a)'s GraphQLRoute.encode_json writes its answer.
        body = orjson.dumps({"data": {"node": {"photos": photos_json}}})
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/page", page), Route("/healthz", _health)])


def constant_app() -> Starlette:
    """(e): the machine's limit for a response of (a)'s size."""
    body = Path(os.environ["BENCH_HTTP_BODY"]).read_bytes()

    def constant(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/constant", constant), Route("/healthz", _health)])


# -- (f): plain Strawberry, data in memory --------------------------------------


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class PhotoNode(Node):
    caption: str
    created_at: str
    width: int | None
    height: int | None
    owner_name: strawberry.Private[str]

    @strawberry.field
    async def owner(self, info: strawberry.Info) -> Profile:
        loader: DataLoader[str, Profile] = info.context["owners"]
        return await loader.load(self.owner_name)


@strawberry.type
class PhotoEdge:
    cursor: str
    node: PhotoNode


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PhotoConnection:
    edges: list[PhotoEdge]
    page_info: PageInfo


@strawberry.type(name="User")
class Profile(Node):
    username: str

    @strawberry.field
    def photos(self, first: int = PAGE) -> PhotoConnection:
        edges = [
            PhotoEdge(cursor=base64.urlsafe_b64encode(f"cursor:{n:040d}".encode()).decode(), node=p)
            for n, p in enumerate(_PHOTOS[:first])
        ]
        info = PageInfo(has_next_page=len(_PHOTOS) > first, end_cursor=edges[-1].cursor)
        return PhotoConnection(edges=edges, page_info=info)


@strawberry.type
class Query:
    @strawberry.field
    def node(self, id: strawberry.ID) -> Node | None:
        return _OWNERS[USER] if id == USER_ID else None


_START = datetime(2026, 1, 1, tzinfo=UTC)
_PHOTOS = [
    PhotoNode(
        id=strawberry.ID(to_global_id("Photo", models.photo_key(USER, f"p{n:06d}"))),
        caption=f"caption {n}",
        created_at=serialize_date_time(_START + timedelta(seconds=n)),
        width=1080,
        height=1440,
        owner_name=USER,
    )
    for n in range(PAGE * 5, 0, -1)
]
_OWNERS = {USER: Profile(id=strawberry.ID(USER_ID), username="bench")}


async def _load_owners(names: Sequence[str]) -> list[Profile]:
    return [_OWNERS[name] for name in names]


class _StrawberryRoute(GraphQL[dict[str, Any], None]):
    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"owners": DataLoader(load_fn=_load_owners)}


def strawberry_app() -> Starlette:
    # Strawberry's own caches, as anyone serving a fixed set of operations turns on.
    schema = strawberry.Schema(Query, types=[Profile], extensions=[ParserCache, ValidationCache])
    route = _StrawberryRoute(schema, graphql_ide=None)
    return Starlette(routes=[Route("/graphql", route), Route("/healthz", _health)])
