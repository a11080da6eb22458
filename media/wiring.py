"""Choosing the blob adapter and building the pipeline from settings (called
once, by the app factory; tests pass their own blob store instead)."""

from __future__ import annotations

from media.blobs import BlobStore
from media.local_blobs import LocalBlobStore
from media.pipeline import ImageLimits, ImagePipeline
from media.services import Media
from settings import Settings


def blob_store_from_settings(settings: Settings) -> BlobStore:
    if settings.media.backend == "gcs":
        from google.cloud.storage import Client

        from media.gcs_blobs import GCSBlobStore

        return GCSBlobStore(
            settings.media.gcs_bucket or "",
            client=Client(project=settings.datastore_project),
            public_url=settings.media.gcs_public_url,
        )
    return LocalBlobStore(settings.media.media_dir or settings.var_dir / "media")


def media_from_settings(settings: Settings, blobs: BlobStore) -> Media:
    limits = ImageLimits(settings.media.max_upload_bytes, settings.media.max_image_pixels)
    return Media(ImagePipeline(limits, workers=settings.media.image_workers), blobs)
