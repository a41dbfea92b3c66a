"""Pictures of digits for the upload tests, made from the shipped samples."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ui.digit_input import MAX_INTENSITY, load_samples


def digit_png(label: str, dark_ink: bool = True, size: int = 120, page: tuple[int, int] = (300, 260)) -> bytes:
    """A sample digit drawn large on a bigger page, as a scan or photo of it would look."""
    sample = next(sample for sample in load_samples() if sample.label == label)
    ink = np.asarray(sample.pixels, dtype=float) / MAX_INTENSITY * 255
    values = 255 - ink if dark_ink else ink
    digit = Image.fromarray(values.astype(np.uint8), mode="L").resize((size, size), Image.Resampling.BILINEAR)
    canvas = Image.new("L", page, 255 if dark_ink else 0)
    canvas.paste(digit, ((page[0] - size) // 2, (page[1] - size) // 2))
    return png(canvas)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
