"""createPhoto through the real app, as Apollo clients upload, on both stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from settings import Settings
from store.port import Store
from tests.utils import images
from tests.utils.accounts import bearer, call, create_profile
from tests.utils.uploads import (
    APOLLO_HEADERS,
    CREATE_PHOTO,
    FILE_MAP,
    OWN_PHOTOS,
    apollo_ios_body,
    create_photo,
    operations,
    stored_photos,
    stray_records,
)


@pytest.fixture
async def alice(client: httpx.AsyncClient, settings: Settings) -> dict[str, str]:
    headers = bearer(settings, "alice-uid")
    await create_profile(client, headers, username="alice", displayName="Alice")
    return headers


def media_files(settings: Settings) -> list[Path]:
    root = settings.var_dir / "media"
    return sorted(root.iterdir()) if root.exists() else []


async def test_an_apollo_ios_heic_upload_comes_first_with_three_images_that_load(
    client: httpx.AsyncClient, settings: Settings, alice: dict[str, str]
) -> None:
    await create_photo(client, alice, images.jpeg_with_gps(), caption="older")
    content_type, body = apollo_ios_body(images.heic_with_gps(), "IMG_0001.HEIC", "image/heic")
    response = await client.post(
        "/graphql", content=body, headers={**alice, **APOLLO_HEADERS, "Content-Type": content_type}
    )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["createPhoto"]
    assert payload["errors"] == []
    posted = payload["photo"]

    feed = await call(client, OWN_PHOTOS, headers=alice)
    first = feed["data"]["viewer"]["user"]["photos"]["edges"][0]["node"]
    assert first == posted
    assert (first["width"], first["height"]) == (480, 320)
    assert len(first["blurhash"]) >= 20
    assert first["dominantColor"].startswith("#")
    assert len(first["dominantColor"]) == 7
    for size in ("thumbnail", "medium", "large"):
        image = await client.get(first[size])
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/webp"
        images.assert_upright(image.content, 480, 320)
        images.assert_no_metadata(image.content)


async def test_no_stored_byte_carries_metadata(
    client: httpx.AsyncClient, settings: Settings, alice: dict[str, str]
) -> None:
    for data in (images.jpeg_with_gps(), images.heic_with_gps(), images.png(), images.webp()):
        payload = await create_photo(client, alice, data)
        assert payload["errors"] == []
    files = media_files(settings)
    assert len(files) == 4 * 3
    for path in files:
        images.assert_no_metadata(path.read_bytes())
        images.assert_upright(path.read_bytes(), 480, 320)


BAD_FILES = [
    (b"", "photo.jpg", "image/jpeg", "EMPTY_IMAGE"),
    (images.html_named_jpg(), "photo.jpg", "image/jpeg", "UNSUPPORTED_IMAGE"),
    (images.truncated_jpeg(), "photo.jpg", "image/jpeg", "CORRUPT_IMAGE"),
    (images.png_declaring(20_000, 20_000), "bomb.png", "image/png", "TOO_MANY_PIXELS"),
    (images.encode(images.marked_photo(), "GIF"), "photo.heic", "image/heic", "UNSUPPORTED_IMAGE"),
]


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "code"),
    BAD_FILES,
    ids=["zero-bytes", "html-named-jpg", "truncated-jpeg", "400-megapixels", "gif-named-heic"],
)
async def test_a_bad_file_gets_a_clear_error_and_leaves_nothing_behind(
    client: httpx.AsyncClient,
    settings: Settings,
    store: Store,
    alice: dict[str, str],
    data: bytes,
    filename: str,
    content_type: str,
    code: str,
) -> None:
    payload = await create_photo(
        client, alice, data, filename=filename, content_type=content_type, idempotency_key="k"
    )
    assert payload["photo"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (code, "image")
    assert error["message"]
    assert media_files(settings) == []
    assert await stored_photos(store, "alice-uid") == []
    assert await stray_records(store) == []


async def test_a_bad_caption_is_refused_before_the_image_is_touched(
    client: httpx.AsyncClient, settings: Settings, store: Store, alice: dict[str, str]
) -> None:
    payload = await create_photo(client, alice, images.png(), caption="bell\x07")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", "caption")]
    assert media_files(settings) == []
    assert await stored_photos(store, "alice-uid") == []


async def test_a_user_without_a_profile_cannot_post(
    client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    payload = await create_photo(client, bearer(settings, "nobody"), images.png())
    assert [e["code"] for e in payload["errors"]] == ["PROFILE_MISSING"]
    assert media_files(settings) == []
    assert await stray_records(store) == []


async def test_a_retry_with_the_same_key_posts_once(
    client: httpx.AsyncClient, settings: Settings, store: Store, alice: dict[str, str]
) -> None:
    photo = images.jpeg_with_gps()
    first = await create_photo(client, alice, photo, caption="hi", idempotency_key="tap-1")
    again = await create_photo(client, alice, photo, caption="hi", idempotency_key="tap-1")
    assert again == first
    assert len(await stored_photos(store, "alice-uid")) == 1
    assert len(media_files(settings)) == 3  # the retry's own blobs were reclaimed at once
    assert await stray_records(store) == []
    other = await create_photo(client, alice, images.png(), caption="hi", idempotency_key="tap-1")
    assert [e["code"] for e in other["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert len(media_files(settings)) == 3


async def test_signing_in_is_needed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        headers={"Apollo-Require-Preflight": "true"},
        data={"operations": json.dumps(operations()), "map": json.dumps(FILE_MAP)},
        files={"0": ("a.png", images.png(), "image/png")},
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_image_sent_as_json_is_a_client_bug(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    variables: dict[str, Any] = {"input": {"image": "aGVsbG8=", "caption": ""}}
    body = await call(client, CREATE_PHOTO, variables, alice)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "multipart" in body["errors"][0]["message"]


async def test_a_malformed_idempotency_key_leaves_nothing_behind(
    client: httpx.AsyncClient, settings: Settings, store: Store, alice: dict[str, str]
) -> None:
    response = await client.post(
        "/graphql",
        headers={**alice, **APOLLO_HEADERS},
        data={
            "operations": json.dumps(operations(idempotency_key="k" * 129)),
            "map": json.dumps(FILE_MAP),
        },
        files={"0": ("a.png", images.png(), "image/png")},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert media_files(settings) == []
    assert await stray_records(store) == []
