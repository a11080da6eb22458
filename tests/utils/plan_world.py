"""A seeded SQLite store answering the app's schema two ways, through compiled
plans (schema/compiled/) and through graphql-core's executor, with store faults
that make nullable and non-null fields fail: the world of the differential tests
(tests/test_compiled_plans*.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from auth.viewer import Viewer
from media.image_work import ImagePipeline
from media.local_blobs import LocalBlobStore
from media.pipeline import ImageLimits
from media.services import Media
from resolvers.context import RequestContext
from resolvers.cursors import CursorCodec
from resolvers.node_ids import to_global_id
from schema import TimelineSchema, build_schema
from schema.errors import client_error
from store import counters, models, social_models
from store.keys import Key
from store.port import Entity
from store.sqlite import SQLiteStore
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue
from taskqueue.enqueue import Tasks
from tasks.outbox import Relays
from tests.utils.builders import make_photos, make_user
from tests.utils.delegating_store import DelegatingStore

CURSORS = CursorCodec(b"k" * 32)


class FaultyStore(DelegatingStore):
    """Fails every get that asks for a key of one of `broken` kinds, and answers
    entities of `corrupt` kinds without their properties (their decoding fails).

    A failed get fails every field whose keys shared its batch, and which loads
    share a batch depends on timing (some reads cross a thread): only fixed
    operations use `broken`. A corrupt entity fails the fields that read it,
    whatever the batches, so generated operations use `corrupt`."""

    def __init__(self, inner: SQLiteStore) -> None:
        super().__init__(inner)
        self.broken: frozenset[str] = frozenset()
        self.corrupt: frozenset[str] = frozenset()

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        if any(key.kind in self.broken for key in keys):
            raise RuntimeError(f"store fault reading {sorted(self.broken)}")
        found = await self.inner.get_many(keys)
        return [
            Entity(entity.key, {}) if entity and entity.key.kind in self.corrupt else entity
            for entity in found
        ]


# Owners and authors (nullable), counts (Int!: null goes up to the photo's
# connection), likes (viewerHasLiked, Boolean!).
FAULTS = [frozenset(), {models.USER}, {counters.SHARD_KIND}, {social_models.LIKE}]
VIEWERS = [None, Viewer("id-alice", "dev")]


class World:
    def __init__(self, store: FaultyStore, ids: dict[str, str], tasks: Tasks, media: Media) -> None:
        self.store = store
        self.ids = ids
        self.tasks = tasks
        self.media = media
        self.relays = Relays(store, tasks)
        self.compiled = build_schema()
        self.generic = build_schema()
        self.generic.execution_context_class = StrawberryGraphQLCoreExecutionContext

    async def both(
        self, query: str, variables: dict[str, Any], viewer: Viewer | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return (
            await self.answer(self.compiled, query, variables, viewer),
            await self.answer(self.generic, query, variables, viewer),
        )

    async def answer(
        self,
        schema: TimelineSchema,
        query: str,
        variables: dict[str, Any],
        viewer: Viewer | None,
    ) -> dict[str, Any]:
        context = RequestContext(
            self.store, CURSORS, self.tasks, self.media, self.relays, viewer=viewer
        )
        result = await schema.execute(query, variable_values=variables, context_value=context)
        errors = [client_error(error).formatted for error in result.errors or []]
        for error in errors:
            error.get("extensions", {}).pop("errorId", None)  # a fresh id each time
        # In path order: a plan reads a page's owners and counts before completing
        # it (schema/compiled/prefetch.py), so their errors arise in item order,
        # where graphql-core's order follows which loads happened to finish first.
        errors.sort(key=lambda error: str(error.get("path")))
        return {"data": result.data, "errors": errors}


async def mutate(world: World, viewer: Viewer, query: str, **variables: Any) -> None:
    answer = await world.answer(world.generic, query, variables, viewer)
    assert not answer["errors"], answer


@asynccontextmanager
async def open_world(tmp_path: Path) -> AsyncIterator[World]:
    store = FaultyStore(SQLiteStore(tmp_path / "plans.db"))
    users = {name: await make_user(store, name) for name in ("alice", "bob", "carol")}
    photos = {name: await make_photos(store, user, 4) for name, user in users.items()}
    ghost = models.User("ghost", "ghost", "Ghost", users["alice"].created_at)
    orphan = models.Photo(ghost.id, "orphan", "no owner", users["alice"].created_at, 10)
    await store.put_many([models.photo_to_entity(orphan)])
    ids = {
        "alice": to_global_id("User", users["alice"].key),
        "bob": to_global_id("User", users["bob"].key),
        "photo": to_global_id("Photo", photos["bob"][0].key),
        "orphan": to_global_id("Photo", orphan.key),
    }
    database = task_database(tmp_path / "tasks.db")
    pipeline = ImagePipeline(ImageLimits(), memory_budget=256 << 20)
    media = Media(pipeline, LocalBlobStore(tmp_path / "media"))
    world = World(store, ids, Tasks(EmbeddedQueue(database)), media)
    alice = Viewer("id-alice", "dev")
    for other in ("bob", "carol"):
        await mutate(
            world,
            alice,
            "mutation($u: ID!) { follow(input: {userId: $u}) { errors { code } } }",
            u=to_global_id("User", users[other].key),
        )
    for photo in photos["bob"][:2]:
        photo_id = to_global_id("Photo", photo.key)
        await mutate(
            world,
            alice,
            "mutation($p: ID!) { likePhoto(input: {photoId: $p}) { errors { code } } }",
            p=photo_id,
        )
        await mutate(
            world,
            alice,
            'mutation($p: ID!) { addComment(input: {photoId: $p, text: "nice"}) '
            "{ errors { code } } }",
            p=photo_id,
        )
    try:
        yield world
    finally:
        await store.close()
        database.close()
