"""The estimate an upload is admitted with is an upper bound of what it costs:
of the pixels Pillow allocates (which tracemalloc does not see), and of the
process's measured peak memory, for each format and the costly modes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from media.cost import pixel_bytes
from media.pipeline import ImageLimits, configure_pillow, inspect
from tests.utils import images

LIMITS = ImageLimits()


def encoded(kind: str, width: int, height: int) -> bytes:
    photo = images.marked_photo(width, height)
    encoders = {
        "jpeg": lambda: images.encode(photo, "JPEG", quality=90),
        "jpeg-progressive": lambda: images.encode(photo, "JPEG", progressive=True),
        "jpeg-cmyk": lambda: images.encode(photo.convert("CMYK"), "JPEG"),
        "png-rgb": lambda: images.encode(photo, "PNG"),
        "png-rgba": lambda: images.encode(photo.convert("RGBA"), "PNG"),
        "png-palette": lambda: images.encode(photo.convert("P"), "PNG"),
        "png-16-bit-grey": lambda: images.encode(photo.convert("L").convert("I;16"), "PNG"),
        "webp": lambda: images.encode(photo, "WEBP"),
        "heic": lambda: images.encode(photo, "HEIF", quality=50, enc_params=images.FAST_HEIC),
    }
    return encoders[kind]()


KINDS = [
    "jpeg",
    "jpeg-progressive",
    "jpeg-cmyk",
    "png-rgb",
    "png-rgba",
    "png-palette",
    "png-16-bit-grey",
    "webp",
    "heic",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("width", "height"), [(300, 200), (1200, 1600), (3100, 2000)])
def test_the_estimate_covers_the_decoded_pixels(kind: str, width: int, height: int) -> None:
    configure_pillow(LIMITS.max_pixels)
    plan = inspect(io.BytesIO(encoded(kind, width, height)), LIMITS)
    with plan.image as image:
        image.load()
        allocated = image.width * image.height * pixel_bytes(image.mode)
        assert plan.cost >= allocated
        # What the decoder gave is what the estimate assumed it would give.
        assert image.width * image.height <= width * height


@pytest.mark.parametrize(
    "mode", ["1", "L", "P", "LA", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr"]
)
def test_pixel_bytes_are_what_pillow_allocates(mode: str) -> None:
    # Pillow keeps 1-byte modes in one byte, 16-bit modes in two, everything else
    # (RGB included) in four; tobytes() of a 4-byte mode packs fewer for RGB only.
    packed = len(Image.new(mode, (1, 1)).tobytes())
    assert pixel_bytes(mode) >= packed
    assert pixel_bytes(mode) in (1, 2, 4)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    ("kind", "width", "height"),
    [
        ("png-rgb", 4000, 4000),
        ("png-rgba", 3000, 3000),
        ("jpeg-progressive", 4000, 3000),
        ("webp", 3000, 2000),
        ("heic", 2400, 1800),
    ],
)
def test_the_estimate_covers_the_measured_peak(
    kind: str, width: int, height: int, tmp_path: Path
) -> None:
    path = tmp_path / kind
    path.write_bytes(encoded(kind, width, height))
    child = subprocess.run(
        [sys.executable, "-m", "tests.utils.peak_memory", str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    figures = json.loads(child.stdout)
    assert 0 < figures["growth"] <= figures["cost"], figures
