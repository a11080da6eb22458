"""What an upload will cost in memory at its peak, judged from its header alone.

    decoded pixels   width x height x Pillow's bytes per pixel for the mode
                     (JPEG: at the draft scale libjpeg will decode to)
    + decoder        what the format's decoder holds besides: libwebp's canvas
                     and frame copy, libheif's planes, a progressive JPEG's
                     coefficients (kept at full scale whatever the draft)
    + frame          the reduced working frame (media/frame.py) and its turned copy
    + strips         one strip of rows in each mode it passes through
    + derivatives    the 1080-wide image, its sRGB copy and the WebP encoder's picture
    + fixed          encoders' state, the placeholder, Python objects

Each term is an upper bound, checked against measured peaks by
tests/test_media_cost.py; docs/UPLOADS.md gives the resulting limits.
"""

from __future__ import annotations

import math

from PIL import Image

from media.color import PROFILED_MODES
from media.derivatives import LARGE
from media.frame import frame_size, strip_rows
from media.sniff import ImageKind

MIB = 1024 * 1024
_FIXED = 16 * MIB
# Bytes a pixel of the source costs inside the decoder, besides Pillow's buffer,
# measured with room to spare (docs/PERFORMANCE.md). WebP: Pillow decodes through
# libwebp's animation decoder, which keeps two RGBA canvases and hands the frame
# over as a bytes copy (about 10 measured). HEIF: libheif's YUV planes, 16 bits
# a sample for 10-bit files (1.5 measured for 8-bit, 2.2 for 10-bit).
_DECODER_BYTES_PER_PIXEL = {ImageKind.WEBP: 13, ImageKind.HEIF: 4}
# A progressive JPEG keeps every 16-bit DCT coefficient of the whole image (at
# full scale, whatever the draft), padded to whole blocks.
_COEFFICIENT_BYTES = 2
_BLOCK_PADDING = 1.05


def pixel_bytes(mode: str) -> int:
    """What Pillow allocates for one pixel of `mode` (RGB is stored in four bytes)."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def estimate_cost(
    kind: ImageKind,
    image: Image.Image,
    source_size: tuple[int, int],
    factor: int,
    *,
    turns: bool,
) -> int:
    """Peak bytes of decoding and rendering `image`, opened but not loaded (a JPEG
    with its draft requested, so `image.size` is what will be decoded); `turns`
    when the EXIF orientation turns or flips it (or is not known yet)."""
    width, height = image.size
    decoded = width * height * pixel_bytes(image.mode)
    decoder = _decoder_bytes(kind, image, source_size)
    frame_width, frame_height = frame_size(width, height, factor)
    frame = 0 if factor == 1 and image.mode in PROFILED_MODES else frame_width * frame_height * 4
    turned = frame_width * frame_height * 4 if turns else 0
    # A strip is cut out, converted (alpha and 16-bit pass through two modes) and reduced.
    converts = image.mode not in PROFILED_MODES
    strips = width * strip_rows(factor) * (pixel_bytes(image.mode) + (12 if converts else 4))
    derivatives = (
        4
        * 4
        * max(_large_pixels(frame_width, frame_height), _large_pixels(frame_height, frame_width))
    )
    return decoded + decoder + frame + turned + strips + derivatives + _FIXED


def _large_pixels(shown_width: int, shown_height: int) -> int:
    """Pixels of the 1080-wide derivative of a frame shown at this size."""
    large_width = min(LARGE.width, shown_width)
    return large_width * math.ceil(shown_height * large_width / shown_width)


def _decoder_bytes(kind: ImageKind, image: Image.Image, source_size: tuple[int, int]) -> int:
    source_pixels = source_size[0] * source_size[1]
    if kind is ImageKind.JPEG:
        if not image.info.get("progressive"):
            return 0  # baseline: libjpeg decodes a few rows at a time
        return math.ceil(
            source_pixels * _samples_per_pixel(image) * _COEFFICIENT_BYTES * _BLOCK_PADDING
        )
    return source_pixels * _DECODER_BYTES_PER_PIXEL.get(kind, 0)


def _samples_per_pixel(image: Image.Image) -> float:
    """Samples a JPEG stores per pixel: 3 for 4:4:4 colour, 1.5 for 4:2:0 (the
    chroma components are subsampled), from the frame header's sampling factors."""
    # JpegImageFile.layer: (id, horizontal, vertical sampling, table) per component.
    layers: list[tuple[str, int, int, int]] = getattr(image, "layer", [])
    if not layers:
        return float(len(image.getbands()))
    h_max = max(layer[1] for layer in layers)
    v_max = max(layer[2] for layer in layers)
    return sum(layer[1] * layer[2] for layer in layers) / (h_max * v_max)
