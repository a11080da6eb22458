"""How often a createPhoto waits on another thread: each wake-up of the event loop
from a thread (a worker's job done, handed back with `call_soon_threadsafe`) is a
turn of the loop the upload waits for, and under load a turn is a pass over every
other ready request (tests/test_loop_turns.py). The embedded store's idle writes
run on the loop's own thread and its writer's thread is busy with earlier uploads'
background work, so the store's threads are left out: what is counted is the image
work and the blob writes. Counted, never timed."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from settings import Settings
from store.sqlite import SQLiteStore
from tests.utils import images
from tests.utils.accounts import bearer, create_profile
from tests.utils.clients import app_client
from tests.utils.uploads import create_photo


@contextlib.contextmanager
def wake_ups() -> Iterator[list[int]]:
    """Counts the callbacks threads other than the store's hand the running loop
    while the block runs."""
    loop = asyncio.get_running_loop()
    handed: list[int] = [0]
    original = loop.call_soon_threadsafe

    def counted(callback: Callable[..., object], *args: Any, **kwargs: Any) -> asyncio.Handle:
        # Not the store's threads: its writer also runs the previous uploads'
        # background work, which this upload does not wait for.
        if not threading.current_thread().name.startswith("sqlite-"):
            handed[0] += 1
        return original(callback, *args, **kwargs)

    loop.call_soon_threadsafe = counted  # type: ignore[method-assign,assignment]
    try:
        yield handed
    finally:
        del loop.call_soon_threadsafe  # the instance attribute: back to the class's method


async def wake_ups_of(upload: Awaitable[dict[str, Any]]) -> int:
    with wake_ups() as handed:
        payload = await upload
    assert payload["errors"] == [], payload
    return handed[0]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_a_photo_upload_waits_for_one_thread_job(
    store: SQLiteStore, settings: Settings
) -> None:
    as_owner = bearer(settings, "owner-uid")
    photo = images.encode(images.marked_photo(160, 120), "JPEG")
    async with app_client(settings, store) as http:
        await create_profile(http, as_owner, username="owner", displayName="O")
        await create_photo(http, as_owner, photo, caption="warm-up")  # plans, caches
        # The fewest of three: a background job on the writer at the moment of a
        # commit sends it to the writer's thread (tests/test_loop_turns.py).
        counts = [await wake_ups_of(create_photo(http, as_owner, photo)) for _ in "abc"]
    # Inspection, admission, rendering and the budget's release as one job of
    # the image pool (it was two jobs and a release on the loop), handing the
    # three sizes to one blob-writing job from its own thread (their StrayBlob
    # record is written before the image work): 1, it was 2, and 6 before that.
    assert min(counts) <= 1, counts
