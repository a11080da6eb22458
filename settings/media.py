"""Uploads (media/): where images are kept and what an upload may be."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from settings.variables import Reader, Section, Variable, adapter_choice, number, path, text, whole

BlobBackend = Literal["local", "gcs"]


@dataclass(frozen=True)
class MediaSettings:
    """Uploads (media/): where images are kept and what an upload may be."""

    backend: BlobBackend = "local"
    media_dir: Path | None = None  # local: None means <var_dir>/media
    gcs_bucket: str | None = None
    gcs_public_url: str | None = None  # None: https://storage.googleapis.com/<bucket>
    max_upload_bytes: int = 25 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    image_workers: int = 2  # threads of the image pool: images decoded at once
    # Bytes of image work in memory at once; None: half the instance's memory,
    # at most 2 GiB (media/budget.py).
    image_memory_budget: int | None = None
    image_budget_wait_seconds: float = 5.0  # then 503 with Retry-After


MEDIA = adapter_choice("MEDIA", "local", "gcs", "where images are kept: files on disk, or GCS")
MEDIA_DIR = Variable(
    "MEDIA_DIR", path(), "local: the images' folder", shown_default="<VAR_DIR>/media"
)
GCS_BUCKET = Variable(
    "GCS_BUCKET",
    text(),
    "gcs: the bucket",
    shown_default="gcs: App Engine's default bucket, <project>.appspot.com",
)
GCS_PUBLIC_URL = Variable(
    "GCS_PUBLIC_URL",
    text(),
    "gcs: where the bucket's objects are served from (a CDN)",
    shown_default="https://storage.googleapis.com/<bucket>",
)
MAX_UPLOAD_BYTES = Variable(
    "MAX_UPLOAD_BYTES",
    whole(),
    "the largest upload accepted",
    default=str(MediaSettings.max_upload_bytes),
)
MAX_IMAGE_PIXELS = Variable(
    "MAX_IMAGE_PIXELS",
    whole(),
    "the most pixels an image may decode to (a decompression bomb has many)",
    default=str(MediaSettings.max_image_pixels),
)
IMAGE_WORKERS = Variable(
    "IMAGE_WORKERS",
    whole(),
    "threads of the image pool: images decoded at once",
    default=str(MediaSettings.image_workers),
)
IMAGE_MEMORY_BUDGET = Variable(
    "IMAGE_MEMORY_BUDGET",
    whole(),
    "bytes of image work in memory at once (media/budget.py); several server processes share it",
    shown_default="half the instance's memory, at most 2 GiB",
)
IMAGE_BUDGET_WAIT_SECONDS = Variable(
    "IMAGE_BUDGET_WAIT_SECONDS",
    number(within=(0, 60)),
    "how long an upload waits for the image budget, then 503 with Retry-After",
    default="5",
)
SECTION = Section(
    "Media",
    "Where images are kept and what an upload may be.",
    (
        MEDIA,
        MEDIA_DIR,
        GCS_BUCKET,
        GCS_PUBLIC_URL,
        MAX_UPLOAD_BYTES,
        MAX_IMAGE_PIXELS,
        IMAGE_WORKERS,
        IMAGE_MEMORY_BUDGET,
        IMAGE_BUDGET_WAIT_SECONDS,
    ),
)


def load_media_settings(reader: Reader, project: str) -> MediaSettings:
    backend = reader.adapter(MEDIA, "keeps images on one machine")
    # App Engine's default bucket, unless another is named.
    bucket = reader.optional(GCS_BUCKET) or (f"{project}.appspot.com" if backend == "gcs" else None)
    return MediaSettings(
        backend=backend,  # type: ignore[arg-type]
        media_dir=reader.optional(MEDIA_DIR),
        gcs_bucket=bucket,
        gcs_public_url=reader.optional(GCS_PUBLIC_URL),
        max_upload_bytes=reader.value(MAX_UPLOAD_BYTES),
        max_image_pixels=reader.value(MAX_IMAGE_PIXELS),
        image_workers=reader.value(IMAGE_WORKERS),
        image_memory_budget=reader.optional(IMAGE_MEMORY_BUDGET),
        image_budget_wait_seconds=reader.value(IMAGE_BUDGET_WAIT_SECONDS),
    )
