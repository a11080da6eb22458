"""updateCaption and deletePhoto: the owner only, typed errors, and blobs that go
with their photo. Captions are checked by one rule everywhere."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.node_ids import to_global_id
from resolvers.photo_writes import CAPTION_MAX, clean_caption
from settings import Settings
from store import models
from store.port import Store
from tests.utils import images
from tests.utils.accounts import bearer, call, create_profile
from tests.utils.uploads import DELETE_PHOTO, UPDATE_CAPTION, create_photo, stray_records


@pytest.fixture
async def people(client: httpx.AsyncClient, settings: Settings) -> dict[str, dict[str, str]]:
    found = {}
    for name in ("alice", "bob"):
        found[name] = bearer(settings, f"{name}-uid")
        await create_profile(client, found[name], username=name, displayName=name.title())
    return found


async def posted(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    payload = await create_photo(client, headers, images.png(), caption="first words")
    assert payload["errors"] == []
    photo: dict[str, Any] = payload["photo"]
    return photo


async def mutate(
    client: httpx.AsyncClient, query: str, headers: dict[str, str], **input: Any
) -> dict[str, Any]:
    body = await call(client, query, {"input": input}, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


def media_files(settings: Settings) -> list[Path]:
    return sorted((settings.var_dir / "media").iterdir())


async def test_the_owner_changes_the_caption(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    photo = await posted(client, people["alice"])
    payload = await mutate(
        client, UPDATE_CAPTION, people["alice"], photoId=photo["id"], caption=" line one\nline two "
    )
    assert payload["errors"] == []
    assert payload["photo"]["caption"] == "line one\nline two"
    assert payload["photo"]["large"] == photo["large"]


async def test_only_the_owner_may_edit_or_delete(
    client: httpx.AsyncClient,
    settings: Settings,
    store: Store,
    people: dict[str, dict[str, str]],
) -> None:
    photo = await posted(client, people["alice"])
    caption = await mutate(
        client, UPDATE_CAPTION, people["bob"], photoId=photo["id"], caption="mine now"
    )
    deleted = await mutate(client, DELETE_PHOTO, people["bob"], photoId=photo["id"])
    for payload in (caption, deleted):
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_ALLOWED", "photoId")]
    assert len(media_files(settings)) == 3
    refetched = await call(client, "query($id: ID!) { node(id: $id) { id } }", {"id": photo["id"]})
    assert refetched["data"]["node"]["id"] == photo["id"]


async def test_deleting_takes_the_photo_and_its_images(
    client: httpx.AsyncClient,
    settings: Settings,
    store: Store,
    people: dict[str, dict[str, str]],
) -> None:
    photo = await posted(client, people["alice"])
    kept = await posted(client, people["alice"])
    payload = await mutate(
        client, DELETE_PHOTO, people["alice"], photoId=photo["id"], idempotencyKey="del-1"
    )
    assert payload == {"deletedPhotoId": photo["id"], "errors": []}
    for size in ("thumbnail", "medium", "large"):
        assert (await client.get(photo[size])).status_code == 404
        assert (await client.get(kept[size])).status_code == 200
    assert len(media_files(settings)) == 3
    assert await stray_records(store) == []
    again = await mutate(
        client, DELETE_PHOTO, people["alice"], photoId=photo["id"], idempotencyKey="del-1"
    )
    assert again == payload  # a retried delete replays its outcome
    gone = await mutate(client, DELETE_PHOTO, people["alice"], photoId=photo["id"])
    assert [(e["code"], e["field"]) for e in gone["errors"]] == [("NOT_FOUND", "photoId")]


async def test_a_photo_from_before_uploads_can_be_deleted(
    client: httpx.AsyncClient, store: Store, people: dict[str, dict[str, str]]
) -> None:
    old = models.Photo("alice-uid", "old-photo", "from the demo", datetime.now(UTC))
    await store.put_many([models.photo_to_entity(old)])
    payload = await mutate(
        client, DELETE_PHOTO, people["alice"], photoId=to_global_id("Photo", old.key)
    )
    assert payload["errors"] == []
    assert await stray_records(store) == []


async def test_an_id_that_is_not_a_photo_is_a_bad_request(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    user_id = to_global_id("User", models.user_key("alice-uid"))
    body = await call(client, DELETE_PHOTO, {"input": {"photoId": user_id}}, people["alice"])
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "caption", ["x" * (CAPTION_MAX + 1), "tab\tinside", "nul\x00", "escape\x1b[31m", "next\x85line"]
)
async def test_bad_captions_are_typed_errors(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], caption: str
) -> None:
    photo = await posted(client, people["alice"])
    payload = await mutate(
        client, UPDATE_CAPTION, people["alice"], photoId=photo["id"], caption=caption
    )
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", "caption")]


def test_the_longest_caption_and_emoji_sequences_are_fine() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # joined by zero-width joiners
    assert clean_caption("x" * CAPTION_MAX) == "x" * CAPTION_MAX
    assert clean_caption(f"{family} #summer\r\nnext line") == f"{family} #summer\nnext line"


@given(st.text(max_size=CAPTION_MAX + 50))
def test_captions_are_judged_by_one_consistent_rule(caption: str) -> None:
    cleaned = clean_caption(caption)
    normalised = unicodedata.normalize("NFC", caption.replace("\r\n", "\n").replace("\r", "\n"))
    forbidden = any(
        ch != "\n" and unicodedata.category(ch) in ("Cc", "Cs") for ch in normalised.strip()
    )
    if cleaned is None:
        assert forbidden or len(normalised.strip()) > CAPTION_MAX
        return
    assert not forbidden
    assert len(cleaned) <= CAPTION_MAX
    assert clean_caption(cleaned) == cleaned  # storing a caption again changes nothing
    assert "\r" not in cleaned
