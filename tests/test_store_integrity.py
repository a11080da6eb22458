"""Start-up integrity of the embedded store, and what /healthz says about it.

A store that held data and lost it (file gone, emptied, cut short, pages damaged)
is refused at start with a message naming the file and the cause; it is never
made again or seeded over. /healthz answers 503 when a read fails or hangs.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from app import create_app
from clock import Clock, system_clock
from demo import DEMO_USERS
from settings import Settings
from store import models
from store.errors import StoreFileDamaged
from store.keys import Key
from store.port import Entity
from store.sqlite import SQLiteStore
from store.sqlite_integrity import marker_path
from tests.utils.builders import make_user
from tests.utils.clients import serving
from tests.utils.tokens import FakeClock

PAGE = 4096


async def served(app: Starlette, path: str) -> httpx.Response:
    async with serving(app, "http://t") as http:
        return await http.get(path)


async def start_and_stop(settings: Settings, clock: Clock = system_clock) -> None:
    response = await served(create_app(settings, clock=clock), "/healthz")
    assert response.status_code == 200, response.text


async def fill(path: Path, rows: int = 150) -> None:
    """Enough data to span many pages, written through the embedded store."""
    store = SQLiteStore(path)
    await make_user(store, "keeper")
    await store.put_many(
        [Entity(Key.of("Blob", f"b{n:04d}"), {"x": "x" * 2000}) for n in range(rows)]
    )
    await store.close()


def cut_in_half(path: Path) -> None:
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // PAGE // 2 * PAGE)


def scribble_over_pages(path: Path) -> None:
    """Garbage over a run of pages in the middle, as a bad sector or a stray write."""
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // PAGE // 2 * PAGE)
        file.write(b"\xab" * PAGE * 3)


DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (os.remove, "is missing"),
    "empty": (lambda path: path.open("wb").close(), "is empty"),
    "truncated": (cut_in_half, "truncated"),
    "corrupt pages": (scribble_over_pages, "corrupt"),
}


@pytest.mark.parametrize("damage", DAMAGES)
async def test_a_store_that_held_data_and_lost_it_is_refused_not_made_again(
    settings: Settings, damage: str
) -> None:
    settings = replace(settings, demo_data=True)  # the case: demo data would reseed
    await start_and_stop(replace(settings, demo_data=False))
    await fill(settings.sqlite_path)
    harm, cause = DAMAGES[damage]
    harm(settings.sqlite_path)
    before = settings.sqlite_path.read_bytes() if settings.sqlite_path.exists() else None

    with pytest.raises(StoreFileDamaged) as refused:
        create_app(settings)

    message = str(refused.value)
    for says in (
        str(settings.sqlite_path),
        cause,
        "backup",
        str(marker_path(settings.sqlite_path)),
    ):
        assert says in message, message
    after = settings.sqlite_path.read_bytes() if settings.sqlite_path.exists() else None
    assert after == before, "the damaged file must be left as it was"


async def test_a_new_store_is_marked_and_seeded_once_then_never_reseeded(
    settings: Settings,
) -> None:
    settings = replace(settings, demo_data=True)
    assert not marker_path(settings.sqlite_path).exists()
    await start_and_stop(settings)
    marker = json.loads(marker_path(settings.sqlite_path).read_text())
    assert marker["file"] == settings.sqlite_path.name
    assert marker["created_at"]

    user_id = DEMO_USERS[1][0]
    store = SQLiteStore(settings.sqlite_path)
    await store.delete_many([models.user_key(user_id)])  # a user deleted their account
    await store.close()
    await start_and_stop(settings)

    store = SQLiteStore(settings.sqlite_path)
    assert await store.get_many([models.user_key(user_id)]) == [None]
    await store.close()


async def test_the_marker_is_stamped_by_the_apps_clock(settings: Settings) -> None:
    frozen = datetime(2041, 3, 4, 5, 6, 7, tzinfo=UTC)  # years from the wall clock
    await start_and_stop(settings, FakeClock(frozen))
    marker = json.loads(marker_path(settings.sqlite_path).read_text())
    assert marker["created_at"] == marker["marked_at"] == "2041-03-04T05:06:07+00:00"


async def test_a_store_from_before_markers_keeps_its_data_and_gets_a_marker(
    settings: Settings,
) -> None:
    await fill(settings.sqlite_path, rows=3)
    await start_and_stop(replace(settings, demo_data=True))
    marker = json.loads(marker_path(settings.sqlite_path).read_text())
    assert marker["created_at"] is None
    assert marker["marked_at"]
    store = SQLiteStore(settings.sqlite_path)
    assert await store.get_many([models.user_key(DEMO_USERS[0][0])]) == [None], "not seeded"
    assert (await store.get_many([models.user_key("id-keeper")]))[0] is not None
    await store.close()


async def test_health_is_503_with_the_cause_when_the_file_cannot_be_read(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "store.db"
    await fill(path, rows=3)
    conn = sqlite3.connect(path)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'entities'").fetchone()
    conn.close()
    # Damaged after start (the start-up check is behind us): the store is opened first.
    store = SQLiteStore(path)
    with path.open("r+b") as file:
        file.seek((root - 1) * PAGE)
        file.write(b"\xab" * PAGE)

    response = await served(create_app(settings, store=store), "/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "corrupt" in response.json()["cause"], response.json()


class HangingStore(SQLiteStore):
    """A store that never answers a read, as a datastore behind a dead network."""

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_health_is_503_when_the_store_does_not_answer(
    settings: Settings, tmp_path: Path
) -> None:
    impatient = replace(settings, web=replace(settings.web, health_timeout_seconds=0.05))
    hanging = HangingStore(tmp_path / "s.db")
    response = await served(create_app(impatient, store=hanging), "/healthz")
    assert response.status_code == 503
    assert "did not answer a read within 0.05s" in response.json()["cause"]
