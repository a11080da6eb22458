"""The re-render job end to end on the embedded store: real photos uploaded through
the app, enqueued, re-rendered by a worker through the pull queue, served anew."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import httpx
import pytest
from PIL import Image

from media.derivatives import LARGE, RENDER_VERSION
from media.image_work import ImagePipeline
from media.local_blobs import LocalBlobStore
from media.pipeline import ImageLimits
from resolvers.node_ids import to_global_id
from settings import Settings
from store.port import Entity, Store
from store.sqlite import SQLiteStore
from store.sqlite_db import shared_database
from taskqueue.pull.embedded import EmbeddedPullQueue
from tasks.rerender import TAG, WorkOptions, enqueue, work
from tasks.rerender_photo import Outcome, PhotoRenderer
from tasks.rerender_progress import Progress
from tests.utils.accounts import bearer, call
from tests.utils.builders import make_photos, make_user
from tests.utils.clients import app_client
from tests.utils.delegating_store import DelegatingStore
from tests.utils.rerender import (
    assert_no_blob_lost_or_orphaned,
    owner_photos,
    rendered_once,
    upload_stale_photos,
)
from tests.utils.uploads import DELETE_PHOTO, OWN_PHOTOS, stray_records

FAST = WorkOptions(batch=2, lease_seconds=30, idle_seconds=0, poll_seconds=0)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[SQLiteStore]:
    instance = SQLiteStore(settings.sqlite_path)
    yield instance
    await instance.close()


@pytest.fixture
async def http(settings: Settings, store: SQLiteStore) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, store) as client:
        yield client


@pytest.fixture
def blobs(settings: Settings) -> LocalBlobStore:
    return LocalBlobStore(settings.var_dir / "media")


@pytest.fixture
def renderer(store: SQLiteStore, blobs: LocalBlobStore) -> PhotoRenderer:
    return PhotoRenderer(store, blobs, ImagePipeline(ImageLimits(), memory_budget=256 << 20))


@pytest.fixture
def queue(settings: Settings) -> EmbeddedPullQueue:
    return EmbeddedPullQueue(shared_database(settings.sqlite_path))


async def test_every_stale_photo_is_re_rendered_once_and_served_with_its_new_images(
    http: httpx.AsyncClient,
    settings: Settings,
    store: SQLiteStore,
    blobs: LocalBlobStore,
    renderer: PhotoRenderer,
    queue: EmbeddedPullQueue,
) -> None:
    stale = await upload_stale_photos(http, settings, store, 3)
    bob = await make_user(store, "bob")
    await make_photos(store, bob, 2)  # from before uploads: no images, nothing to re-render
    expected = {photo.id: rendered_once(blobs.root, photo) for photo in stale}
    old_names = {name for photo in stale for name in photo.images.values()}

    assert await enqueue(store, queue) == (5, 3)
    assert await enqueue(store, queue) == (5, 0)  # the same names: nothing added twice
    log = io.StringIO()
    summary = await work(queue, renderer, FAST, Progress(log))

    assert (summary.done, summary.failed, summary.skipped, summary.retried) == (3, 0, 0, 0)
    assert "re-rendering: 1/3" in log.getvalue()
    assert await queue.pending(TAG) == 0
    for photo in await owner_photos(store):
        assert photo.render_version == RENDER_VERSION
        assert dict(photo.images) == expected[photo.id]
        with Image.open(blobs.root / photo.images[LARGE.name]) as large:
            assert large.format == "WEBP"
    assert not old_names & {path.name for path in blobs.root.iterdir()}  # reclaimed
    await assert_no_blob_lost_or_orphaned(store, blobs)
    served = await call(http, OWN_PHOTOS, headers=bearer(settings, "alice-uid"))
    urls = {edge["node"]["large"] for edge in served["data"]["viewer"]["user"]["photos"]["edges"]}
    assert urls == {f"http://127.0.0.1:8080/media/{e[LARGE.name]}" for e in expected.values()}

    assert await enqueue(store, queue) == (5, 0)  # all current now
    assert (await work(queue, renderer, FAST, Progress(io.StringIO()))).finished == 0


class BetweenRenderAndCommit(DelegatingStore):
    """Runs `meanwhile` once, when a re-render has written its blobs' record and is
    about to write the blobs and commit."""

    def __init__(self, inner: Store, meanwhile: Callable[[], Awaitable[object]]) -> None:
        super().__init__(inner)
        self.meanwhile: Callable[[], Awaitable[object]] | None = meanwhile

    async def put_many(self, entities: Sequence[Entity]) -> None:
        await self.inner.put_many(entities)
        pending = any(entity.key.name.startswith("rerender-") for entity in entities)
        if pending and self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()


async def test_a_task_run_twice_changes_nothing_the_second_time_and_costs_one_get(
    http: httpx.AsyncClient,
    settings: Settings,
    store: SQLiteStore,
    blobs: LocalBlobStore,
    renderer: PhotoRenderer,
) -> None:
    (photo,) = await upload_stale_photos(http, settings, store, 1)

    store.round_trips = 0
    assert await renderer.rerender(photo.key) is Outcome.RERENDERED
    # get; the pending record: get, put; transaction: get, commit; reclaimed record: delete
    assert store.round_trips == 6
    (after_once,) = await store.get_many([photo.key])
    store.round_trips = 0
    assert await renderer.rerender(photo.key) is Outcome.SKIPPED
    assert store.round_trips == 1

    assert await store.get_many([photo.key]) == [after_once]
    await assert_no_blob_lost_or_orphaned(store, blobs)


async def test_two_passes_racing_on_one_photo_leave_one_result_and_no_blob_behind(
    http: httpx.AsyncClient,
    settings: Settings,
    store: SQLiteStore,
    blobs: LocalBlobStore,
    renderer: PhotoRenderer,
) -> None:
    (photo,) = await upload_stale_photos(http, settings, store, 1)
    expected = rendered_once(blobs.root, photo)
    racing = PhotoRenderer(
        BetweenRenderAndCommit(store, lambda: renderer.rerender(photo.key)),
        blobs,
        renderer.pipeline,
    )

    assert await racing.rerender(photo.key) is Outcome.SKIPPED  # the other pass won

    (after,) = await owner_photos(store)
    assert dict(after.images) == expected
    await assert_no_blob_lost_or_orphaned(store, blobs)
    assert await stray_records(store) == []


async def test_a_photo_deleted_during_its_re_render_leaves_none_of_the_new_blobs(
    http: httpx.AsyncClient,
    settings: Settings,
    store: SQLiteStore,
    blobs: LocalBlobStore,
    renderer: PhotoRenderer,
) -> None:
    (photo,) = await upload_stale_photos(http, settings, store, 1)
    alice = bearer(settings, "alice-uid")
    photo_id = to_global_id("Photo", photo.key)

    async def delete() -> None:
        deleted = await call(http, DELETE_PHOTO, {"input": {"photoId": photo_id}}, alice)
        assert deleted["data"]["deletePhoto"]["errors"] == [], deleted

    racing = PhotoRenderer(BetweenRenderAndCommit(store, delete), blobs, renderer.pipeline)

    assert await racing.rerender(photo.key) is Outcome.SKIPPED

    assert [path.name for path in blobs.root.iterdir() if not path.name.startswith(".")] == []
    assert await stray_records(store) == []


async def test_a_photo_whose_large_image_is_missing_fails_and_is_not_retried(
    http: httpx.AsyncClient,
    settings: Settings,
    store: SQLiteStore,
    blobs: LocalBlobStore,
    renderer: PhotoRenderer,
    queue: EmbeddedPullQueue,
) -> None:
    (photo,) = await upload_stale_photos(http, settings, store, 1)
    await blobs.delete([photo.images[LARGE.name]])

    await enqueue(store, queue)
    summary = await work(queue, renderer, FAST, Progress(io.StringIO()))

    assert (summary.done, summary.failed) == (0, 1)
    assert await queue.pending(TAG) == 0
    assert (await owner_photos(store))[0].render_version == 0


class FailingOnce(LocalBlobStore):
    """The blob port, whose first read fails as a network blip would."""

    failed = False

    async def get(self, name: str) -> bytes | None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("blob store unreachable")
        return await super().get(name)


@pytest.mark.slow  # the worker waits out a 1 s lease and 2 s of idling in real time
async def test_an_error_hands_the_task_back_and_a_later_lease_finishes_it(
    http: httpx.AsyncClient,
    settings: Settings,
    store: SQLiteStore,
    renderer: PhotoRenderer,
    queue: EmbeddedPullQueue,
) -> None:
    await upload_stale_photos(http, settings, store, 1)
    flaky = PhotoRenderer(store, FailingOnce(settings.var_dir / "media"), renderer.pipeline)
    await enqueue(store, queue)

    options = WorkOptions(batch=2, lease_seconds=1, idle_seconds=2, poll_seconds=0.1)
    summary = await work(queue, flaky, options, Progress(io.StringIO()))

    assert (summary.done, summary.failed, summary.retried) == (1, 0, 1)
    assert (await owner_photos(store))[0].render_version == RENDER_VERSION
