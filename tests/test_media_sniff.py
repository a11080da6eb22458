"""Sniffing: the first bytes decide, never the name or the declared type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.sniff import SNIFF_BYTES, ImageKind, sniff
from tests.utils import images


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (images.jpeg_with_gps(), ImageKind.JPEG),
        (images.png(), ImageKind.PNG),
        (images.webp(), ImageKind.WEBP),
        (images.heic_with_gps(), ImageKind.HEIF),
        (images.truncated_jpeg(), ImageKind.JPEG),  # refused later, by the decoder
    ],
)
def test_each_accepted_format_is_recognised_by_content(data: bytes, kind: ImageKind) -> None:
    assert sniff(data[:SNIFF_BYTES]) is kind


@pytest.mark.parametrize(
    "head",
    [
        b"",
        images.html_named_jpg(),
        b"GIF89a" + b"\x00" * 20,
        b"%PDF-1.7\n",
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",  # AVIF
        b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf",  # AVIF behind a generic brand
        b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp41",  # an MP4 video
        b"RIFF\x00\x00\x00\x00WAVEfmt ",  # a WAV file
        b"\xff\xd8",  # too short to be a JPEG
    ],
)
def test_everything_else_is_refused(head: bytes) -> None:
    assert sniff(head) is None


@given(st.binary(max_size=SNIFF_BYTES * 2))
def test_random_bytes_never_crash_the_sniffer(data: bytes) -> None:
    assert sniff(data) in (None, *ImageKind)


@given(st.sampled_from(list(ImageKind)), st.binary(max_size=SNIFF_BYTES))
def test_a_signature_decides_whatever_follows(kind: ImageKind, tail: bytes) -> None:
    signatures = {
        ImageKind.JPEG: b"\xff\xd8\xff",
        ImageKind.PNG: b"\x89PNG\r\n\x1a\n",
        ImageKind.WEBP: b"RIFF\x10\x00\x00\x00WEBP",
        ImageKind.HEIF: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    }
    assert sniff((signatures[kind] + tail)[:SNIFF_BYTES]) is kind
