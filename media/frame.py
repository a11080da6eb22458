"""From decoded pixels to the frame the derivatives are cut from, without a
second full-size copy.

The decoded image is the largest buffer an upload needs (a 49 MP PNG takes
196 MB: Pillow keeps RGB in four bytes a pixel), so nothing else may be that
big. The frame is the image reduced by a whole factor (box averaging, as
Pillow's own `thumbnail()` does before it resamples) to what the largest
derivative needs, and converted to a working mode (colour.working_mode) a strip
of rows at a time: a palette, alpha or 16-bit image never exists twice at full size.
"""

from __future__ import annotations

import math

from PIL import Image

from media.color import PROFILED_MODES, working_mode
from media.derivatives import LARGE, THUMBNAIL

# The frame keeps at least this many times the pixels the derivatives need;
# Lanczos does the rest. (Pillow's thumbnail() uses the same gap.)
REDUCING_GAP = 2.0
_STRIP_ROWS = 256


def needed_scale(width: int, height: int, orientation: int) -> float:
    """The smallest scale (at most 1) that still gives every derivative its pixels:
    the 1080 one needs the displayed width, the square thumbnail the short side."""
    displayed_width = height if orientation >= 5 else width
    return max(
        min(1.0, LARGE.width / displayed_width),
        min(1.0, THUMBNAIL.width / min(width, height)),
    )


def reduction_factor(width: int, height: int, orientation: int) -> int:
    """How many times smaller than the decoded image the frame can be."""
    return max(1, int(1 / (needed_scale(width, height, orientation) * REDUCING_GAP)))


def frame_size(width: int, height: int, factor: int) -> tuple[int, int]:
    return math.ceil(width / factor), math.ceil(height / factor)


def strip_rows(factor: int) -> int:
    """Rows converted at a time: whole blocks of `factor`, so the result is the
    same as reducing the image in one pass."""
    return max(factor, _STRIP_ROWS // factor * factor)


def working_frame(image: Image.Image, factor: int) -> Image.Image:
    """`image` (decoded) reduced `factor` times, in a mode that resizes well and
    that an ICC profile applies to. It may be `image` itself when nothing changes."""
    if factor == 1 and image.mode in PROFILED_MODES:
        return image
    width, height = image.size
    rows = strip_rows(factor)
    frame: Image.Image | None = None
    for top in range(0, height, rows):
        strip = working_mode(image.crop((0, top, width, min(height, top + rows))))
        if factor > 1:
            strip = strip.reduce(factor)
        if frame is None:
            frame = Image.new(strip.mode, frame_size(width, height, factor))
        frame.paste(strip, (0, top // factor))
    if frame is None:
        raise ValueError("an image without rows")
    return frame
