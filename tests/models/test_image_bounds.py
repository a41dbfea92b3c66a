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


def _composited_whole(image: Any, mode: str) -> Any:
    """What the server did before: the whole picture composited over white in RGBA, then converted."""
    rgba = image.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert(mode)


def _transparent_pictures() -> dict[str, Any]:
    """A digit as coloured ink of partial opacity, and in every PNG mode that can carry transparency."""
    digit = Image.fromarray((load_digits().images[3] / 16 * 255).astype(np.uint8), mode="L")
    opacity = digit.resize((90, 130), Image.Resampling.BILINEAR)
    rgba = Image.new("RGBA", opacity.size, (40, 90, 160, 0))
    rgba.putalpha(opacity)
    la = Image.new("LA", opacity.size, (70, 0))
    la.putalpha(opacity)
    levels = opacity.point(lambda value: value // 32).convert("P")  # eight palette entries
    levels.putpalette([channel for entry in range(8) for channel in (255 - 30 * entry,) * 3])
    palette_opacities, one_transparent = levels.copy(), levels.copy()
    palette_opacities.info["transparency"] = bytes(36 * entry for entry in range(8))
    one_transparent.info["transparency"] = 0
    grey_key, rgb_key = opacity.copy(), opacity.convert("RGB")
    grey_key.info["transparency"] = 0
    rgb_key.info["transparency"] = (0, 0, 0)
    return {
        "RGBA": rgba,
        "LA": la,
        "P, an opacity per entry": palette_opacities,
        "P, one transparent entry": one_transparent,
        "L, a colour key": grey_key,
        "RGB, a colour key": rgb_key,
    }


@pytest.mark.parametrize("mode", ["L", "RGB"])
@pytest.mark.parametrize("name", list(_transparent_pictures()))
def test_flattening_strip_by_strip_gives_what_the_whole_picture_gave(
    monkeypatch: pytest.MonkeyPatch, name: str, mode: str
) -> None:
    """Transparent pixels become white exactly as compositing the whole picture at once made them, whatever the
    strips (here of 1,000 pixels: 11 rows, the last strip shorter)."""
    monkeypatch.setattr(images, "FLATTEN_STRIP_PIXELS", 1000)
    picture = _transparent_pictures()[name]
    flat = images._flattened(picture, mode)
    assert flat.mode == mode
    assert flat.tobytes() == _composited_whole(picture, mode).tobytes()


def test_no_full_size_rgba_copy_is_made_of_a_transparent_picture(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 2048x2048 RGBA drawing is flattened without any RGBA image larger than a strip (4 MB): three full-size
    copies of a 4096x4096 picture took 192 MB."""
    made: list[tuple[str, int]] = []
    convert, new = Image.Image.convert, Image.new

    def recording_convert(image: Any, mode: str | None = None, *args: Any, **kwargs: Any) -> Any:
        made.append((str(mode), image.width * image.height))
        return convert(image, mode, *args, **kwargs)

    def recording_new(mode: str, size: tuple[int, int], *args: Any, **kwargs: Any) -> Any:
        made.append((mode, size[0] * size[1]))
        return new(mode, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "convert", recording_convert)
    monkeypatch.setattr(Image, "new", recording_new)
    drawing = new("RGBA", (2048, 2048), (0, 0, 0, 0))
    drawing.paste((0, 0, 0, 255), (1000, 300, 1100, 1700))
    values = images.preprocess(drawing, SPEC, "x")
    assert values.shape == (8, 8, 1)
    assert max(pixels for mode, pixels in made if mode == "RGBA") <= images.FLATTEN_STRIP_PIXELS
