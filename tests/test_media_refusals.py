"""What the pipeline refuses, with which typed error, before decoding what it must not."""

from __future__ import annotations

import io
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from media import ImageLimits, ImageRejected, process_image
from media.errors import CorruptImage, EmptyImage, ImageTooLarge, TooManyPixels, UnsupportedImage
from media.pipeline import configure_pillow
from tests.utils import images

LIMITS = ImageLimits()


@pytest.fixture(autouse=True)
def pillow() -> None:
    configure_pillow(LIMITS.max_pixels)


def refusal(data: bytes, limits: ImageLimits = LIMITS) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        process_image(io.BytesIO(data), limits)
    return caught.value


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (b"", EmptyImage, "EMPTY_IMAGE"),
        (images.html_named_jpg(), UnsupportedImage, "UNSUPPORTED_IMAGE"),
        (images.truncated_jpeg(), CorruptImage, "CORRUPT_IMAGE"),
        (images.png_declaring(20_000, 20_000), TooManyPixels, "TOO_MANY_PIXELS"),
        (images.encode(images.marked_photo(2500, 100), "PNG"), UnsupportedImage, None),
        (images.encode(images.marked_photo(64, 64), "GIF"), UnsupportedImage, None),
    ],
    ids=["empty", "html", "truncated", "400-megapixel", "strip", "gif"],
)
def test_bad_files_get_a_typed_error(
    data: bytes, error: type[ImageRejected], code: str | None
) -> None:
    refused = refusal(data)
    assert type(refused) is error
    assert refused.code == (code or error.code)
    assert refused.message
    assert "Traceback" not in refused.message


def test_too_many_bytes() -> None:
    refused = refusal(images.png(), ImageLimits(max_bytes=1024))
    assert isinstance(refused, ImageTooLarge)
    assert "MiB" in refused.message


def test_our_pixel_limit_is_read_from_the_header() -> None:
    # Well under Pillow's own limit, over ours.
    refused = refusal(images.png(), ImageLimits(max_pixels=100_000))
    assert isinstance(refused, TooManyPixels)
    assert "0.1 megapixels" in refused.message


def test_a_bomb_between_one_and_two_limits_is_an_error_not_a_warning() -> None:
    # Pillow only warns below twice MAX_IMAGE_PIXELS and would then decode the
    # pixels; configure_pillow makes the warning an error wherever it is called.
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        configure_pillow(LIMITS.max_pixels)
        refused = refusal(images.png_declaring(8000, 8000))
    assert isinstance(refused, TooManyPixels)


def test_the_header_is_checked_before_any_pixel_is_decoded() -> None:
    # The declared 400 MP PNG carries 16 pixels of data: decoding it would fail as
    # corrupt. Being refused for its size shows the check came first.
    assert isinstance(refusal(images.png_declaring(20_000, 20_000)), TooManyPixels)
    assert isinstance(refusal(images.png_declaring(60, 60)), CorruptImage)


SAMPLES = [images.jpeg_with_gps(), images.png(), images.webp(), images.heic_with_gps()]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    st.integers(0, 10**6),
)
def test_damaged_files_are_processed_or_refused_never_crash(
    sample: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(sample)
    for position, value in flips:
        data[position % len(data)] = value
    damaged = bytes(data[: max(1, len(data) - cut % len(data))])
    try:
        result = process_image(io.BytesIO(damaged), LIMITS)
    except ImageRejected:
        return
    for rendition in result.renditions:
        images.assert_no_metadata(rendition.data)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x01\x00\x00WEBP"]),
    st.binary(max_size=512),
)
def test_a_right_signature_on_random_bytes_is_refused_cleanly(head: bytes, tail: bytes) -> None:
    with pytest.raises(ImageRejected):
        process_image(io.BytesIO(head + tail), LIMITS)
