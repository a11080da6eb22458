"""The images a phone downloads: a square thumbnail and two widths, in WebP.

WebP because every client we serve decodes it (iOS 14+, Android, browsers) and
it is about a third smaller than JPEG at the same quality. Nothing is ever
upscaled: a small original gives smaller derivatives, not blurry ones.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

WEBP_QUALITY = 80
# libwebp effort 0-6: above 2 it costs about three times the time for a few percent of size.
WEBP_METHOD = 2
CONTENT_TYPE = "image/webp"
EXTENSION = "webp"
# Resampling first by whole factors (reduce) then with Lanczos is several times
# faster on big images and indistinguishable at these sizes.
_REDUCING_GAP = 3.0


@dataclass(frozen=True)
class Variant:
    name: str
    width: int
    square: bool = False


THUMBNAIL = Variant("thumbnail", 150, square=True)
MEDIUM = Variant("medium", 640)
LARGE = Variant("large", 1080)
VARIANTS = (THUMBNAIL, MEDIUM, LARGE)
# Bump it when a change here or in media/pipeline.py changes the images: photos cut
# by an older version are re-rendered by `python -m tasks.rerender` (docs/UPLOADS.md).
RENDER_VERSION = 1


@dataclass(frozen=True)
class Rendition:
    """One encoded derivative."""

    variant: str
    width: int
    height: int
    data: bytes
    content_type: str = CONTENT_TYPE
    extension: str = EXTENSION


def fit_width(image: Image.Image, width: int) -> Image.Image:
    if image.width <= width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)


def centre_square(image: Image.Image, side: int) -> Image.Image:
    crop = min(image.size)
    left, top = (image.width - crop) // 2, (image.height - crop) // 2
    size = min(side, crop)
    return image.resize(
        (size, size),
        Image.Resampling.LANCZOS,
        box=(left, top, left + crop, top + crop),
        reducing_gap=_REDUCING_GAP,
    )


def encode(image: Image.Image, variant: Variant) -> Rendition:
    buffer = io.BytesIO()
    # Metadata is passed empty on purpose: only pixels leave this function.
    image.save(
        buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD, exif=b"", icc_profile=b"", xmp=b""
    )
    return Rendition(variant.name, image.width, image.height, buffer.getvalue())
