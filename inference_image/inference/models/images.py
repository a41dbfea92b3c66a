"""Image inputs: decodes PNG/JPEG with Pillow and applies the preprocessing that the model's metadata declares
(colour mode, inversion, crop to the ink, size and resize filter, scale/mean/std, channel layout).

Memory is bounded by the model, never by what a file claims. Each side (``MAX_SIDE``) and the pixel count
(``max_pixels``) are read from the header and capped before anything is decoded, so a small file that claims
huge dimensions (a decompression bomb) costs nothing. After decoding, every step works on the decoded image or
something smaller: the crop to the ink is shrunk to at most ``CANVAS_MULTIPLE`` times the model's side *before*
it is padded to a square, so a thin 32768x512 strip never becomes a 32768x32768 canvas. Pillow and numpy are
imported on first use."""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass
from typing import Any

from inference.errors import BadRequest
from inference.models.metadata import ImageSpec

# A light border means dark ink on paper; the models this serves expect light ink on dark.
_LIGHT_BORDER = 127
# Each side, whatever the pixel count: a strip longer than this is no picture of one input.
MAX_SIDE = 8192
# The crop is padded to a square of at most CANVAS_MULTIPLE times the model's longer side, and never less than
# MIN_CANVAS_SIDE (8x8 digits: 1024x1024, 1 MB); a longer crop is shrunk to that first. Shrinking moves the
# crop by at most half a canvas pixel, 1/128 of an 8x8 model's pixel: the model sees what it saw before.
CANVAS_MULTIPLE = 8
MIN_CANVAS_SIDE = 1024
_MIME_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


@dataclass(frozen=True)
class ImageBytes:
    """An image sent as the raw request body (``content-type: image/png`` or ``image/jpeg``)."""

    data: bytes
    content_type: str

    @property
    def format(self) -> str:
        return _MIME_FORMATS[self.content_type]


def image_content_types() -> tuple[str, ...]:
    return tuple(_MIME_FORMATS)


def is_image_input(value: object) -> bool:
    """Whether a request input stands for an image: raw bytes, or ``{"image": base64}`` in JSON."""
    return isinstance(value, ImageBytes) or (isinstance(value, dict) and "image" in value)


def image_array(value: object, spec: ImageSpec, where: str, pixel_budget: int) -> tuple[Any, int]:
    """The preprocessed image as a float32 array in the metadata's layout, and its decoded pixel count;
    BadRequest saying what is wrong. ``pixel_budget`` is what is left of the request's allowance."""
    if isinstance(value, ImageBytes):
        if value.format not in spec.formats:
            raise _invalid(f"this model takes {' or '.join(spec.formats)} images, not {value.content_type}")
        image = decode(value.data, spec, where, (value.format,), pixel_budget)
    else:
        image = decode(_json_image_bytes(value, where), spec, where, spec.formats, pixel_budget)
    pixels = image.width * image.height
    return preprocess(image, spec, where), pixels


def _json_image_bytes(value: object, where: str) -> bytes:
    if not isinstance(value, dict) or set(value) != {"image"} or not isinstance(value["image"], str):
        raise _invalid(f'{where} must be {{"image": "<base64 PNG or JPEG>"}} with no other field')
    encoded = value["image"]
    if encoded.startswith("data:"):  # a data URL, as browsers make them
        header, _, encoded = encoded.partition(",")
        if not header.endswith(";base64"):
            raise _invalid(f"{where}.image is a data URL that is not base64-encoded")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(f"{where}.image is not valid base64") from None


def decode(data: bytes, spec: ImageSpec, where: str, formats: tuple[str, ...], pixel_budget: int) -> Any:
    """The decoded Pillow image, refusing non-images, other formats, oversized and truncated files."""
    from PIL import Image, UnidentifiedImageError

    kinds = " or ".join(formats)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the cap below is ours
            image = Image.open(io.BytesIO(data), formats=list(formats))
    except Image.DecompressionBombError:
        raise _invalid(f"{where} has too many pixels; at most {spec.max_pixels:,} are accepted") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _invalid(f"{where} is not a {kinds} image") from None
    width, height = image.size
    if max(width, height) > MAX_SIDE:
        raise _invalid(f"{where} is {width}x{height} pixels; each side may be at most {MAX_SIDE:,} pixels")
    if width * height > spec.max_pixels:
        raise _invalid(f"{where} is {width}x{height} pixels; at most {spec.max_pixels:,} pixels are accepted")
    if width * height > pixel_budget:
        raise _invalid(f"the images up to {where} hold too many pixels for one request; send fewer per request")
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError):
        raise _invalid(f"{where} is a truncated or corrupt {image.format} image") from None
    return image


def preprocess(image: Any, spec: ImageSpec, where: str) -> Any:
    """The steps of the metadata's ``image`` block, in order."""
    import numpy as np
    from PIL import Image, ImageOps

    image = _flattened(image)
    if image.mode != spec.mode:  # convert() copies even when the mode is already right
        image = image.convert(spec.mode)
    gray = image if spec.mode == "L" else ImageOps.grayscale(image)
    if spec.invert is True or (spec.invert == "auto" and _has_light_border(gray)):
        image, gray = ImageOps.invert(image), ImageOps.invert(gray)
    if spec.crop_to_ink is not None:
        threshold = spec.crop_to_ink
        box = gray.point(lambda value: 255 if value > threshold else 0).getbbox()
        if box is None:
            raise _invalid(f"{where} looks blank: no ink was found")
        del gray  # a full-size copy: freed before the next one is made
        image = _squared(image.crop(box), canvas_side(spec))
    resized = image.resize(spec.size, Image.Resampling[spec.resample.upper()])
    values: Any = np.asarray(resized, dtype=np.float32).reshape(spec.size[1], spec.size[0], spec.channels)  # h, w, c
    divisor = float(values.max()) if spec.divide_by == "max" else float(spec.divide_by)
    if divisor <= 0:
        raise _invalid(f"{where} looks blank: every pixel is black")
    values = (values / divisor * spec.scale - np.asarray(spec.mean, dtype=np.float32)) / np.asarray(
        spec.std, dtype=np.float32
    )
    if spec.layout == "chw":
        values = values.transpose(2, 0, 1)
    return np.ascontiguousarray(values, dtype=np.float32)


def _flattened(image: Any) -> Any:
    """Transparent pixels become white, as a viewer shows them, so the ink stays the ink."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return image


def _has_light_border(gray: Any) -> bool:
    import numpy as np

    # The border is mostly background; a digit rarely touches all four edges. Only the four edges are read.
    width, height = gray.size
    edges = [(0, 0, width, 1), (0, height - 1, width, height), (0, 0, 1, height), (width - 1, 0, width, height)]
    border = np.concatenate([np.asarray(gray.crop(edge)).ravel() for edge in edges])
    return float(np.median(border)) > _LIGHT_BORDER


def canvas_side(spec: ImageSpec) -> int:
    """The longest side the square around the ink may have, for this model."""
    return max(MIN_CANVAS_SIDE, CANVAS_MULTIPLE * max(spec.size))


def _squared(image: Any, max_side: int) -> Any:
    """The crop padded to a centred square on the background, keeping its aspect ratio; a crop longer than
    ``max_side`` is shrunk to it first (box filter: each pixel the mean of those it covers), so the square is
    never larger than ``max_side`` on a side."""
    from PIL import Image

    longest = max(image.size)
    if longest > max_side:
        scale = max_side / longest
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BOX)
    side = max(image.size)
    canvas = Image.new(image.mode, (side, side), 0)
    canvas.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return canvas


def _invalid(message: str) -> BadRequest:
    return BadRequest(message, "invalid_image")
