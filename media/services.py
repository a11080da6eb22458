"""What resolvers get of the media layer for one request: the pipeline, the blob
store and the request's own origin, against which relative blob URLs resolve
(the local store serves `/media/<name>` from whatever host the client reached)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urljoin

from media.blobs import BlobStore
from media.image_work import ImagePipeline


@dataclass(frozen=True)
class Media:
    pipeline: ImagePipeline
    blobs: BlobStore
    origin: str = ""

    def for_origin(self, origin: str) -> Media:
        return replace(self, origin=origin)

    def url(self, name: str) -> str:
        return urljoin(self.origin, self.blobs.url(name))
