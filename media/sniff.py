"""What kind of image a file is, judged by its first bytes alone.

A file's name and its declared content type are whatever the client (or an
attacker) says; the magic bytes are what a decoder will actually parse. Only the
four formats phones produce are recognised; everything else, including AVIF in
a HEIF-like container, is refused before any decoder sees it.
"""

from __future__ import annotations

from enum import Enum

# Enough for every signature below, including a HEIF `ftyp` box with a few brands.
SNIFF_BYTES = 64


class ImageKind(Enum):
    """The value is the format name Pillow registers for the decoder."""

    JPEG = "JPEG"
    PNG = "PNG"
    WEBP = "WEBP"
    HEIF = "HEIF"


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# HEVC-coded HEIF (what iPhones write) and the generic HEIF structural brands.
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
# AV1-coded HEIF is AVIF: a different decoder, which we do not offer.
_AV1_BRANDS = frozenset({b"avif", b"avis"})


def sniff(head: bytes) -> ImageKind | None:
    """The kind of image whose file starts with `head`, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return ImageKind.JPEG
    if head.startswith(_PNG_SIGNATURE):
        return ImageKind.PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageKind.WEBP
    if _is_heif(head):
        return ImageKind.HEIF
    return None


def _is_heif(head: bytes) -> bool:
    # ISO-BMFF: the file opens with an `ftyp` box: size, "ftyp", major brand,
    # minor version, then compatible brands, four bytes each.
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(head[:4], "big")
    if box_size < 16 or box_size % 4:
        return False
    end = min(box_size, len(head))
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    return bool(brands & _HEIF_BRANDS) and not brands & _AV1_BRANDS
