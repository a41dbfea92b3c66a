"""Inputs for image models: the model's samples, and uploaded or drawn images.

Images go to the server as they are (``{"image": base64}``): the model's metadata declares how they become
its input, and the server applies it. A grayscale image model's samples are already pixel values (the digits
example: 8x8) and are previewed as the model sees them; any other sample is shown as its values."""

from __future__ import annotations

import base64
import io
import math
import re
import warnings
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ui.api_client import InputSpec, Sample

DIGITS_RANGE = (0.0, 16.0)  # scikit-learn's digits, for a model whose metadata gives no range
# Lambda takes 6 MB per request, and a picture travels base64-encoded (4/3 of its size) inside JSON.
MAX_UPLOAD_BYTES = 4_400_000
# The server's own limits on a picture (inference/models/images.py, metadata's max_pixels default), and its count
# of a JPEG's scans, which this image cannot import (tests/ui/test_upload_bounds.py checks that both agree).
MAX_SIDE = 8192
DEFAULT_MAX_PIXELS = 4096 * 4096
MAX_JPEG_SCANS = 100
MAX_JPEG_SEGMENTS = 1000
_JPEG_START, _JPEG_SCAN = b"\xff\xd8", b"\xff\xda"
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # not a stuffed zero, a restart marker or fill
_JPEG_END, _JPEG_NO_LENGTH = 0xD9, (0x01, 0xD8)
PREVIEW_SIDE = 320  # pixels on the longer side of the copy the page shows (it shows it 160 wide)

Pixels = list[list[float]]
ValueRange = tuple[float, float]
Size = tuple[int, int]  # width, height


class UnreadableImage(ValueError):
    """A sample that does not hold the pixels of the model's picture size."""


def picture_size(spec: InputSpec, sample: Sample) -> Size | None:
    """(width, height) when the sample is a grayscale image model's pixels, which can be shown as a picture."""
    if spec.kind != "image" or spec.image_mode not in (None, "L"):
        return None
    count = math.prod(spec.sample_shape)
    size = spec.image_size
    if size is None:  # a metadata without its size: a square picture, when the count is a square
        side = math.isqrt(count)
        size = (side, side)
    if size[0] * size[1] != count or _values(sample.input) != count:
        return None
    return size


def _values(value: Any) -> int:
    try:
        return int(np.asarray(value, dtype=float).size)
    except (TypeError, ValueError):
        return -1


def pixel_range(spec: InputSpec) -> ValueRange:
    """The values that stand for background (low) and full ink (high) in this model's input."""
    if spec.value_range is not None and spec.value_range[0] < spec.value_range[1]:
        return spec.value_range
    return DIGITS_RANGE


def as_model_input(values: Any, spec: InputSpec) -> Any:
    """The values laid out in the model's own input shape (64 values, or 8x8) when they hold that many numbers;
    anything else as it is, for the server to judge."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return values
    if array.size != math.prod(spec.sample_shape):
        return values
    result: list[Any] = array.reshape(spec.sample_shape).tolist()
    return result


def from_sample(sample: Sample, size: Size) -> Pixels:
    """A sample's input (flat or nested) as rows of pixels."""
    try:
        values = np.asarray(sample.input, dtype=float).reshape(size[1], size[0])
    except (TypeError, ValueError) as error:
        raise UnreadableImage(f"This sample does not hold {size[0]}x{size[1]} numbers.") from error
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
    if data.startswith(_JPEG_START) and jpeg_header_segments(data) > MAX_JPEG_SEGMENTS:  # Pillow reads each in Python
        return (
            f"This JPEG holds more than {MAX_JPEG_SEGMENTS} segments before its picture; encoders write a few dozen. "
            "Save the picture again and send that."
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
    if data.startswith(_JPEG_START) and jpeg_scans(data) > MAX_JPEG_SCANS:  # each scan is a pass over every pixel
        return (
            f"This JPEG holds more than {MAX_JPEG_SCANS} scans; no encoder writes so many (a progressive JPEG has "
            "about 10). Save the picture again and send that."
        )
    return None


def jpeg_header_segments(data: bytes) -> int:
    """The segments before a JPEG's first scan, counted up to ``MAX_JPEG_SEGMENTS`` + 1, as the server counts them
    (``inference.models.images.jpeg_header_segments``)."""
    count, at = 0, len(_JPEG_START)
    while count <= MAX_JPEG_SEGMENTS:
        found = _JPEG_MARKER.search(data, at)
        if found is None or data[found.start() + 1] in (_JPEG_SCAN[1], _JPEG_END):
            return count
        count += 1
        code = data[found.start() + 1]
        length = 0 if code in _JPEG_NO_LENGTH else int.from_bytes(data[found.start() + 2 : found.start() + 4], "big")
        at = found.start() + 2 + length
    return count


def jpeg_scans(data: bytes) -> int:
    """How many scans a JPEG's first picture holds, as far as ``MAX_JPEG_SCANS`` needs to know, as the server
    counts them (``inference.models.images.jpeg_scans`` says how): outright, then, over the limit, segment by
    segment to the picture's end."""
    outright = data.count(_JPEG_SCAN)
    if outright <= MAX_JPEG_SCANS:
        return outright
    scans = 0
    found = _JPEG_MARKER.search(data, len(_JPEG_START))
    for _ in range(MAX_JPEG_SEGMENTS):
        if found is None or scans > MAX_JPEG_SCANS:
            return scans
        at, code = found.start(), data[found.start() + 1]
        if code == _JPEG_END:
            return scans
        scans += code == _JPEG_SCAN[1]
        length = 0 if code in _JPEG_NO_LENGTH else int.from_bytes(data[at + 2 : at + 4], "big")
        found = _JPEG_MARKER.search(data, at + 2 + length)
    return outright


def upload_preview(data: bytes) -> Image.Image | None:
    """A small copy of an upload that ``upload_problem`` passed, to show on the page (None if it cannot be
    read): a JPEG is decoded at a reduced scale, and the page never holds the full-size picture twice."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
            small = _shrunk_band_by_band(image, PREVIEW_SIDE) if image.mode in ("LA", "RGBA") else image
            small.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
            return small.copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def _shrunk_band_by_band(image: Image.Image, side: int) -> Image.Image:
    """A picture with an alpha band shrunk to at most twice ``side``, one band at a time: Pillow would first copy
    all of it, premultiplied by its alpha (64 MB more for a 4096x4096 RGBA upload). Unpremultiplied, the colour
    of transparent pixels may tint the ink's edges a little, which a preview can bear."""
    factor = math.ceil(max(image.size) / (2 * side))
    return Image.merge(image.mode, [image.getchannel(band).reduce(factor) for band in image.getbands()])


def _header_size(data: bytes) -> tuple[int, int] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the caller judges the size
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def preview(pixels: Pixels, value_range: ValueRange, size: int = 160) -> Image.Image:
    """A large grayscale picture of the input, as the model sees it: ``low`` black, ``high`` white."""
    low, high = value_range
    values = (np.asarray(pixels, dtype=float) - low) / (high - low) * 255
    small = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")
    return small.resize((size, size), Image.Resampling.NEAREST)
