"""Failures at each step of an upload or a delete never leave a Photo without its
images, and every blob nothing uses is either gone or named by a StrayBlob record.

Failures enter through the ports: a blob store whose writes or deletes fail, and a
store whose next commit fails before it applies, or applies and then reports an
error (the ambiguous case Datastore can produce).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Literal

import httpx
import pytest

from app import create_app
from media.blobs import all_done
from media.local_blobs import LocalBlobStore
from settings import Settings
from store.errors import StoreError
from store.port import Store, Transaction
from tests.utils import images
from tests.utils.accounts import bearer, call, create_profile
from tests.utils.clients import serving
from tests.utils.delegating_store import DelegatingStore
from tests.utils.uploads import (
    APOLLO_HEADERS,
    DELETE_PHOTO,
    FILE_MAP,
    create_photo,
    operations,
    stored_photos,
    stray_records,
)


class FailingBlobs(LocalBlobStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.fail_put_number: int | None = None  # the n-th put from now fails
        self.fail_deletes = False

    def start_put_many(self, blobs: Mapping[str, tuple[bytes, str]]) -> Future[None]:
        # A write at a time, as the store: those before the failing one land.
        items = list(blobs.items())
        for n in range(len(items)):
            if self.fail_put_number is not None:
                self.fail_put_number -= 1
                if self.fail_put_number == 0:
                    failed: Future[None] = Future()
                    failed.set_exception(OSError("disk full (test)"))
                    return all_done([super().start_put_many(dict(items[:n])), failed])
        return super().start_put_many(blobs)

    async def delete(self, names: Sequence[str]) -> None:
        if self.fail_deletes:
            raise OSError("storage unavailable (test)")
        await super().delete(names)


class FlakyCommits(DelegatingStore):
    """The store port, whose next transaction fails `before` or `after` its commit."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.next_commit: Literal["before", "after"] | None = None

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        failure, self.next_commit = self.next_commit, None
        return self._transaction(failure)

    @asynccontextmanager
    async def _transaction(self, failure: str | None) -> AsyncIterator[Transaction]:
        async with self.inner.transaction() as tx:
            yield tx
            if failure == "before":
                raise StoreError("commit refused (test)")
        if failure == "after":
            raise StoreError("commit applied, but the answer was lost (test)")


@pytest.fixture
def blobs(tmp_path: Path) -> FailingBlobs:
    return FailingBlobs(tmp_path / "media")


@pytest.fixture
def flaky(store: Store) -> FlakyCommits:
    return FlakyCommits(store)


@pytest.fixture
async def http(
    flaky: FlakyCommits, blobs: FailingBlobs, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, store=flaky, blobs=blobs)
    async with serving(app) as client:
        await create_profile(client, bearer(settings, ALICE), username="alice", displayName="A")
        yield client


ALICE = "alice-uid"


async def post_failing(http: httpx.AsyncClient, settings: Settings) -> None:
    response = await http.post(
        "/graphql",
        headers={**bearer(settings, ALICE), **APOLLO_HEADERS},
        data={
            "operations": json.dumps(operations(idempotency_key="tap")),
            "map": json.dumps(FILE_MAP),
        },
        files={"0": ("p.jpg", images.jpeg_with_gps(), "image/jpeg")},
    )
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


def files(blobs: LocalBlobStore) -> set[str]:
    return {path.name for path in blobs.root.iterdir() if not path.name.startswith(".")}


async def test_a_failed_blob_write_takes_back_the_others(
    http: httpx.AsyncClient, settings: Settings, store: Store, blobs: FailingBlobs
) -> None:
    blobs.fail_put_number = 2
    await post_failing(http, settings)
    assert files(blobs) == set()
    assert await stored_photos(store, ALICE) == []
    assert await stray_records(store) == []


async def test_when_taking_back_fails_too_the_blobs_are_recorded(
    http: httpx.AsyncClient, settings: Settings, store: Store, blobs: FailingBlobs
) -> None:
    blobs.fail_put_number = 3
    blobs.fail_deletes = True
    await post_failing(http, settings)
    assert await stored_photos(store, ALICE) == []
    [stray] = await stray_records(store)
    assert stray.owner_id == ALICE
    assert len(stray.names) == 3
    assert files(blobs) <= set(stray.names)
    assert len(files(blobs)) == 2
    blobs.fail_deletes = False
    await reclaim_as_the_cleanup_job_will(store, blobs)
    assert files(blobs) == set()


async def test_a_commit_that_never_applied_leaves_its_blobs_recorded(
    http: httpx.AsyncClient,
    settings: Settings,
    store: Store,
    flaky: FlakyCommits,
    blobs: FailingBlobs,
) -> None:
    flaky.next_commit = "before"
    await post_failing(http, settings)
    assert await stored_photos(store, ALICE) == []
    [stray] = await stray_records(store)
    assert files(blobs) == set(stray.names)
    await reclaim_as_the_cleanup_job_will(store, blobs)
    assert files(blobs) == set()


async def test_a_commit_that_applied_but_failed_to_answer_keeps_every_image(
    http: httpx.AsyncClient,
    settings: Settings,
    store: Store,
    flaky: FlakyCommits,
    blobs: FailingBlobs,
) -> None:
    flaky.next_commit = "after"
    await post_failing(http, settings)
    [photo] = await stored_photos(store, ALICE)
    assert set(photo.images.values()) == files(blobs)
    assert await stray_records(store) == []
    # The client's retry finds the photo the lost answer was about.
    retry = await create_photo(
        http, bearer(settings, ALICE), images.jpeg_with_gps(), idempotency_key="tap"
    )
    assert retry["photo"]["large"].endswith(photo.images["large"])
    assert files(blobs) == set(photo.images.values())


async def test_a_delete_whose_blobs_cannot_go_yet_records_them(
    http: httpx.AsyncClient, settings: Settings, store: Store, blobs: FailingBlobs
) -> None:
    posted = await create_photo(http, bearer(settings, ALICE), images.png())
    blobs.fail_deletes = True
    body = await call(
        http, DELETE_PHOTO, {"input": {"photoId": posted["photo"]["id"]}}, bearer(settings, ALICE)
    )
    assert body["data"]["deletePhoto"]["errors"] == []
    assert await stored_photos(store, ALICE) == []
    [stray] = await stray_records(store)
    assert set(stray.names) == files(blobs)
    blobs.fail_deletes = False
    await reclaim_as_the_cleanup_job_will(store, blobs)
    assert files(blobs) == set()


async def reclaim_as_the_cleanup_job_will(store: Store, blobs: LocalBlobStore) -> None:
    """What the scheduled job does with records older than a day."""
    for stray in await stray_records(store):
        await blobs.delete(stray.names)
        await store.delete_many([stray.key])
    assert await stray_records(store) == []
