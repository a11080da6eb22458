"""Blobs in a Cloud Storage bucket, fetched by clients from public URLs.

Public, not signed, URLs: the photos are public anyway, a public URL is the same
string on every request (so Apollo's normalised cache and CDNs keep it), and it
costs no signing call. The bucket grants allUsers read (docs/UPLOADS.md). Every
object is written with the immutable Cache-Control header.

google-cloud-storage is synchronous; each call runs in a worker thread. Uploads
are retried on transient errors: writing the same name twice writes the same bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import quote

from google.api_core.exceptions import NotFound
from google.cloud.storage import Client
from google.cloud.storage.retry import DEFAULT_RETRY

from media.blobs import IMMUTABLE_CACHE_CONTROL, all_done, check_name

PUBLIC_HOST = "https://storage.googleapis.com"
_TIMEOUT_SECONDS = 60
_UPLOADERS = 6  # two uploads' three sizes at once


class GCSBlobStore:
    def __init__(self, bucket: str, *, client: Client, public_url: str | None = None) -> None:
        self.bucket_name = bucket
        self._bucket = client.bucket(bucket)
        self._public_url = (public_url or f"{PUBLIC_HOST}/{bucket}").rstrip("/")
        self._uploaders = ThreadPoolExecutor(_UPLOADERS, thread_name_prefix="gcs-upload")

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._upload, name, data, content_type)

    def start_put_many(self, blobs: Mapping[str, tuple[bytes, str]]) -> Future[None]:
        # Uploads are network round trips: side by side, each waited for.
        uploads = [
            self._uploaders.submit(self._upload, name, data, kind)
            for name, (data, kind) in blobs.items()
        ]
        return all_done(uploads)

    def _upload(self, name: str, data: bytes, content_type: str) -> None:
        blob = self._bucket.blob(check_name(name))
        blob.cache_control = IMMUTABLE_CACHE_CONTROL
        blob.upload_from_string(
            data, content_type=content_type, timeout=_TIMEOUT_SECONDS, retry=DEFAULT_RETRY
        )

    async def get(self, name: str) -> bytes | None:
        blob = self._bucket.blob(check_name(name))
        try:
            data: bytes = await asyncio.to_thread(blob.download_as_bytes, timeout=_TIMEOUT_SECONDS)
        except NotFound:
            return None
        return data

    async def delete(self, names: Sequence[str]) -> None:
        checked = [check_name(name) for name in names]

        def delete_all() -> None:
            for name in checked:
                with contextlib.suppress(NotFound):
                    self._bucket.delete_blob(name, timeout=_TIMEOUT_SECONDS, retry=DEFAULT_RETRY)

        await asyncio.to_thread(delete_all)

    def url(self, name: str) -> str:
        return f"{self._public_url}/{quote(check_name(name))}"
