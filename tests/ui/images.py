"""Pictures of digits for the upload tests, made from the example model's samples."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.ui.example_model import VALUE_RANGE, pixels


def digit_png(label: str, dark_ink: bool = True, size: int = 120, page: tuple[int, int] = (300, 260)) -> bytes:
    """A sample digit drawn large on a bigger page, as a scan or photo of it would look."""
    low, high = VALUE_RANGE
    ink = (np.asarray(pixels(label), dtype=float) - low) / (high - low) * 255
    values = 255 - ink if dark_ink else ink
    digit = Image.fromarray(values.astype(np.uint8), mode="L").resize((size, size), Image.Resampling.BILINEAR)
    canvas = Image.new("L", page, 255 if dark_ink else 0)
    canvas.paste(digit, ((page[0] - size) // 2, (page[1] - size) // 2))
    return png(canvas)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
