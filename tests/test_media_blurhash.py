"""Our BlurHash encoder gives the reference implementation's strings exactly."""

from __future__ import annotations

import random

import blurhash as reference  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from media import blurhash


def reference_hash(image: Image.Image, x: int, y: int) -> str:
    rows = [[image.getpixel((i, j)) for i in range(image.width)] for j in range(image.height)]
    encoded: str = reference.encode(rows, x, y)
    return encoded


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 24),
    st.integers(1, 24),
    st.integers(1, 9),
    st.integers(1, 9),
    st.randoms(use_true_random=False),
)
def test_matches_the_reference_encoder(
    width: int, height: int, x: int, y: int, rng: random.Random
) -> None:
    pixels = bytes(rng.randrange(256) for _ in range(width * height * 3))
    image = Image.frombytes("RGB", (width, height), pixels)
    assert blurhash.encode(image, x, y) == reference_hash(image, x, y)


def test_a_flat_image_has_no_detail() -> None:
    flat = Image.new("RGB", (16, 12), (10, 120, 250))
    assert blurhash.encode(flat, 4, 3) == reference_hash(flat, 4, 3)
    assert blurhash.encode(flat, 1, 1) == reference_hash(flat, 1, 1)


def test_component_counts_are_bounded() -> None:
    with pytest.raises(ValueError, match="components"):
        blurhash.encode(Image.new("RGB", (4, 4)), 10, 3)
