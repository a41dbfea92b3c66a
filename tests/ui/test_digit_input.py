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
    as_model_input,
    from_sample,
    image_input,
    picture_size,
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
    grid = from_sample(Sample("3", flat), (8, 8))
    assert np.asarray(grid).shape == (8, 8)
    assert from_sample(Sample("3", grid), (8, 8)) == grid
    with pytest.raises(UnreadableImage, match="8x8"):
        from_sample(Sample("3", [1, 2, 3]), (8, 8))
    with pytest.raises(UnreadableImage, match="8x8"):
        from_sample(Sample("3", "not numbers"), (8, 8))


def _image_spec(shape: list[int | None], mode: str | None, size: tuple[int, int] | None) -> InputSpec:
    return InputSpec("x", shape, "float32", kind="image", image_mode=mode, image_size=size)


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        (_image_spec([None, 64], "L", (8, 8)), (8, 8)),
        (_image_spec([None, 8, 8], "L", None), (8, 8)),  # no size in the metadata: a square
        (_image_spec([None, 1, 28, 28], "L", (28, 28)), None),  # the sample (64 values) is not 28x28
        (_image_spec([None, 3 * 64], "RGB", (8, 8)), None),  # colour: shown as values
        (InputSpec("x", [None, 64], "float32"), None),  # a tensor model of 64 features is not a picture
    ],
)
def test_only_grayscale_image_samples_are_shown_as_pictures(spec: InputSpec, size: tuple[int, int] | None) -> None:
    """The picture size of a sample: a grayscale image model's whose values fill its picture, else None."""
    assert picture_size(spec, sample("3")) == size


def test_the_input_follows_the_model_shape() -> None:
    """64 flat values for (N, 64); an 8x8 grid for (N, 8, 8); what holds another count is sent as it is."""
    pixels = original("3").tolist()
    assert as_model_input(pixels, InputSpec("x", [None, 64], "float32")) == [v for row in pixels for v in row]
    assert as_model_input(pixels, InputSpec("x", [None, 8, 8], "float32")) == pixels
    assert as_model_input([1, 2, 3], InputSpec("x", [None, 4], "float32")) == [1, 2, 3]
    assert as_model_input({"image": "..."}, InputSpec("x", [None, 4], "float32")) == {"image": "..."}
