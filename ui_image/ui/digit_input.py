"""Inputs for 8x8 digit models (the example model): the model's samples, uploaded or drawn images.

Pictures are made to look like scikit-learn's digits data set, which the example model was
trained on: 8x8, light ink on a dark background, from the low to the high end of the model's
input range."""

from __future__ import annotations

import base64
import binascii
import io
import math
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ui.api_client import InputSpec, Sample

SIDE = 8
DIGITS_RANGE = (0.0, 16.0)  # scikit-learn's digits, for a model whose metadata gives no range
_INK_THRESHOLD = 48  # of 255: fainter pixels are background noise, not part of the digit

Pixels = list[list[float]]
ValueRange = tuple[float, float]


class UnreadableImage(ValueError):
    """The bytes are not an image, the image holds no digit, or a sample does not hold 8x8 values."""


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


def from_image(data: bytes, value_range: ValueRange) -> Pixels:
    """Turn any picture of a digit (photo, scan, drawing) into the model's 8x8 pixels, from
    ``low`` (background) to ``high`` (the darkest ink)."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as error:
        raise UnreadableImage("This file is not an image that can be read (try PNG or JPEG).") from error
    gray = ImageOps.grayscale(_flattened(image))
    if _has_light_background(gray):
        gray = ImageOps.invert(gray)
    box = gray.point(lambda value: 255 if value > _INK_THRESHOLD else 0).getbbox()
    if box is None:
        raise UnreadableImage("No digit found in this image: it looks blank.")
    digit = _squared(gray.crop(box)).resize((SIDE, SIDE), Image.Resampling.BOX)
    low, high = value_range
    values = np.asarray(digit, dtype=float)
    scaled = np.round(low + values / values.max() * (high - low), 4)
    result: Pixels = scaled.tolist()
    return result


def from_data_url(url: str, value_range: ValueRange) -> Pixels:
    """The same, for a ``data:image/png;base64,...`` URL as a browser canvas gives it."""
    _, _, encoded = url.partition(",")
    try:
        data = base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise UnreadableImage("The drawing could not be decoded.") from error
    return from_image(data, value_range)


def preview(pixels: Pixels, value_range: ValueRange, size: int = 160) -> Image.Image:
    """A large grayscale picture of the 8x8 input, as the model sees it: ``low`` black, ``high`` white."""
    low, high = value_range
    values = (np.asarray(pixels, dtype=float) - low) / (high - low) * 255
    small = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")
    return small.resize((size, size), Image.Resampling.NEAREST)


def _flattened(image: Image.Image) -> Image.Image:
    """Transparent pixels become white, as they look in a viewer, so the ink stays the ink."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(background, rgba)
    return image


def _has_light_background(gray: Image.Image) -> bool:
    # The border is mostly background; a digit rarely touches all four edges.
    values = np.asarray(gray, dtype=float)
    border = np.concatenate([values[0], values[-1], values[:, 0], values[:, -1]])
    return float(np.median(border)) > 127


def _squared(digit: Image.Image) -> Image.Image:
    """Pad the cropped digit to a centred square, keeping its aspect ratio: in the data set every
    digit spans the full height of its square and is centred across it."""
    side = max(digit.size)
    canvas = Image.new("L", (side, side), 0)
    canvas.paste(digit, ((side - digit.width) // 2, (side - digit.height) // 2))
    return canvas
