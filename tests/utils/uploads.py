"""Uploading photos through the real app as the Apollo clients do.

`apollo_ios_body` writes the multipart body byte for byte the way Apollo iOS'
`MultipartFormData` does (a `urn:uuid:` boundary, a Content-Type and a
Content-Length on every part); `create_photo` uses httpx's encoder, which is what
Apollo Kotlin's and apollo-upload-client's bodies look like to a server.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from store import models
from store.port import Query, Store

PHOTO_FIELDS = """id caption width height blurhash dominantColor
  thumbnail: image(size: THUMBNAIL) medium: image(size: MEDIUM) large: image(size: LARGE)"""
CREATE_PHOTO = f"""mutation CreatePhoto($input: CreatePhotoInput!) {{
  createPhoto(input: $input) {{ photo {{ {PHOTO_FIELDS} }} errors {{ code message field }} }} }}"""
UPDATE_CAPTION = f"""mutation($input: UpdateCaptionInput!) {{ updateCaption(input: $input) {{
  photo {{ {PHOTO_FIELDS} }} errors {{ code message field }} }} }}"""
DELETE_PHOTO = """mutation($input: DeletePhotoInput!) { deletePhoto(input: $input) {
  deletedPhotoId errors { code message field } } }"""
OWN_PHOTOS = (
    f"{{ viewer {{ user {{ photos(first: 5) {{ edges {{ node {{ {PHOTO_FIELDS} }} }} }} }} }} }}"
)
# What Apollo iOS and Kotlin add to every request, which also proves it is no form post.
APOLLO_HEADERS = {"X-APOLLO-OPERATION-NAME": "CreatePhoto", "X-APOLLO-OPERATION-TYPE": "mutation"}


def operations(caption: str = "", idempotency_key: str | None = None) -> dict[str, Any]:
    variables: dict[str, Any] = {"input": {"image": None, "caption": caption}}
    if idempotency_key is not None:
        variables["input"]["idempotencyKey"] = idempotency_key
    return {"operationName": "CreatePhoto", "query": CREATE_PHOTO, "variables": variables}


FILE_MAP = {"0": ["variables.input.image"]}


async def create_photo(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    image: bytes,
    *,
    caption: str = "",
    idempotency_key: str | None = None,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
) -> dict[str, Any]:
    """The createPhoto payload (a multipart request that must answer 200 with no
    top-level errors)."""
    response = await http.post(
        "/graphql",
        headers={**APOLLO_HEADERS, **headers},
        data={
            "operations": json.dumps(operations(caption, idempotency_key)),
            "map": json.dumps(FILE_MAP),
        },
        files={"0": (filename, image, content_type)},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createPhoto"]
    return payload


def apollo_ios_body(image: bytes, filename: str, content_type: str) -> tuple[str, bytes]:
    """(Content-Type header, body) as Apollo iOS sends a one-file upload."""
    boundary = f"urn:uuid:{uuid.uuid4()}".upper()

    def part(disposition: str, part_type: str, data: bytes) -> bytes:
        head = (
            f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n"
            f"Content-Type: {part_type}\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        return head.encode() + data + b"\r\n"

    body = (
        part('name="operations"', "application/json", json.dumps(operations()).encode())
        + part('name="map"', "application/json", json.dumps(FILE_MAP).encode())
        + part(f'name="0"; filename="{filename}"', content_type, image)
        + f"--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


async def stored_photos(store: Store, owner_id: str) -> list[models.Photo]:
    query = Query(kind=models.PHOTO, order_by="sort_key", ancestor=models.user_key(owner_id))
    return [models.photo_from_entity(r.entity) for r in await store.page(query, limit=50)]


async def stray_records(store: Store) -> list[models.StrayBlob]:
    """The records uploads and deletions left, each in its owner's group (not the
    ones written ahead for uploads to come, which name no file until an upload
    takes one: `written_ahead`)."""
    return [record for record in await all_stray_records(store) if record.owner_id is not None]


async def written_ahead(store: Store) -> list[models.StrayBlob]:
    """The records written ahead of uploads (resolvers/upload_records.py), taken or not."""
    return [record for record in await all_stray_records(store) if record.owner_id is None]


async def all_stray_records(store: Store) -> list[models.StrayBlob]:
    results = await store.page(models.stray_blobs_oldest_first(), limit=50)
    return [models.stray_blob_from_entity(r.entity) for r in results]
