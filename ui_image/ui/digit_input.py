"""Inputs for 8x8 digit models (the example model): the model's samples, and uploaded or drawn images.

Images go to the server as they are (``{"image": base64}``): the model's metadata declares how they become
its input, and the server applies it. Samples are already 8x8 values and are previewed as the model sees them."""

from __future__ import annotations

import base64
import io
import math
import warnings
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ui.api_client import InputSpec, Sample

SIDE = 8
DIGITS_RANGE = (0.0, 16.0)  # scikit-learn's digits, for a model whose metadata gives no range
# Lambda takes 6 MB per request, and a picture travels base64-encoded (4/3 of its size) inside JSON.
MAX_UPLOAD_BYTES = 4_400_000
# The server's own limits on a picture (inference/models/images.py, metadata's max_pixels default).
MAX_SIDE = 8192
DEFAULT_MAX_PIXELS = 4096 * 4096
PREVIEW_SIDE = 320  # pixels on the longer side of the copy the page shows (it shows it 160 wide)

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


def upload_problem(data: bytes, max_pixels: int | None) -> str | None:
    """Why an upload cannot be sent, judged from its size and then its header, before any pixel is decoded
    (a 559 KB PNG may hold 12000x12000 pixels: 1.2 GB decoded and resized); None if it may be sent. A file
    that is not a picture at all is left for the server to name."""
    if len(data) > MAX_UPLOAD_BYTES:
        return (
            f"This file is {len(data) / 1e6:.1f} MB; one request to the API carries at most "
            f"{MAX_UPLOAD_BYTES / 1e6:.1f} MB of picture. Send a smaller picture."
        )
    size = _header_size(data)
    if size is None:
        return None
    width, height = size
    limit = max_pixels or DEFAULT_MAX_PIXELS
    if max(width, height) > MAX_SIDE or width * height > limit:
        return (
            f"This picture is {width}x{height} pixels; the model takes at most {limit:,} pixels, each side at most "
            f"{MAX_SIDE:,}. Send a smaller picture."
        )
    return None


def upload_preview(data: bytes) -> Image.Image | None:
    """A small copy of an upload that ``upload_problem`` passed, to show on the page (None if it cannot be
    read): a JPEG is decoded at a reduced scale, and the page never holds the full-size picture twice."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
            image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
            return image.copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def _header_size(data: bytes) -> tuple[int, int] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the caller judges the size
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def preview(pixels: Pixels, value_range: ValueRange, size: int = 160) -> Image.Image:
    """A large grayscale picture of the 8x8 input, as the model sees it: ``low`` black, ``high`` white."""
    low, high = value_range
    values = (np.asarray(pixels, dtype=float) - low) / (high - low) * 255
    small = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")
    return small.resize((size, size), Image.Resampling.NEAREST)
