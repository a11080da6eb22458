"""From an uploaded file to stored-ready derivatives, refusing what is unsafe.

    inspect: sniff -> bound (bytes, then pixels from the header) -> estimate cost
    (admission against the memory budget)
    render:  decode (JPEG in draft mode) -> reduced working frame -> apply EXIF
             orientation -> sRGB -> derivatives -> blurhash, colour

Every step before decoding reads only the header, so a decompression bomb is
refused without allocating its pixels, and an upload is admitted only when its
estimated peak fits the budget. The stored derivatives are re-encoded from
pixels alone: no EXIF (so no GPS), no XMP, no ICC profile. The work is CPU bound
and runs in a pool of its own (Pillow releases the GIL while it decodes,
resizes and encodes), so the event loop and store I/O keep being served.
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from dataclasses import dataclass, replace
from typing import BinaryIO

import pillow_heif
from PIL import Image

from media import blurhash
from media.budget import return_freed_memory
from media.color import dominant_color, to_srgb
from media.cost import estimate_cost
from media.derivatives import LARGE, MEDIUM, THUMBNAIL, Rendition, centre_square, encode, fit_width
from media.errors import (
    CorruptImage,
    EmptyImage,
    ImageTooLarge,
    TooManyPixels,
    UnsupportedImage,
)
from media.frame import needed_scale, reduction_factor, working_frame
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


@dataclass
class DecodePlan:
    """An upload whose header has been read and bounded, its pixels not yet
    decoded: what decoding it will cost in memory, and how it will be done."""

    image: Image.Image  # open, header read (JPEG: draft requested)
    kind: ImageKind
    digest: str
    width: int  # of the original, as stored (before orientation)
    height: int
    orientation: int | None  # None: not known before decoding (a PNG's eXIf may follow its pixels)
    icc_profile: bytes | None
    factor: int  # the working frame is this many times smaller than the decoded image
    cost: int  # bytes at the peak (media/cost.py), an upper bound


def process_image(source: BinaryIO, limits: ImageLimits) -> ProcessedImage:
    """Blocking: run it in a worker thread."""
    return render(inspect(source, limits))


def render_and_release(plan: DecodePlan) -> ProcessedImage:
    try:
        return render(plan)
    finally:
        return_freed_memory()  # before the budget takes the next image in


def size_and_kind(source: BinaryIO, limits: ImageLimits) -> ImageKind:
    """The file's kind by its first bytes, if its size is allowed: what refuses most
    junk for the cost of a seek and a short read (no hashing, no decoding)."""
    size = source.seek(0, os.SEEK_END)
    if size == 0:
        raise EmptyImage("The file is empty.")
    if size > limits.max_bytes:
        raise ImageTooLarge(f"Images can be at most {limits.max_bytes // MIB} MiB.")
    source.seek(0)
    kind = sniff(source.read(SNIFF_BYTES))
    if kind is None:
        raise UnsupportedImage("Send a JPEG, PNG, WebP or HEIC image.")
    source.seek(0)
    return kind


def inspect(source: BinaryIO, limits: ImageLimits) -> DecodePlan:
    """Blocking, and cheap: reads the whole file once (its hash) and the header."""
    kind = size_and_kind(source, limits)
    digest = _sha256(source)
    source.seek(0)
    image = _open(source, kind, limits)
    try:
        return _plan(image, kind, digest, limits)
    except BaseException:
        image.close()
        raise


def _plan(image: Image.Image, kind: ImageKind, digest: str, limits: ImageLimits) -> DecodePlan:
    width, height = image.size
    _check_shape(width, height, limits)
    orientation = _orientation(image) if _exif_in_header(image, kind) else None
    if kind is ImageKind.JPEG:
        _request_draft(image, orientation or 1, width, height)
    # An unknown orientation may turn the image: plan the larger frame of the two.
    factor = min(reduction_factor(*image.size, turn) for turn in _possible(orientation))
    turns = orientation is None or orientation != 1
    cost = estimate_cost(kind, image, (width, height), factor, turns=turns)
    icc_profile = image.info.get("icc_profile")
    return DecodePlan(image, kind, digest, width, height, orientation, icc_profile, factor, cost)


def _exif_in_header(image: Image.Image, kind: ImageKind) -> bool:
    # Pillow decodes a whole PNG to look for an eXIf chunk after the pixels:
    # that is for after admission, not before.
    return kind is not ImageKind.PNG or "exif" in image.info


def _possible(orientation: int | None) -> tuple[int, ...]:
    return (1, 6) if orientation is None else (orientation,)


def render(plan: DecodePlan) -> ProcessedImage:
    """Blocking: decodes, then cuts the derivatives from a frame no larger than
    they need, the full-size pixels freed as soon as that frame exists."""
    with plan.image as image:
        _decode(image)
        orientation = _orientation(image) if plan.orientation is None else plan.orientation
        frame = working_frame(image, plan.factor)
        if frame is not image:
            image.close()
        transpose = _TRANSPOSE.get(orientation)
        if transpose is not None:
            frame = frame.transpose(transpose)
        width, height = (plan.height, plan.width) if orientation >= 5 else (plan.width, plan.height)
        # Inside the `with`: closing an image frees its pixels, and `frame` may be it.
        return _render(frame, plan.digest, width, height, plan.icc_profile)


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
        renditions=(encode(thumbnail, THUMBNAIL), *_encode_sizes(medium, large)),
    )


def _encode_sizes(medium: Image.Image, large: Image.Image) -> tuple[Rendition, Rendition]:
    """An original no wider than the medium width gives both sizes the same
    pixels (nothing is upscaled): encoded once, its bytes serve both."""
    large_rendition = encode(large, LARGE)
    if medium is large:
        return replace(large_rendition, variant=MEDIUM.name), large_rendition
    return encode(medium, MEDIUM), large_rendition


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
    scale = needed_scale(width, height, orientation)
    image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
