"""Choosing the blob adapter and building the pipeline from settings (called
once, by the app factory; tests pass their own blob store instead)."""

from __future__ import annotations

import logging
import os

from media.blobs import BlobStore
from media.budget import MIB, default_budget
from media.image_work import ImagePipeline
from media.local_blobs import LocalBlobStore
from media.pipeline import ImageLimits
from media.services import Media
from settings import Settings

log = logging.getLogger("timeline.media")


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
    config = settings.media
    limits = ImageLimits(config.max_upload_bytes, config.max_image_pixels)
    budget = config.image_memory_budget or default_budget(os.environ)
    log.info("image memory budget: %d MiB, %d image workers", budget // MIB, config.image_workers)
    pipeline = ImagePipeline(
        limits,
        memory_budget=budget,
        workers=config.image_workers,
        wait_seconds=config.image_budget_wait_seconds,
    )
    return Media(pipeline, blobs)
