"""Media settings: local files by default, Cloud Storage in production, sane limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import SettingsError, load_settings

PRODUCTION = {
    "GAE_ENV": "standard",
    "GOOGLE_CLOUD_PROJECT": "photo-timeline-prod",
    "TIMELINE_SECRET_KEY": "s" * 40,
}


def test_local_defaults(tmp_path: Path) -> None:
    media = load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)}).media
    assert media.backend == "local"
    assert media.media_dir is None  # <var_dir>/media
    assert media.max_upload_bytes == 25 * 1024 * 1024
    assert media.max_image_pixels == 50_000_000
    assert media.image_memory_budget is None  # derived from the instance's memory (media/budget.py)
    assert media.image_budget_wait_seconds == 5.0


def test_production_uses_the_app_engine_bucket_unless_told_otherwise() -> None:
    assert load_settings(PRODUCTION).media.gcs_bucket == "photo-timeline-prod.appspot.com"
    named = load_settings({**PRODUCTION, "TIMELINE_GCS_BUCKET": "photos"}).media
    assert (named.backend, named.gcs_bucket) == ("gcs", "photos")


def test_production_refuses_local_files() -> None:
    with pytest.raises(SettingsError, match="MEDIA=local"):
        load_settings({**PRODUCTION, "TIMELINE_MEDIA": "local"})


def test_limits_can_be_set(tmp_path: Path) -> None:
    media = load_settings(
        {
            "TIMELINE_ENV": "local",
            "TIMELINE_VAR_DIR": str(tmp_path),
            "TIMELINE_MAX_UPLOAD_BYTES": "1000000",
            "TIMELINE_MAX_IMAGE_PIXELS": "24000000",
            "TIMELINE_IMAGE_WORKERS": "4",
            "TIMELINE_MEDIA_DIR": str(tmp_path / "pictures"),
        }
    ).media
    assert (media.max_upload_bytes, media.max_image_pixels, media.image_workers) == (
        1_000_000,
        24_000_000,
        4,
    )
    assert media.media_dir == tmp_path / "pictures"


def test_the_image_memory_budget_can_be_set(tmp_path: Path) -> None:
    media = load_settings(
        {
            "TIMELINE_ENV": "local",
            "TIMELINE_VAR_DIR": str(tmp_path),
            "TIMELINE_IMAGE_MEMORY_BUDGET": str(300 * 1024 * 1024),
            "TIMELINE_IMAGE_BUDGET_WAIT_SECONDS": "0.5",
        }
    ).media
    assert (media.image_memory_budget, media.image_budget_wait_seconds) == (300 * 1024 * 1024, 0.5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TIMELINE_MEDIA", "s3", "must be 'local' or 'gcs'"),
        ("TIMELINE_MAX_UPLOAD_BYTES", "25MB", "must be a whole number"),
        ("TIMELINE_MAX_IMAGE_PIXELS", "0", "must be positive"),
        ("TIMELINE_IMAGE_WORKERS", "-1", "must be positive"),
        ("TIMELINE_IMAGE_MEMORY_BUDGET", "-5", "must be positive"),
        ("TIMELINE_IMAGE_MEMORY_BUDGET", "300MB", "must be a whole number"),
        ("TIMELINE_IMAGE_BUDGET_WAIT_SECONDS", "soon", "must be a number"),
        ("TIMELINE_IMAGE_BUDGET_WAIT_SECONDS", "600", "must be 0 to 60"),
    ],
)
def test_malformed_values_name_the_variable(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path), name: value})
