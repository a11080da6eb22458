"""The blob store port: immutable, uniquely named files that clients fetch by URL.

A blob's name is the photo's id, the variant and 128 bits that are written once:
a SHA-256 prefix of the bytes (`blob_name`, a re-rendering), or a token drawn for
one upload before its bytes exist (`upload_names`, so that the StrayBlob record
naming them is written before the image work). Either way a name always means the
same bytes: caches may keep them forever, and the name itself is a strong ETag.
Names are flat and drawn from a small alphabet, so no name can climb out of a
directory or a bucket prefix. The photo id in the name keeps two photos of
identical bytes apart, so deleting one never deletes the other's images.

Adapters: `media.local_blobs.LocalBlobStore` (files under var/media, served by
the app) and `media.gcs_blobs.GCSBlobStore` (Cloud Storage, public URLs).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Future
from typing import Any, Protocol

from media.derivatives import EXTENSION, VARIANTS, Rendition

# Served with every blob: the bytes behind a name never change.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPES = {"webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,150}\.(webp|jpg|png)")
_DIGEST_CHARS = 32  # 128 bits, hashed or random: collisions are not a practical concern


class InvalidBlobName(ValueError):
    """A name outside the blob alphabet; adapters refuse it before touching storage."""


class BlobStore(Protocol):
    async def put(self, name: str, data: bytes, content_type: str) -> None:
        """Stores `data` under `name`; putting the same name and bytes again is harmless."""
        ...

    def start_put_many(self, blobs: Mapping[str, tuple[bytes, str]]) -> Future[None]:
        """Starts storing each `name: (data, content_type)` on the adapter's own
        threads; callable from any thread (the image work's hands its renditions
        over without a turn of the event loop). The future is done only when no
        write is still under way (so none lands after a cleanup), with the first
        failure if any."""
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


def all_done(futures: Sequence[Future[None]]) -> Future[None]:
    """A future done when every one of `futures` is, with the first failure (in
    their order) if any: nothing is still under way when it says so."""
    combined: Future[None] = Future()
    combined.set_running_or_notify_cancel()  # it cannot be cancelled: the writes go on
    left = [len(futures)]
    lock = threading.Lock()
    # A future keeps its callbacks once done, and the callback these futures: a
    # cycle (the futures, their results, this list) that only the collector
    # would free. The last callback empties the list, so they go with the request.
    watched = list(futures)

    def one_done(_: Future[None]) -> None:
        with lock:
            left[0] -= 1
            if left[0]:
                return
        failure = next((f.exception() for f in watched if f.exception() is not None), None)
        watched.clear()
        if failure is None:
            combined.set_result(None)
        else:
            combined.set_exception(failure)

    if not futures:
        combined.set_result(None)
    for future in futures:
        future.add_done_callback(one_done)
    return combined


def start_after(first: Future[Any], start: Callable[[], Future[None]]) -> Future[None]:
    """What `start` starts once `first` has succeeded: at once, on the calling
    thread, if it has already; else on the thread that completes it (no turn of
    the event loop between the two). `first`'s failure, with nothing started, if
    it failed or was cancelled."""
    outcome: Future[None] = Future()
    outcome.set_running_or_notify_cancel()  # it cannot be cancelled: the writes go on

    def first_done(done: Future[Any]) -> None:
        error = CancelledError() if done.cancelled() else done.exception()
        if error is not None:
            outcome.set_exception(error)
            return
        try:
            started = start()
        except Exception as failure:
            outcome.set_exception(failure)
            return
        started.add_done_callback(lambda after: _copy_outcome(after, outcome))

    first.add_done_callback(first_done)
    return outcome


def _copy_outcome(done: Future[None], outcome: Future[None]) -> None:
    error = CancelledError() if done.cancelled() else done.exception()
    if error is None:
        outcome.set_result(None)
    else:
        outcome.set_exception(error)


def upload_names(photo_id: str) -> dict[str, str]:
    """Each variant's blob name for a new upload, known before it is rendered."""
    token = secrets.token_hex(_DIGEST_CHARS // 2)
    return {v.name: check_name(f"{photo_id}-{v.name}-{token}.{EXTENSION}") for v in VARIANTS}


def names_by_variant(names: Sequence[str]) -> dict[str, str]:
    """`upload_names`' mapping again, from its names (a StrayBlob record's)."""
    return {name.split("-", 2)[1]: name for name in names}


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
