"""The digit model's inputs in the UI: samples as 8x8 pixels and their preview; pictures sent as they are."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from tests.ui.example_model import pixels, sample
from tests.ui.images import digit_png
from ui.api_client import InputSpec, Sample
from ui.digit_input import (
    DIGITS_RANGE,
    UnreadableImage,
    accepts_digits,
    as_model_input,
    from_sample,
    image_input,
    pixel_range,
    preview,
)


def original(label: str) -> np.ndarray:
    return np.asarray(pixels(label), dtype=float)


def test_an_upload_is_sent_as_it_is() -> None:
    """A picture becomes {"image": base64 of its bytes}: the server, not the UI, turns it into the model's input."""
    data = digit_png("2")
    assert base64.b64decode(image_input(data)["image"]) == data


def test_the_preview_is_a_large_grayscale_image() -> None:
    """The preview scales the 8x8 pixels up, the top of the range shown white and the bottom black."""
    image = preview([[16.0] * 8] + [[0.0] * 8] * 7, (0.0, 16.0), size=80)
    assert image.size == (80, 80)
    assert image.getpixel((0, 0)) == 255
    assert image.getpixel((0, 79)) == 0
    assert preview([[1.0] * 8] + [[-1.0] * 8] * 7, (-1.0, 1.0), size=8).getpixel((0, 7)) == 0


@pytest.mark.parametrize(
    ("value_range", "expected"),
    [((0.0, 1.0), (0.0, 1.0)), ((-1.0, 1.0), (-1.0, 1.0)), (None, DIGITS_RANGE), ((3.0, 3.0), DIGITS_RANGE)],
)
def test_the_pixel_range_comes_from_the_model_input(
    value_range: tuple[float, float] | None, expected: tuple[float, float]
) -> None:
    """The model's own input range is used; without one (or an empty one), scikit-learn's digits' 0..16."""
    assert pixel_range(InputSpec("x", [None, 64], "float32", value_range=value_range)) == expected


def test_a_sample_becomes_8x8_pixels_from_either_layout() -> None:
    """A sample's 64 values, flat or 8x8, give the same 8x8 pixels; anything else is refused."""
    flat = sample("3").input
    assert len(flat) == 64
    grid = from_sample(Sample("3", flat))
    assert np.asarray(grid).shape == (8, 8)
    assert from_sample(Sample("3", grid)) == grid
    with pytest.raises(UnreadableImage, match="8x8"):
        from_sample(Sample("3", [1, 2, 3]))
    with pytest.raises(UnreadableImage, match="8x8"):
        from_sample(Sample("3", "not numbers"))


@pytest.mark.parametrize(
    ("shape", "digits"),
    [([None, 64], True), ([-1, 8, 8], True), ([64], True), ([None, 1, 8, 8], True), ([None, 4], False)],
)
def test_digit_models_are_recognised_by_their_input_shape(shape: list[int | None], digits: bool) -> None:
    """A model whose one input holds 64 values takes digits, whatever the layout."""
    assert accepts_digits(InputSpec("x", shape, "float32")) is digits


def test_the_input_follows_the_model_shape() -> None:
    """64 flat values for (N, 64); an 8x8 grid for (N, 8, 8)."""
    pixels = original("3").tolist()
    assert as_model_input(pixels, InputSpec("x", [None, 64], "float32")) == [v for row in pixels for v in row]
    assert as_model_input(pixels, InputSpec("x", [None, 8, 8], "float32")) == pixels
