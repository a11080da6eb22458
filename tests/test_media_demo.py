"""`make run`'s demo photos come with images, made by the real pipeline."""

from __future__ import annotations

import httpx

from demo import DEMO_USERS, seed_demo_data
from media.local_blobs import LocalBlobStore
from media.wiring import media_from_settings
from settings import Settings
from store.port import Store
from tests.conftest import graphql

FIRST_PHOTOS = """query($name: String!) { user(username: $name) { photos(first: 2) {
  edges { node { width height blurhash thumbnail: image(size: THUMBNAIL) large: image } } } } }"""


async def test_demo_photos_get_images_that_load(
    client: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    # Seeded without images first, as an older checkout's var/ would hold them.
    assert await seed_demo_data(store) > 0
    photos = sum(photo_count for *_, photo_count in DEMO_USERS)
    media = media_from_settings(settings, LocalBlobStore(settings.var_dir / "media"))
    assert await seed_demo_data(store, media) == photos
    assert await seed_demo_data(store, media) == 0
    smallest = min(DEMO_USERS, key=lambda user: user[3])
    body = await graphql(client, FIRST_PHOTOS, {"name": smallest[1]})
    edges = body["data"]["user"]["photos"]["edges"]
    assert edges
    for edge in edges:
        node = edge["node"]
        assert (node["width"], node["height"]) == (320, 240)
        assert node["blurhash"]
        for url in (node["thumbnail"], node["large"]):
            assert (await client.get(url)).headers["content-type"] == "image/webp"
