"""From an uploaded file to stored-ready derivatives, refusing what is unsafe.

    sniff -> bound (bytes, then pixels from the header) -> decode (JPEG in draft
    mode) -> apply EXIF orientation -> sRGB -> derivatives -> blurhash, colour

Every step before decoding reads only the header, so a decompression bomb is
refused without allocating its pixels. The stored derivatives are re-encoded
from pixels alone: no EXIF (so no GPS), no XMP, no ICC profile. The work is CPU
bound and runs in a worker thread (Pillow releases the GIL while it decodes,
resizes and encodes), a few uploads at a time, so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import pillow_heif
from PIL import Image

from media import blurhash
from media.color import dominant_color, to_srgb, working_mode
from media.derivatives import LARGE, MEDIUM, THUMBNAIL, Rendition, centre_square, encode, fit_width
from media.errors import (
    CorruptImage,
    EmptyImage,
    ImageTooLarge,
    TooManyPixels,
    UnsupportedImage,
)
from media.sniff import SNIFF_BYTES, ImageKind, sniff

MIB = 1024 * 1024
_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_PLACEHOLDER_WIDTH = 32  # blurhash and dominant colour need only a few hundred pixels
_UNREADABLE = "The image could not be read; it may be damaged or cut short."


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 25 * MIB
    max_pixels: int = 50_000_000
    # Longest side over shortest: panoramas pass, a 1 x 50,000,000 strip does not.
    max_aspect_ratio: float = 20.0


@dataclass(frozen=True)
class ProcessedImage:
    source_sha256: str
    width: int  # of the original, as displayed (after orientation)
    height: int
    blurhash: str
    dominant_color: str
    renditions: tuple[Rendition, ...]


def configure_pillow(max_pixels: int) -> None:
    """Process-wide Pillow settings: HEIF support and a decompression-bomb limit
    that matches ours, where going over it is an error, not a warning that lets
    the decode go on."""
    pillow_heif.register_heif_opener()
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def process_image(source: BinaryIO, limits: ImageLimits) -> ProcessedImage:
    """Blocking: run it in a worker thread."""
    size = source.seek(0, os.SEEK_END)
    if size == 0:
        raise EmptyImage("The file is empty.")
    if size > limits.max_bytes:
        raise ImageTooLarge(f"Images can be at most {limits.max_bytes // MIB} MiB.")
    source.seek(0)
    kind = sniff(source.read(SNIFF_BYTES))
    if kind is None:
        raise UnsupportedImage("Send a JPEG, PNG, WebP or HEIC image.")
    digest = _sha256(source)
    source.seek(0)
    with _open(source, kind, limits) as image:
        width, height = image.size
        _check_shape(width, height, limits)
        icc_profile = image.info.get("icc_profile")
        orientation = _orientation(image)
        if kind is ImageKind.JPEG:
            _request_draft(image, orientation, width, height)
        _decode(image)
        # Inside the `with`: closing an image frees its pixels, and `frame` may be it.
        frame = working_mode(image)
        transpose = _TRANSPOSE.get(orientation)
        if transpose is not None:
            frame = frame.transpose(transpose)
            if orientation >= 5:
                width, height = height, width
        return _render(frame, digest, width, height, icc_profile)


def _render(
    frame: Image.Image, digest: str, width: int, height: int, icc_profile: bytes | None
) -> ProcessedImage:
    large = to_srgb(fit_width(frame, LARGE.width), icc_profile)
    thumbnail = to_srgb(centre_square(frame, THUMBNAIL.width), icc_profile)
    medium = fit_width(large, MEDIUM.width)
    placeholder = fit_width(medium, _PLACEHOLDER_WIDTH)
    components = (4, 3) if placeholder.width >= placeholder.height else (3, 4)
    return ProcessedImage(
        source_sha256=digest,
        width=width,
        height=height,
        blurhash=blurhash.encode(placeholder, *components),
        dominant_color=dominant_color(placeholder),
        renditions=(encode(thumbnail, THUMBNAIL), encode(medium, MEDIUM), encode(large, LARGE)),
    )


def _sha256(source: BinaryIO) -> str:
    source.seek(0)
    digest = hashlib.sha256()
    while chunk := source.read(MIB):
        digest.update(chunk)
    return digest.hexdigest()


def _open(source: BinaryIO, kind: ImageKind, limits: ImageLimits) -> Image.Image:
    """Reads the header only; Pillow's own bomb check runs here too."""
    try:
        return Image.open(source, formats=[kind.value])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(limits) from None
    except MemoryError:
        raise
    except Exception:
        # Decoders parsing hostile bytes fail in many ways (OSError, SyntaxError,
        # ValueError, struct.error...); all of them mean this file is unreadable.
        raise CorruptImage(_UNREADABLE) from None


def _decode(image: Image.Image) -> None:
    try:
        image.load()
    except MemoryError:
        raise
    except Exception:
        raise CorruptImage(_UNREADABLE) from None


def _too_many_pixels(limits: ImageLimits) -> TooManyPixels:
    return TooManyPixels(f"Images can have at most {limits.max_pixels / 1e6:g} megapixels.")


def _check_shape(width: int, height: int, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels:
        raise _too_many_pixels(limits)
    if max(width, height) > limits.max_aspect_ratio * min(width, height):
        raise UnsupportedImage(
            f"Images can be at most {limits.max_aspect_ratio:g} times longer than they are wide."
        )


def _orientation(image: Image.Image) -> int:
    # A damaged EXIF block should not cost the user their photo: it is then
    # shown as stored. (HEIF decoders apply the rotation themselves and report 1.)
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) else 1


def _request_draft(image: Image.Image, orientation: int, width: int, height: int) -> None:
    """Lets libjpeg decode at 1/2, 1/4 or 1/8 scale when the largest derivative
    (and the thumbnail's short side) still get at least the pixels they need:
    a 12 MP photo then decodes as 3 MP, in a quarter of the time and memory."""
    displayed_width = height if orientation >= 5 else width
    scale = max(
        min(1.0, LARGE.width / displayed_width),
        min(1.0, THUMBNAIL.width / min(width, height)),
    )
    image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))


class ImagePipeline:
    """The pipeline for the event loop: at most `workers` images at once, each in a thread."""

    def __init__(self, limits: ImageLimits, *, workers: int = 2) -> None:
        self.limits = limits
        self._slots = asyncio.Semaphore(workers)
        configure_pillow(limits.max_pixels)

    async def process(self, source: BinaryIO) -> ProcessedImage:
        async with self._slots:
            return await asyncio.to_thread(process_image, source, self.limits)
