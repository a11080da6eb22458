"""Image files the tests make: each format we accept, and each way a file can be bad.

The photos are non-square with a red marker in the top-left corner *as
displayed*; the stored pixels are turned so that only a decoder that applies the
EXIF orientation puts the marker back in that corner.
"""

from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
from PIL import ExifTags, Image

MARKER = (255, 0, 0)
BACKGROUND = (30, 90, 200)
GPS_LATITUDE = (48.0, 51.0, 29.0)
XMP_PACKET = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.48N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
# x265's fastest preset, without its thread pool: what the tests check is the file's
# container, metadata and pixels' orientation, never the encoder's compression, and
# the default settings took a tenth of a second to seconds (threads waiting on each
# other on a busy machine) for each small photo, several of them at collection.
FAST_HEIC = {"preset": "ultrafast", "x265:pools": "none"}
# How to store pixels so that applying the EXIF orientation shows them upright.
_UNDO_ORIENTATION = {
    1: None,
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}

pillow_heif.register_heif_opener()


def marked_photo(width: int = 480, height: int = 320) -> Image.Image:
    """Upright as a viewer should see it: a marker in the top-left quarter's corner."""
    image = Image.new("RGB", (width, height), BACKGROUND)
    image.paste(MARKER, (0, 0, width // 4, height // 4))
    return image


def camera_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15 Pro"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.0)
    return exif


def stored_for(displayed: Image.Image, orientation: int) -> Image.Image:
    undo = _UNDO_ORIENTATION[orientation]
    return displayed.transpose(undo) if undo is not None else displayed.copy()


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg_with_gps(
    displayed: Image.Image | None = None, *, orientation: int = 6, quality: int = 90
) -> bytes:
    """A phone JPEG: rotated pixels, EXIF orientation, GPS, camera make, and XMP."""
    displayed = displayed or marked_photo()
    return encode(
        stored_for(displayed, orientation),
        "JPEG",
        quality=quality,
        exif=camera_exif(orientation).tobytes(),
        xmp=XMP_PACKET,
    )


def heic_with_gps(displayed: Image.Image | None = None, *, orientation: int = 6) -> bytes:
    displayed = displayed or marked_photo()
    return encode(
        stored_for(displayed, orientation),
        "HEIF",
        quality=80,
        exif=camera_exif(orientation).tobytes(),
        enc_params=FAST_HEIC,
    )


def png(displayed: Image.Image | None = None) -> bytes:
    return encode(displayed or marked_photo(), "PNG", exif=camera_exif(1).tobytes())


def webp(displayed: Image.Image | None = None) -> bytes:
    return encode(displayed or marked_photo(), "WEBP", quality=90, exif=camera_exif(1).tobytes())


def truncated_jpeg() -> bytes:
    whole = jpeg_with_gps()
    return whole[: len(whole) * 2 // 3]


def html_named_jpg() -> bytes:
    return b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims `width` x `height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x00" * 3 * 16)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def camera_jpeg(width: int = 4000, height: int = 3000, *, orientation: int = 6) -> bytes:
    """A 12 MP camera-like JPEG (about 5 MB, like a phone's): gradients under
    sensor-like noise, EXIF orientation 6, GPS and XMP."""
    horizontal = Image.linear_gradient("L").resize((width, height))
    vertical = Image.linear_gradient("L").rotate(90).resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    bands = (
        Image.blend(horizontal, noise, 0.35),
        Image.blend(vertical, noise, 0.3),
        Image.blend(Image.blend(horizontal, vertical, 0.5), noise, 0.4),
    )
    return encode(
        Image.merge("RGB", bands),
        "JPEG",
        quality=92,
        exif=camera_exif(orientation).tobytes(),
        xmp=XMP_PACKET,
    )


# Stored images may hold pixel chunks only: no EXIF, XMP or ICC chunk.
PIXEL_CHUNKS = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH"})
# Bytes that only a metadata block would carry (long enough not to occur by chance).
METADATA_MARKERS = (b"Exif\x00\x00", b"iPhone 15 Pro", b"xmpmeta", b"GPSLatitude", b"acsp")


def webp_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF", data[:16]
    assert data[8:12] == b"WEBP", data[:16]
    chunks, offset = [], 12
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        chunks.append(data[offset : offset + 4])
        offset += 8 + size + (size & 1)
    return chunks


def assert_no_metadata(data: bytes) -> None:
    assert set(webp_chunks(data)) <= PIXEL_CHUNKS, webp_chunks(data)
    for marker in METADATA_MARKERS:
        assert marker not in data, marker
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
        assert "icc_profile" not in image.info
        assert "xmp" not in image.info


def _close(pixel: object, colour: tuple[int, int, int], tolerance: int = 48) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def assert_upright(data: bytes, displayed_width: int, displayed_height: int) -> None:
    """The marker sits top-left and the shape matches the displayed one (or is square)."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    width, height = rgb.size
    if width != height:
        assert abs(width / height - displayed_width / displayed_height) < 0.02, rgb.size
    top_left = rgb.getpixel((width // 20, height // 20))
    bottom_right = rgb.getpixel((width - 1 - width // 20, height - 1 - height // 20))
    assert _close(top_left, MARKER), top_left
    assert _close(bottom_right, BACKGROUND), bottom_right
