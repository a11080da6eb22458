"""BlurHash (https://blurha.sh): a ~30-character placeholder a client paints
while the real image loads.

The encoder follows the reference implementation: the image's colours in linear
light are projected onto a few cosine components; the average colour (DC) is
kept exactly in sRGB, the others are quantised against their largest magnitude.
It is fed a thumbnail of a few hundred pixels, so plain Python is fast enough.
"""

from __future__ import annotations

import math
from operator import mul

from PIL import Image

_BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
MAX_COMPONENTS = 9


def _to_linear(value: int) -> float:
    v = value / 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


_LINEAR = [_to_linear(v) for v in range(256)]


def _to_srgb(value: float) -> int:
    v = min(1.0, max(0.0, value))
    if v <= 0.0031308:
        return int(v * 12.92 * 255 + 0.5)
    return int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _base83(value: int, length: int) -> str:
    return "".join(_BASE83[(value // 83 ** (length - i - 1)) % 83] for i in range(length))


def _signed_sqrt(value: float) -> float:
    return math.copysign(math.sqrt(abs(value)), value)


def encode(image: Image.Image, x_components: int = 4, y_components: int = 3) -> str:
    """The BlurHash of an RGB image (keep it small: the cost is pixels x components)."""
    if not (1 <= x_components <= MAX_COMPONENTS and 1 <= y_components <= MAX_COMPONENTS):
        raise ValueError(f"components must be 1 to {MAX_COMPONENTS}")
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    width, height = rgb.size
    channels = [[_LINEAR[v] for v in band.tobytes()] for band in rgb.split()]
    cos_x = [[math.cos(math.pi * i * x / width) for x in range(width)] for i in range(x_components)]
    cos_y = [
        [math.cos(math.pi * j * y / height) for y in range(height)] for j in range(y_components)
    ]
    factors: list[tuple[float, float, float]] = []
    for j in range(y_components):
        for i in range(x_components):
            basis = [cy * cx for cy in cos_y[j] for cx in cos_x[i]]
            scale = (1 if i == j == 0 else 2) / (width * height)
            r, g, b = (sum(map(mul, basis, channel)) * scale for channel in channels)
            factors.append((r, g, b))
    dc, ac = factors[0], factors[1:]
    parts = [_base83((x_components - 1) + (y_components - 1) * 9, 1)]
    if ac:
        largest = max(abs(v) for factor in ac for v in factor)
        quantised = max(0, min(82, int(largest * 166 - 0.5)))
        maximum = (quantised + 1) / 166
        parts.append(_base83(quantised, 1))
    else:
        maximum = 1.0
        parts.append(_base83(0, 1))
    parts.append(_base83((_to_srgb(dc[0]) << 16) + (_to_srgb(dc[1]) << 8) + _to_srgb(dc[2]), 4))
    for factor in ac:
        r, g, b = (max(0, min(18, int(_signed_sqrt(v / maximum) * 9 + 9.5))) for v in factor)
        parts.append(_base83(r * 19 * 19 + g * 19 + b, 2))
    return "".join(parts)
