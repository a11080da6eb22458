"""Image work under the memory budget, through the real app: concurrent uploads
never hold more estimated bytes than the budget, and each either succeeds or is
told to retry (503, Retry-After, UNAVAILABLE) with nothing written; an image
that could never fit is refused as too many pixels."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from app import create_app
from media import ImageLimits
from media.budget import MemoryBudget
from media.pipeline import inspect
from settings import Settings
from store.port import Store
from tests.utils import images
from tests.utils.accounts import bearer, create_profile
from tests.utils.clients import serving
from tests.utils.uploads import APOLLO_HEADERS, FILE_MAP, operations, stored_photos, stray_records

MAX_PIXELS = 4_000_000
# The largest image this configuration accepts: 2000 x 2000, in RGBA (the
# costliest PNG mode: four bytes a pixel and a conversion per strip).
LARGEST = images.encode(images.marked_photo(2000, 2000).convert("RGBA"), "PNG")
LARGEST_COST = inspect(io.BytesIO(LARGEST), ImageLimits(max_pixels=MAX_PIXELS)).cost
ALICE = "alice-uid"


def budgeted(settings: Settings, budget: int, wait_seconds: float) -> Settings:
    media = replace(
        settings.media,
        max_image_pixels=MAX_PIXELS,
        image_memory_budget=budget,
        image_budget_wait_seconds=wait_seconds,
    )
    return replace(settings, media=media)


@dataclass
class Budgeted:
    http: httpx.AsyncClient
    budget: MemoryBudget  # the app's own, instrumented: admitted bytes and their high-water mark


async def running_app(settings: Settings, store: Store) -> AsyncIterator[Budgeted]:
    app = create_app(settings, store=store)
    async with serving(app, "http://t") as http:
        await create_profile(http, bearer(settings, ALICE), username="alice", displayName="A")
        yield Budgeted(http, app.state.media.pipeline.budget)


@pytest.fixture
async def one_at_a_time(settings: Settings, store: Store) -> AsyncIterator[Budgeted]:
    """Room for one largest image, not two; nobody waits for room."""
    async for budgeted_app in running_app(budgeted(settings, LARGEST_COST * 3 // 2, 0), store):
        yield budgeted_app


async def post(http: httpx.AsyncClient, settings: Settings, image: bytes) -> httpx.Response:
    return await http.post(
        "/graphql",
        headers={**bearer(settings, ALICE), **APOLLO_HEADERS},
        data={"operations": json.dumps(operations()), "map": json.dumps(FILE_MAP)},
        files={"0": ("big.png", image, "image/png")},
    )


def assert_told_to_retry(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert error["extensions"]["retryAfterSeconds"] == int(response.headers["retry-after"])


def media_files(settings: Settings) -> list[str]:
    root = settings.var_dir / "media"
    return [path.name for path in root.iterdir() if not path.name.startswith(".")]


async def test_ten_concurrent_largest_uploads_stay_inside_the_budget(
    one_at_a_time: Budgeted, settings: Settings, store: Store
) -> None:
    http = one_at_a_time.http
    responses = await asyncio.gather(*(post(http, settings, LARGEST) for _ in range(10)))

    budget = one_at_a_time.budget
    assert LARGEST_COST <= budget.high_water <= budget.capacity < 2 * LARGEST_COST
    assert budget.admitted == 0
    posted: list[dict[str, Any]] = []
    for response in responses:
        if response.status_code == 200:
            payload = response.json()["data"]["createPhoto"]
            assert payload["errors"] == [], payload
            posted.append(payload["photo"])
        else:
            assert_told_to_retry(response)
    assert posted  # the first to ask always finds the budget empty
    # Nothing half-written: every photo has its three images, the refused left nothing.
    assert len(await stored_photos(store, ALICE)) == len(posted)
    assert len(media_files(settings)) == 3 * len(posted)
    assert await stray_records(store) == []


async def test_an_upload_that_finds_no_room_is_told_to_retry_and_then_succeeds(
    one_at_a_time: Budgeted, settings: Settings, store: Store
) -> None:
    http, budget = one_at_a_time.http, one_at_a_time.budget
    await budget.acquire(budget.capacity, wait_seconds=0)  # other images hold every byte

    assert_told_to_retry(await post(http, settings, LARGEST))
    assert await stored_photos(store, ALICE) == []
    assert media_files(settings) == []

    budget.release(budget.capacity)
    retried = await post(http, settings, LARGEST)
    assert retried.json()["data"]["createPhoto"]["errors"] == []
    assert len(await stored_photos(store, ALICE)) == 1


async def test_an_image_larger_than_the_whole_budget_is_refused(
    settings: Settings, store: Store
) -> None:
    async for app in running_app(budgeted(settings, LARGEST_COST - 1, 0), store):
        http = app.http
        response = await post(http, settings, LARGEST)
        payload = response.json()["data"]["createPhoto"]
        (error,) = payload["errors"]
        assert (error["code"], error["field"]) == ("TOO_MANY_PIXELS", "image")
        assert "PNG images of this kind of at most about 4 megapixels" in error["message"]
        assert app.budget.high_water == 0
        assert await stored_photos(store, ALICE) == []
        # A smaller image of the same kind still fits.
        small = images.encode(images.marked_photo(1000, 1000).convert("RGBA"), "PNG")
        assert (await post(http, settings, small)).json()["data"]["createPhoto"]["errors"] == []
