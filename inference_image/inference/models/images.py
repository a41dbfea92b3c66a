"""Image inputs: decodes PNG/JPEG with Pillow and applies the preprocessing that the model's metadata declares
(colour mode, inversion, crop to the ink, size and resize filter, scale/mean/std, channel layout).

Memory is bounded by the model, never by what a file claims. Each side (``MAX_SIDE``) and the pixel count
(``max_pixels``) are read from the header and capped before anything is decoded, so a small file that claims
huge dimensions (a decompression bomb) costs nothing; so do a JPEG's scans (``MAX_JPEG_SCANS``), each of
which the decoder runs over the whole picture. After decoding, every step works on the decoded image or
something smaller: the crop to the ink is shrunk to at most ``CANVAS_MULTIPLE`` times the model's side *before*
it is padded to a square, so a thin 32768x512 strip never becomes a 32768x32768 canvas. Pillow and numpy are
imported on first use."""

from __future__ import annotations

import base64
import binascii
import io
import re
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
# Pixels of a picture with transparency flattened at a time: each RGBA strip is 4 MB.
FLATTEN_STRIP_PIXELS = 1 << 20
# Scans (SOS segments) in one JPEG picture. The decoder runs each scan over every block of the picture, however
# little it holds (about a millisecond at 4096x4096), so 20,000 tiny scans in 759 KB took 20 s to decode.
# Encoders write one scan per component at most for a baseline file; libjpeg's progressive scripts write 10
# (colour), 6 (grey) or 18 (CMYK), and mozjpeg's scan optimisation keeps a dozen or so of its 64 candidates: 100
# leaves five times what libjpeg writes, and costs at most about 0.1 s more than an honest picture of its size.
MAX_JPEG_SCANS = 100
# Segments a JPEG walk reads before it gives up on finding the picture's end, and the most a JPEG may hold before
# its first scan: encoders write a few dozen (tables before each scan, metadata in 64 KB chunks), so the walk
# never costs more than a glance.
MAX_JPEG_SEGMENTS = 1000
_JPEG_START = b"\xff\xd8"
_JPEG_SCAN = b"\xff\xda"
# A marker: 0xFF and a code that is neither a stuffed zero (0x00), a restart (RST0-7, 0xD0-0xD7) nor fill (0xFF).
# Inside entropy-coded data 0xFF is only ever followed by those, so the next marker ends a scan's data.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_END, _JPEG_NO_LENGTH = 0xD9, (0x01, 0xD8)  # EOI; TEM and SOI have no length field


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
    if data.startswith(_JPEG_START) and jpeg_header_segments(data) > MAX_JPEG_SEGMENTS:
        raise _invalid(
            f"{where} is a JPEG of more than {MAX_JPEG_SEGMENTS} segments before its picture; encoders write a few "
            "dozen: save the picture again"
        )
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
    if data.startswith(_JPEG_START) and jpeg_scans(data) > MAX_JPEG_SCANS:
        raise _invalid(
            f"{where} is a JPEG of more than {MAX_JPEG_SCANS} scans; no encoder writes so many (a progressive JPEG "
            "has about 10): save the picture again"
        )
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError):
        raise _invalid(f"{where} is a truncated or corrupt {image.format} image") from None
    return image


def jpeg_header_segments(data: bytes) -> int:
    """The segments before a JPEG's first scan (tables, metadata), counted up to ``MAX_JPEG_SEGMENTS`` + 1, each
    skipped by its length. Pillow reads them one by one in Python before anything else: 6 MB of empty comment
    segments took 1.2 s to open."""
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
    """How many scans a JPEG's first picture holds, as far as ``MAX_JPEG_SCANS`` needs to know, without decoding.

    SOS markers are counted outright first: that count is never too low, but metadata and what follows the
    picture (a second picture, a phone's video) may hold the same two bytes. When it is over the limit, the
    segments are walked as a decoder meets them, each skipped by its length and each scan's data to the next
    marker, up to the picture's end (EOI) or the first scan past the limit; a file still going after
    ``MAX_JPEG_SEGMENTS`` segments keeps the outright count."""
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


def preprocess(image: Any, spec: ImageSpec, where: str) -> Any:
    """The steps of the metadata's ``image`` block, in order."""
    import numpy as np
    from PIL import Image, ImageOps

    image = _flattened(image, spec.mode)
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


def _flattened(image: Any, mode: str) -> Any:
    """The image in the model's colour ``mode``, its transparent pixels white, as a viewer shows them, so the ink
    stays the ink. A picture with transparency is flattened a strip at a time (``FLATTEN_STRIP_PIXELS``), so the
    RGBA copies that compositing needs are strips: three full-size ones of a 4096x4096 picture took 192 MB. Each
    step works pixel by pixel, so the result is the same as flattening the whole picture at once."""
    from PIL import Image

    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return image if image.mode == mode else image.convert(mode)  # convert() copies even when the mode is right
    flat = Image.new(mode, image.size)
    rows = max(1, FLATTEN_STRIP_PIXELS // image.width)
    for top in range(0, image.height, rows):
        strip = image.crop((0, top, image.width, min(top + rows, image.height))).convert("RGBA")
        white = Image.new("RGBA", strip.size, "white")
        flat.paste(Image.alpha_composite(white, strip).convert(mode), (0, top))
    return flat


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
