"""Turning the model's samples, uploaded pictures and drawings into the digit model's 8x8 input."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from PIL import Image

from tests.ui.example_model import VALUE_RANGE, pixels, sample
from tests.ui.images import digit_png, png
from ui.api_client import InputSpec, Sample
from ui.digit_input import (
    DIGITS_RANGE,
    UnreadableImage,
    accepts_digits,
    as_model_input,
    from_data_url,
    from_image,
    from_sample,
    pixel_range,
    preview,
)


def original(label: str) -> np.ndarray:
    return np.asarray(pixels(label), dtype=float)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


# Samples whose digit is centred and fills its 8x8 frame, as the pictures are made to: others move in it.
@pytest.mark.parametrize("label", ["0", "3", "5"])
def test_a_picture_of_a_sample_comes_back_close_to_the_sample(label: str) -> None:
    """A sample drawn large, dark on light and off-centre on a page, maps back to nearly the same 8x8 pixels."""
    result = np.asarray(from_image(digit_png(label), VALUE_RANGE))
    assert result.shape == (8, 8)
    assert result.min() >= 0
    assert result.max() == 16
    assert correlation(result, original(label)) > 0.9


def test_light_and_dark_backgrounds_give_the_same_pixels() -> None:
    """Ink on paper and chalk on a board give the same input: a light background is inverted."""
    dark_ink = np.asarray(from_image(digit_png("5", dark_ink=True), VALUE_RANGE))
    light_ink = np.asarray(from_image(digit_png("5", dark_ink=False), VALUE_RANGE))
    assert np.allclose(dark_ink, light_ink, atol=0.5)


def test_a_transparent_png_reads_its_ink() -> None:
    """Dark strokes on a transparent background (as many drawing tools save them) are the digit."""
    strokes = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    for x in range(40, 60):
        for y in range(10, 90):
            strokes.putpixel((x, y), (0, 0, 0, 255))
    result = np.asarray(from_image(png(strokes), VALUE_RANGE))
    assert result[:, 3:5].min() > 0  # the bar fills the middle columns
    assert result[:, 0].max() == 0


def test_a_blank_picture_is_refused() -> None:
    """An empty page holds no digit: a clear error, not a division by zero."""
    with pytest.raises(UnreadableImage, match="looks blank"):
        from_image(png(Image.new("L", (50, 50), 255)), VALUE_RANGE)


def test_bytes_that_are_no_image_are_refused() -> None:
    """Random bytes give UnreadableImage with a message for the person."""
    with pytest.raises(UnreadableImage, match="not an image"):
        from_image(b"\x00\x01 definitely not a png", VALUE_RANGE)


def test_a_canvas_data_url_is_read_like_an_upload() -> None:
    """A browser canvas's PNG data URL gives the same pixels as the PNG itself."""
    data = digit_png("2", dark_ink=False)
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    assert from_data_url(url, VALUE_RANGE) == from_image(data, VALUE_RANGE)


def test_a_broken_data_url_is_refused() -> None:
    """A data URL whose base64 is broken gives UnreadableImage."""
    with pytest.raises(UnreadableImage):
        from_data_url("data:image/png;base64,@@@", VALUE_RANGE)


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


@pytest.mark.parametrize("value_range", [(0.0, 1.0), (-1.0, 1.0), (0.0, 255.0)])
def test_pictures_are_scaled_to_the_model_range(value_range: tuple[float, float]) -> None:
    """An uploaded picture spans the model's range: background at its low end, the darkest ink at its high end."""
    low, high = value_range
    result = np.asarray(from_image(digit_png("0"), value_range))
    assert result.min() == low
    assert result.max() == high
    assert np.allclose((result - low) / (high - low) * 16, from_image(digit_png("0"), (0.0, 16.0)), atol=0.01)


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
