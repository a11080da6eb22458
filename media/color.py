"""Colour: every stored image is 8-bit sRGB with no embedded profile.

Phones tag photos with wide-gamut profiles (iPhones: Display P3). Stripping the
tag without converting would dull the colours; keeping it would keep a
metadata block. So pixels are converted to sRGB through the embedded ICC
profile, and the result carries no profile, which every decoder reads as sRGB.
Transparency is flattened onto white: a photo feed has no use for alpha.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageCms

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# Modes an ICC transform can take as they are; anything else is normalised first.
PROFILED_MODES = frozenset({"RGB", "CMYK", "L"})


def working_mode(image: Image.Image) -> Image.Image:
    """`image` in a mode that resizes well and that an ICC profile can apply to."""
    if image.mode in PROFILED_MODES:
        return image
    if image.mode.startswith("I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything to white.
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "P", "La", "RGBa"):
        with_alpha = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(with_alpha, mask=with_alpha.getchannel("A"))
        return flat
    return image.convert("RGB")


def to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """An RGB image in sRGB: through the embedded profile when there is a usable one."""
    if icc_profile:
        transform = _transform_to_srgb(icc_profile, image.mode)
        converted = ImageCms.applyTransform(image, transform) if transform else None
        if converted is not None:
            return converted
    return image if image.mode == "RGB" else image.convert("RGB")


@lru_cache(maxsize=16)
def _transform_to_srgb(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    # Phones embed the same few profiles over and over; building a transform
    # costs more than applying it to a phone-sized derivative.
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.buildTransform(source, _SRGB, mode, "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A damaged profile, or one for another colour space than the pixels':
        # the pixels are then taken as sRGB, as a browser would.
        return None


def dominant_color(image: Image.Image) -> str:
    """The most common colour of a small RGB image after reducing it to a few, as #rrggbb."""
    palette_image = image.quantize(colors=6, method=Image.Quantize.MEDIANCUT)
    counts = palette_image.getcolors() or [(1, 0)]
    _, index = max(counts)
    palette = palette_image.getpalette() or [0, 0, 0]
    start = int(index) * 3  # type: ignore[call-overload]  # a palette image counts by index
    red, green, blue = palette[start : start + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"
