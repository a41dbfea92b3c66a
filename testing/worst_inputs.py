"""The inputs of each kind that a hostile or careless caller would send, and the honest ones that once cost the most
(pictures with transparency), beside honest inputs of the same kind, written to files once (so that a measuring
child process reads bytes, and never pays for making them).

Each kind names the honest case its worst cases are judged against: the largest input an honest caller sends."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

IMAGE = "image"  # a PNG for the digits model, the raw body of POST /models/digits/predict
TEXT = "text"  # a batch of texts for the MiniLM model, POST /models/minilm/predict
UPLOAD = "upload"  # a picture uploaded on the UI's Predictions page (Upload mode)
PREDICT_JSON = "predict-json"  # a JSON body for the digits model, POST /models/digits/predict
KINDS = (IMAGE, TEXT, UPLOAD, PREDICT_JSON)

TEXT_BATCH = 128  # MiniLM's max_batch
TEXT_BYTES = 16 * 1024  # MiniLM's max_text_bytes
DIGITS_BATCH, DIGITS_VALUES = 256, 64  # the server's max batch, and the digits model's 8x8 values
SYNC_BODY_BYTES = 6 * 1024 * 1024 - 1024  # what Lambda's 6 MB synchronous payload leaves for a request's body


@dataclass(frozen=True)
class Case:
    kind: str
    name: str
    description: str
    make: Callable[[], bytes]
    honest: bool = False


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def line_png(width: int, height: int, mode: str = "L") -> bytes:
    """White, with one black line across it: tiny as a PNG, and its ink is as wide as the image."""
    image = Image.new(mode, (width, height), "white")
    ImageDraw.Draw(image).line([(0, height // 2), (width - 1, height // 2)], fill="black", width=1)
    return png(image)


def digit_photo_jpeg(side: int, *, progressive: bool = False) -> bytes:
    """A '1' written large on a shaded, slightly noisy page, as a phone's JPEG photo of it: the honest large
    image (within what one request carries: the API takes 6 MB, base64 included). ``progressive``: as GIMP
    writes a photo at high quality, progressive and without chroma subsampling (4:4:4), the costliest honest
    JPEG to decode: its decoder holds every coefficient of all three channels until the last scan."""
    rng = np.random.default_rng(0)
    shade = np.linspace(170, 230, side, dtype=np.float32)
    page = (shade[None, :] + rng.normal(0, 4, (side, side)).astype(np.float32)).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(page, mode="L")
    draw = ImageDraw.Draw(image)
    width = max(3, side // 20)
    draw.line([(side // 2, side // 6), (side // 2, side - side // 6)], fill=20, width=width)
    draw.line([(side // 2, side // 6), (side // 2 - side // 8, side // 4)], fill=20, width=width)
    buffer = io.BytesIO()
    image.convert("RGB").save(
        buffer, format="JPEG", quality=80, **({"progressive": True, "subsampling": "4:4:4"} if progressive else {})
    )
    return buffer.getvalue()


def many_scans_jpeg(side: int, extra_scans: int) -> bytes:
    """A blank progressive JPEG with its last scan (a tiny AC scan: its SOS segment and its entropy-coded data)
    repeated ``extra_scans`` times before its end. A decoder runs every scan over the whole picture: 20,000 at
    4096x4096 are 759 KB, and took 20 s to decode."""
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), "white").save(buffer, format="JPEG", progressive=True)
    data = buffer.getvalue()
    last_scan = data[data.rindex(b"\xff\xda") : -2]  # up to the EOI marker
    return data[:-2] + last_scan * extra_scans + data[-2:]


def small_digit_png() -> bytes:
    """A 28x28 drawing of a '1', the size a canvas or a scan of one digit usually is."""
    image = Image.new("L", (28, 28), 255)
    ImageDraw.Draw(image).line([(14, 4), (14, 24)], fill=0, width=3)
    return png(image)


def transparent_drawing_png(side: int, mode: str) -> bytes:
    """A '1' drawn with a thick pen on a transparent page, as drawing apps and canvases export it: RGBA, LA (grey
    and alpha), or P (a palette) whose background entry is transparent (a tRNS chunk)."""
    if mode == "P":
        image = Image.new("P", (side, side), 0)
        image.putpalette([255, 255, 255, 0, 0, 0])
        image.info["transparency"] = 0  # the background entry
        ink: int | tuple[int, ...] = 1
    else:
        image = Image.new(mode, (side, side), (0,) * len(mode))
        ink = (0,) * (len(mode) - 1) + (255,)
    ImageDraw.Draw(image).line([(side // 2, side // 6), (side // 2, side - side // 6)], fill=ink, width=side // 20)
    return png(image)


def drawing_png(side: int) -> bytes:
    """A '1' drawn with a thick pen on a white RGB page: the honest large PNG (a drawing or a screenshot)."""
    image = Image.new("RGB", (side, side), "white")
    ImageDraw.Draw(image).line([(side // 2, side // 6), (side // 2, side - side // 6)], fill="black", width=side // 20)
    return png(image)


def prose(size: int) -> str:
    words = (
        "the quick brown fox jumps over a lazy dog while seven wizards quietly brew a potion of heather and "
        "honey beside the old mill, and nobody in the village notices anything strange at all."
    )
    text = ""
    while len(text.encode()) < size:
        text += words + " "
    return text.encode()[:size].decode("utf-8", "ignore").rstrip()


def repeated(unit: str, size: int) -> str:
    return (unit * (size // len(unit.encode()) + 1)).encode()[:size].decode("utf-8", "ignore")


def texts_body(text: str) -> bytes:
    return json.dumps({"inputs": [text] * TEXT_BATCH}).encode()


# The pathological texts: each fills max_text_bytes with what makes the most tokens (or the most work) per byte.
PATHOLOGICAL_TEXTS: dict[str, tuple[str, str]] = {
    "digits_and_commas": ("16 KB of `1,2.`: four tokens per four bytes", repeated("1,2.", TEXT_BYTES)),
    "punctuation": ("16 KB of ASCII punctuation, no space", repeated("!?,.;:", TEXT_BYTES)),
    "cjk": ("16 KB of CJK ideographs, each its own word", repeated("\u4e00\u4e8c\u4e09\u56db", TEXT_BYTES)),
    "one_word": ("16 KB of one letter, one word", repeated("a", TEXT_BYTES)),
    "short_words": ("16 KB of `a `: a word every two bytes", repeated("a ", TEXT_BYTES)),
    "combining": ("16 KB of a letter under 7 combining accents", repeated("e" + "\u0301" * 7, TEXT_BYTES)),
    "emoji": ("16 KB of emoji, four bytes each", repeated("\U0001f600", TEXT_BYTES)),
    "controls": ("16 KB of control characters and one word", "word " + repeated("\x01", TEXT_BYTES - 5)),
}


def digits_rows_body() -> bytes:
    """The largest honest JSON predict body for the digits model: a full batch of rows of pixel values."""
    rng = np.random.default_rng(0)
    rows = np.round(rng.uniform(0, 16, (DIGITS_BATCH, DIGITS_VALUES)), 4).tolist()
    return json.dumps({"inputs": rows}).encode()


def filled(prefix: str, unit: str, suffix: str, size: int = SYNC_BODY_BYTES) -> bytes:
    """``prefix``, then ``unit`` repeated (joined by commas) to fill ``size`` bytes, then ``suffix``."""
    count = (size - len(prefix) - len(suffix)) // (len(unit) + 1)
    return (prefix + ",".join([unit] * count) + suffix).encode()


def cases() -> list[Case]:
    found = [
        Case(IMAGE, "digit_28", "a 28x28 PNG of one digit", small_digit_png, honest=True),
        Case(
            IMAGE,
            "photo_4096",
            "a 4096x4096 photo of one digit (the most pixels accepted)",
            lambda: digit_photo_jpeg(4096),
            honest=True,
        ),
        progressive_photo(IMAGE),
        *transparent_drawings(IMAGE),
        Case(IMAGE, "line_8192x2048", "a white 8192x2048 PNG with one black line", lambda: line_png(8192, 2048)),
        Case(IMAGE, "line_32768x512", "a white 32768x512 PNG with one black line", lambda: line_png(32768, 512)),
        Case(IMAGE, "line_65536x256", "a white 65536x256 PNG with one black line", lambda: line_png(65536, 256)),
        Case(IMAGE, "line_262144x64", "a white 262144x64 PNG with one black line", lambda: line_png(262144, 64)),
        many_scans(IMAGE),
        Case(
            TEXT,
            "prose",
            f"{TEXT_BATCH} texts of 16 KB of English prose",
            lambda: texts_body(prose(TEXT_BYTES)),
            honest=True,
        ),
    ]
    found += [
        Case(TEXT, name, f"{TEXT_BATCH} texts of {description}", partial(texts_body, text))
        for name, (description, text) in PATHOLOGICAL_TEXTS.items()
    ]
    found += [
        Case(UPLOAD, "photo_4096", "a 4096x4096 JPEG photo of one digit", lambda: digit_photo_jpeg(4096), honest=True),
        Case(
            UPLOAD, "drawing_4096", "a 4096x4096 RGB PNG drawing of one digit", lambda: drawing_png(4096), honest=True
        ),
        progressive_photo(UPLOAD),
        *transparent_drawings(UPLOAD),
        Case(
            UPLOAD,
            "line_8192x2048",
            "a white 8192x2048 RGB PNG with one black line",
            lambda: line_png(8192, 2048, "RGB"),
        ),
        Case(
            UPLOAD,
            "line_12000",
            "a white 12000x12000 RGB PNG with one black line",
            lambda: line_png(12000, 12000, "RGB"),
        ),
        many_scans(UPLOAD),
    ]
    found += [
        Case(
            PREDICT_JSON,
            "rows",
            f"{DIGITS_BATCH} rows of {DIGITS_VALUES} pixel values (the largest honest batch)",
            digits_rows_body,
            honest=True,
        ),
        Case(
            PREDICT_JSON,
            "photo_base64",
            "a 4096x4096 photo of one digit as base64 JSON (the largest honest JSON body)",
            lambda: json.dumps({"inputs": [{"image": base64.b64encode(digit_photo_jpeg(4096)).decode()}]}).encode(),
            honest=True,
        ),
        Case(PREDICT_JSON, "empty_lists", "6 MB of [[]], as inputs", lambda: filled('{"inputs": [', "[[]]", "]}")),
        Case(PREDICT_JSON, "nested", "6 MB of nested lists", nested),
        Case(PREDICT_JSON, "strings", '6 MB of "ab", as inputs', lambda: filled('{"inputs": [', '"ab"', "]}")),
        Case(PREDICT_JSON, "numbers", "6 MB of 1.5, in one input", lambda: filled('{"inputs": [[', "1.5", "]]}")),
        Case(
            PREDICT_JSON,
            "padding",
            "a valid batch beside 6 MB of [], in an unknown field",
            lambda: filled('{"inputs": [[0]], "x": [', "[]", "]}"),
        ),
    ]
    return found


def progressive_photo(kind: str) -> Case:
    return Case(
        kind,
        "progressive_4096",
        "a 4096x4096 progressive 4:4:4 JPEG photo of one digit",
        lambda: digit_photo_jpeg(4096, progressive=True),
        honest=True,
    )


def transparent_drawings(kind: str) -> list[Case]:
    """4096x4096 drawings of one digit on a transparent page (RGBA, LA, and a palette with a transparent entry)."""
    described = {"RGBA": "an RGBA", "LA": "an LA (grey and alpha)", "P": "a palette (P with tRNS)"}
    return [
        Case(
            kind,
            f"transparent_{mode.lower()}_4096",
            f"{described[mode]} 4096x4096 PNG drawing of one digit on a transparent page",
            partial(transparent_drawing_png, 4096, mode),
        )
        for mode in ("RGBA", "LA", "P")
    ]


def many_scans(kind: str) -> Case:
    return Case(
        kind,
        "scans_20000",
        "a blank 4096x4096 progressive JPEG with 20,000 more tiny scans (759 KB)",
        partial(many_scans_jpeg, 4096, 20_000),
    )


def nested() -> bytes:
    """6 MB of ever deeper lists around one input."""
    depth = (SYNC_BODY_BYTES - 16) // 2
    return ('{"inputs": ' + "[" * depth + "]" * depth + "}").encode()


def case(kind: str, name: str) -> Case:
    return next(item for item in cases() if item.kind == kind and item.name == name)


# The largest honest input of each kind: what its worst cases are measured against. For pictures, a progressive
# 4:4:4 JPEG photo: its decoder holds the coefficients of the whole picture (96 MB at 4096x4096) beside the pixels.
REFERENCE = {IMAGE: "progressive_4096", TEXT: "prose", UPLOAD: "progressive_4096", PREDICT_JSON: "photo_base64"}


def reference_case(kind: str) -> Case:
    return case(kind, REFERENCE[kind])


def worst_cases(kind: str) -> list[Case]:
    return [item for item in cases() if item.kind == kind and not item.honest]


def input_file(folder: Path, item: Case) -> Path:
    """The case's bytes in ``folder``, made on first use."""
    path = folder / f"{item.kind}-{item.name}.bin"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.make())
    return path
