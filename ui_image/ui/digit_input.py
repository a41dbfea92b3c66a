"""Inputs for 8x8 digit models (the example model): the model's samples, and uploaded or drawn images.

Images go to the server as they are (``{"image": base64}``): the model's metadata declares how they become
its input, and the server applies it. Samples are already 8x8 values and are previewed as the model sees them."""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ui.api_client import InputSpec, Sample

SIDE = 8
DIGITS_RANGE = (0.0, 16.0)  # scikit-learn's digits, for a model whose metadata gives no range

Pixels = list[list[float]]
ValueRange = tuple[float, float]


class UnreadableImage(ValueError):
    """A sample that does not hold 8x8 values."""


def accepts_digits(spec: InputSpec) -> bool:
    """Whether one input of this model is an 8x8 image, flat or not."""
    return math.prod(spec.sample_shape) == SIDE * SIDE


def pixel_range(spec: InputSpec) -> ValueRange:
    """The values that stand for background (low) and full ink (high) in this model's input."""
    if spec.value_range is not None and spec.value_range[0] < spec.value_range[1]:
        return spec.value_range
    return DIGITS_RANGE


def as_model_input(pixels: Pixels, spec: InputSpec) -> list[Any]:
    """The 8x8 pixels laid out in the model's own input shape (64 values, or 8x8)."""
    result: list[Any] = np.asarray(pixels, dtype=float).reshape(spec.sample_shape).tolist()
    return result


def from_sample(sample: Sample) -> Pixels:
    """A sample's input (64 values, flat or 8x8) as 8x8 pixels."""
    try:
        values = np.asarray(sample.input, dtype=float).reshape(SIDE, SIDE)
    except (TypeError, ValueError) as error:
        raise UnreadableImage("This sample does not hold 8x8 numbers.") from error
    result: Pixels = values.tolist()
    return result


def image_input(data: bytes) -> dict[str, str]:
    """An uploaded picture as one input of an image model."""
    return {"image": base64.b64encode(data).decode("ascii")}


def can_show(data: bytes) -> bool:
    """Whether the browser page can show these bytes as a picture (the server decides whether the model takes it)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    return True


def preview(pixels: Pixels, value_range: ValueRange, size: int = 160) -> Image.Image:
    """A large grayscale picture of the 8x8 input, as the model sees it: ``low`` black, ``high`` white."""
    low, high = value_range
    values = (np.asarray(pixels, dtype=float) - low) / (high - low) * 255
    small = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")
    return small.resize((size, size), Image.Resampling.NEAREST)
