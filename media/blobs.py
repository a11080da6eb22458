"""The blob store port: immutable, content-named files that clients fetch by URL.

A blob's name is derived from its content (the photo's id, the variant and a
SHA-256 prefix of the bytes), so a name always means the same bytes: caches may
keep them forever, and the name itself is a strong ETag. Names are flat and
drawn from a small alphabet, so no name can climb out of a directory or a bucket
prefix. The photo id in the name keeps two photos of identical bytes apart, so
deleting one never deletes the other's images.

Adapters: `media.local_blobs.LocalBlobStore` (files under var/media, served by
the app) and `media.gcs_blobs.GCSBlobStore` (Cloud Storage, public URLs).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from media.derivatives import Rendition

# Served with every blob: the bytes behind a name never change.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPES = {"webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,150}\.(webp|jpg|png)")
_DIGEST_CHARS = 32  # 128 bits of SHA-256: collisions are not a practical concern


class InvalidBlobName(ValueError):
    """A name outside the blob alphabet; adapters refuse it before touching storage."""


class BlobStore(Protocol):
    async def put(self, name: str, data: bytes, content_type: str) -> None:
        """Stores `data` under `name`; putting the same name and bytes again is harmless."""
        ...

    async def put_many(self, blobs: Mapping[str, tuple[bytes, str]]) -> None:
        """Stores each `name: (data, content_type)`, returning only when no write is
        still under way (so none lands after a cleanup); raises the first failure."""
        ...

    async def get(self, name: str) -> bytes | None: ...

    async def delete(self, names: Sequence[str]) -> None:
        """Deletes what exists of `names`; a missing name is not an error, so a
        cleanup job can retry a half-done delete."""
        ...

    def url(self, name: str) -> str:
        """Where clients fetch it: absolute, or relative to the API's own origin."""
        ...


def blob_name(photo_id: str, rendition: Rendition) -> str:
    digest = hashlib.sha256(rendition.data).hexdigest()[:_DIGEST_CHARS]
    return check_name(f"{photo_id}-{rendition.variant}-{digest}.{rendition.extension}")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidBlobName(f"not a blob name: {name[:80]!r}")
    return name


def is_valid_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def content_type_of(name: str) -> str:
    return CONTENT_TYPES[check_name(name).rsplit(".", 1)[1]]


def etag_of(name: str) -> str:
    """A strong ETag: names are immutable, so the name (without its type) is one."""
    return f'"{check_name(name).rsplit(".", 1)[0]}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: a list of tags, compared weakly, or `*`."""
    if not if_none_match:
        return False
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in candidates or any(tag.removeprefix("W/") == etag for tag in candidates)
