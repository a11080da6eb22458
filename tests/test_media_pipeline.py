"""The image pipeline on files the tests make: orientation, sizes, metadata, colour."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image, ImageCms

from media import ImageLimits, ImagePipeline, ProcessedImage, process_image
from media.pipeline import configure_pillow
from tests.utils import images

LIMITS = ImageLimits()


@pytest.fixture(autouse=True)
def pillow() -> None:
    configure_pillow(LIMITS.max_pixels)


def run(data: bytes, limits: ImageLimits = LIMITS) -> ProcessedImage:
    return process_image(io.BytesIO(data), limits)


def renditions(result: ProcessedImage) -> dict[str, Image.Image]:
    return {r.variant: Image.open(io.BytesIO(r.data)) for r in result.renditions}


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_jpeg_orientation_is_applied_before_anything_is_stored(orientation: int) -> None:
    result = run(images.jpeg_with_gps(orientation=orientation))
    assert (result.width, result.height) == (480, 320)
    for rendition in result.renditions:
        images.assert_upright(rendition.data, 480, 320)


@pytest.mark.parametrize(
    "make",
    [images.jpeg_with_gps, images.heic_with_gps, images.png, images.webp],
    ids=["jpeg", "heic", "png", "webp"],
)
def test_every_format_comes_out_upright_and_without_metadata(make: object) -> None:
    assert callable(make)
    portrait = images.marked_photo(300, 400)
    result = run(make(portrait))
    assert (result.width, result.height) == (300, 400)
    for rendition in result.renditions:
        images.assert_upright(rendition.data, 300, 400)
        images.assert_no_metadata(rendition.data)


def test_gps_and_camera_tags_really_were_in_the_input() -> None:
    # The absence checks above only mean something if the inputs carry the tags.
    source = images.jpeg_with_gps()
    with Image.open(io.BytesIO(source)) as image:
        gps = image.getexif().get_ifd(0x8825)
        assert gps[2] == images.GPS_LATITUDE
        assert b"GPSLatitude" in image.info["xmp"]
    assert any(marker in source for marker in images.METADATA_MARKERS)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((2400, 1600), {"thumbnail": (150, 150), "medium": (640, 427), "large": (1080, 720)}),
        ((1600, 2400), {"thumbnail": (150, 150), "medium": (640, 960), "large": (1080, 1620)}),
        ((400, 300), {"thumbnail": (150, 150), "medium": (400, 300), "large": (400, 300)}),
        ((100, 80), {"thumbnail": (80, 80), "medium": (100, 80), "large": (100, 80)}),
    ],
)
def test_derivatives_fit_phone_sizes_and_are_never_upscaled(
    size: tuple[int, int], expected: dict[str, tuple[int, int]]
) -> None:
    result = run(images.encode(images.marked_photo(*size), "JPEG", quality=85))
    opened = renditions(result)
    assert {variant: image.size for variant, image in opened.items()} == expected
    assert all(image.format == "WEBP" for image in opened.values())
    assert {(r.width, r.height) for r in result.renditions} == set(expected.values())
    assert (result.width, result.height) == size


@pytest.mark.parametrize(("size", "shared"), [((400, 300), True), ((900, 600), False)])
def test_a_small_original_is_encoded_once_for_the_sizes_it_does_not_reach(
    size: tuple[int, int], shared: bool
) -> None:
    """No wider than the medium size, both sizes are the original's pixels: one
    WebP encoding (the same bytes object) serves both, the upload's CPU spent once."""
    result = run(images.encode(images.marked_photo(*size), "JPEG", quality=85))
    by_variant = {r.variant: r for r in result.renditions}
    assert [r.variant for r in result.renditions] == ["thumbnail", "medium", "large"]
    assert (by_variant["medium"].data is by_variant["large"].data) is shared
    assert (by_variant["medium"].width, by_variant["medium"].height) == (
        size if shared else (640, 427)
    )


def test_a_big_jpeg_is_decoded_in_draft_mode_yet_keeps_its_full_size() -> None:
    big = images.encode(images.marked_photo(4000, 3000), "JPEG", quality=80)
    result = run(big)
    assert (result.width, result.height) == (4000, 3000)
    assert renditions(result)["large"].size == (1080, 810)


def test_colours_are_converted_to_srgb_and_the_profile_is_dropped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = images.marked_photo()
    tagged = images.encode(photo, "JPEG", quality=95, icc_profile=srgb)
    for rendition in run(tagged).renditions:
        images.assert_no_metadata(rendition.data)
        images.assert_upright(rendition.data, 480, 320)


def test_a_damaged_colour_profile_costs_nothing_but_the_profile() -> None:
    damaged = images.encode(images.marked_photo(), "JPEG", icc_profile=b"not a profile" * 20)
    for rendition in run(damaged).renditions:
        images.assert_upright(rendition.data, 480, 320)


def test_transparency_is_flattened_onto_white() -> None:
    clear = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    result = run(images.encode(clear, "PNG"))
    pixel = renditions(result)["large"].convert("RGB").getpixel((100, 50))
    assert pixel == (255, 255, 255)
    assert result.dominant_color == "#ffffff"


def test_sixteen_bit_greyscale_keeps_its_tones() -> None:
    grey = Image.new("I;16", (120, 90), 32768)
    pixel = renditions(run(images.encode(grey, "PNG")))["large"].convert("L").getpixel((60, 45))
    assert isinstance(pixel, float | int)
    assert 118 <= pixel <= 138


def test_placeholder_and_dominant_colour_describe_the_picture() -> None:
    result = run(images.encode(Image.new("RGB", (320, 240), (200, 40, 40)), "PNG"))
    assert result.dominant_color == "#c82828"
    assert 20 <= len(result.blurhash) <= 40
    # BlurHash: size flag, max AC, then the average colour as four base-83 digits.
    assert result.blurhash[2:6] == _base83_rgb((200, 40, 40))


def _base83_rgb(rgb: tuple[int, int, int]) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
    value = (rgb[0] << 16) + (rgb[1] << 8) + rgb[2]
    return "".join(alphabet[(value // 83 ** (3 - i)) % 83] for i in range(4))


def test_the_same_upload_gives_the_same_bytes() -> None:
    # Retries and content-derived names rely on encoding being deterministic.
    source = images.jpeg_with_gps()
    assert run(source) == run(source)


async def test_processing_runs_off_the_event_loop() -> None:
    pipeline = ImagePipeline(LIMITS, memory_budget=512 * 1024 * 1024, workers=1)
    source = io.BytesIO(images.encode(images.marked_photo(2400, 1800), "JPEG"))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)  # one turn of the loop
            ticks += 1

    counting = asyncio.create_task(ticker())
    await pipeline.process(source)
    counting.cancel()
    # Processing in the loop would hold it until done: the ticker would not turn
    # at all meanwhile (at most once, as the process call starts).
    assert ticks >= 3
