"""The app serves the local blob store at /media/<name>: immutable, revalidated by
a strong ETag, and nothing but blob names can be asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app import create_app
from media.local_blobs import LocalBlobStore
from settings import Settings
from store.sqlite import SQLiteStore
from tests.utils.clients import serving

NAME = "0123456789abcdef-thumbnail-00112233445566778899aabbccddeeff.webp"
ETAG = '"0123456789abcdef-thumbnail-00112233445566778899aabbccddeeff"'


@pytest.fixture
async def served(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    blobs = LocalBlobStore(tmp_path / "media")
    await blobs.put(NAME, b"RIFF....WEBPVP8 ", "image/webp")
    # Things a path-traversal attempt would like to reach.
    (tmp_path / "secret.key").write_text("do not serve")
    (tmp_path / "media" / ".incoming-abc").write_bytes(b"half-written")
    app = create_app(settings, store=SQLiteStore(tmp_path / "t.db"), blobs=blobs)
    async with serving(app) as http:
        yield http


async def test_a_blob_is_served_with_a_strong_etag_and_cached_for_a_year(
    served: httpx.AsyncClient,
) -> None:
    response = await served.get(f"/media/{NAME}")
    assert response.status_code == 200
    assert response.content == b"RIFF....WEBPVP8 "
    assert response.headers["etag"] == ETAG
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("if_none_match", [ETAG, f"W/{ETAG}", f'"other", {ETAG}', "*"])
async def test_a_revalidation_is_answered_304(
    served: httpx.AsyncClient, if_none_match: str
) -> None:
    response = await served.get(f"/media/{NAME}", headers={"If-None-Match": if_none_match})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == ETAG
    assert response.headers["cache-control"].endswith("immutable")


async def test_another_etag_gets_the_bytes(served: httpx.AsyncClient) -> None:
    response = await served.get(f"/media/{NAME}", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200


async def test_head_works_for_clients_that_probe(served: httpx.AsyncClient) -> None:
    response = await served.head(f"/media/{NAME}")
    assert response.status_code == 200
    assert response.headers["etag"] == ETAG


@pytest.mark.parametrize(
    "path",
    [
        "/media/..%2Fsecret.key",
        "/media/%2e%2e%2fsecret.key",
        "/media/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/media/../secret.key",
        "/media/.incoming-abc",
        "/media/secret.key",
        "/media/..",
        "/media/",
        "/media/0123456789abcdef-thumbnail-missing.webp",
        "/media/%00.webp",
    ],
)
async def test_only_blob_names_are_served(served: httpx.AsyncClient, path: str) -> None:
    response = await served.get(path)
    assert response.status_code == 404
    assert b"do not serve" not in response.content
    assert b"half-written" not in response.content


async def test_media_is_read_only(served: httpx.AsyncClient) -> None:
    assert (await served.put(f"/media/{NAME}", content=b"x")).status_code == 405
    assert (await served.delete(f"/media/{NAME}")).status_code == 405
