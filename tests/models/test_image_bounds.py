"""Image bounds: each side is capped as well as the pixels, and the crop around the ink is shrunk before it is
padded to a square, so no canvas outgrows the model; the model still sees what it saw before."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from inference.errors import BadRequest
from inference.models import images
from inference.models.images import MAX_SIDE, ImageBytes, canvas_side
from inference.models.publishing import publish_version
from inference.models.registry import ModelRegistry
from testing.worst_inputs import line_png
from tests.models.factory import DIGITS_DIR, digit_png, digits_image_spec

SPEC = digits_image_spec()


def _padded_at_full_size(image: Any, _: int) -> Any:
    """What the server did before issue 19: pad the whole crop to a square, then resize."""
    side = max(image.size)
    canvas = Image.new(image.mode, (side, side), 0)
    canvas.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return canvas


def _preprocessed(data: bytes) -> Any:
    return images.preprocess(images.decode(data, SPEC, "x", ("PNG",), SPEC.max_pixels), SPEC, "x")


@pytest.mark.parametrize(("width", "height"), [(MAX_SIDE + 1, 64), (64, MAX_SIDE + 1), (32768, 512), (262144, 64)])
def test_a_side_longer_than_the_cap_is_refused_before_decoding(width: int, height: int) -> None:
    """A strip within the pixel cap but longer than MAX_SIDE on one side is a 400 naming the side limit."""
    with pytest.raises(BadRequest) as caught:
        images.decode(line_png(width, height), SPEC, "inputs[0]", ("PNG",), SPEC.max_pixels)
    assert caught.value.code == "invalid_image"
    assert f"inputs[0] is {width}x{height} pixels; each side may be at most {MAX_SIDE:,} pixels" in caught.value.message


def test_no_canvas_is_larger_than_the_models_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """An 8192x2048 strip whose ink spans its width is cropped, shrunk, then padded: the square is at most
    canvas_side(spec) on a side, not 8192x8192."""
    strip = line_png(8192, 2048)
    made: list[tuple[int, int]] = []
    new = Image.new

    def recording_new(mode: str, size: tuple[int, int], *args: Any, **kwargs: Any) -> Any:
        made.append(tuple(size))  # type: ignore[arg-type]
        return new(mode, size, *args, **kwargs)

    monkeypatch.setattr(Image, "new", recording_new)
    values = _preprocessed(strip)
    assert values.shape == (8, 8, 1)
    assert made and max(max(size) for size in made) <= canvas_side(SPEC) == 1024


@pytest.mark.parametrize("side", [96, 1200, 3000])
def test_shrinking_before_padding_keeps_what_the_model_sees(monkeypatch: pytest.MonkeyPatch, side: int) -> None:
    """Digits drawn 96 to 3000 pixels wide give the same 8x8 values as padding at full size did, to within
    0.1 on the model's 0-16 scale (exactly the same while the crop fits the canvas)."""
    pictures = [digit_png(image, side=side) for image in load_digits().images[:12]]
    now = [_preprocessed(data) for data in pictures]
    monkeypatch.setattr(images, "_squared", _padded_at_full_size)
    before = [_preprocessed(data) for data in pictures]
    difference = max(float(np.abs(a - b).max()) for a, b in zip(now, before, strict=True))
    assert difference <= (0.0 if side < canvas_side(SPEC) else 0.1)


def test_a_thin_line_across_a_wide_picture_is_answered(tmp_path: Any) -> None:
    """A white 8192x2048 picture with one black line (a legal size) gets an answer, not an error or a 500."""
    publish_version(DIGITS_DIR, tmp_path, "digits")
    answer = ModelRegistry(tmp_path, "digits").predict(None, [ImageBytes(line_png(8192, 2048), "image/png")])
    assert answer["outputs"][0]["label"] in [str(digit) for digit in range(10)]
