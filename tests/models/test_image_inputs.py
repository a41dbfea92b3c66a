"""Image inputs on the digits example: PNG/JPEG decoded and preprocessed as its metadata declares; bad images."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from inference.errors import BadRequest
from inference.models.images import ImageBytes
from inference.models.publishing import publish_version
from inference.models.registry import ModelRegistry
from tests.models.factory import DIGITS_DIR, digit_png, tiny_model_dir


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    models = tmp_path_factory.mktemp("models")
    publish_version(DIGITS_DIR, models, "digits")
    return ModelRegistry(models, "digits")


def _labels(registry: ModelRegistry, inputs: list[object]) -> list[str]:
    return [output["label"] for output in registry.predict(None, inputs)["outputs"]]


def test_uploaded_digit_images_get_the_labels_of_their_pixels(registry: ModelRegistry) -> None:
    """PNGs of data-set digits mostly get the label the model gives their own 8x8 pixels, and mostly the truth."""
    digits = load_digits()
    images, targets = digits.images[-60:], digits.target[-60:]
    from_pngs = _labels(registry, [ImageBytes(digit_png(image), "image/png") for image in images])
    from_pixels = _labels(registry, [image.reshape(64).tolist() for image in images])
    agree = np.mean([a == b for a, b in zip(from_pngs, from_pixels, strict=True)])
    right = np.mean([label == str(truth) for label, truth in zip(from_pngs, targets, strict=True)])
    assert agree >= 0.85
    assert right >= 0.85


@pytest.mark.parametrize(("image_format", "mode"), [("PNG", "RGBA"), ("PNG", "RGB"), ("JPEG", "RGB"), ("JPEG", "L")])
def test_json_base64_images_of_any_colour_mode_are_accepted(
    registry: ModelRegistry, image_format: str, mode: str
) -> None:
    """{"image": base64} (or a data URL) works for PNG and JPEG, grey or colour, with or without alpha."""
    digit = load_digits().images[0]  # a 0
    encoded = base64.b64encode(digit_png(digit, image_format=image_format, mode=mode)).decode()
    url = f"data:image/{image_format.lower()};base64,{encoded}"
    assert _labels(registry, [{"image": encoded}, {"image": url}]) == ["0", "0"]


def test_images_and_pixel_rows_mix_in_one_batch(registry: ModelRegistry) -> None:
    """A batch may hold images and 64-number rows; each gets its own answer, in order."""
    digits = load_digits()
    png = ImageBytes(digit_png(digits.images[1]), "image/png")
    assert _labels(registry, [digits.data[0].tolist(), png]) == ["0", "1"]


def test_transparent_drawings_count_as_ink_on_white(registry: ModelRegistry) -> None:
    """A canvas drawing (black strokes on transparent pixels) is read as dark ink on white."""
    digit = load_digits().images[0]
    alpha = Image.fromarray((digit / 16 * 255).astype(np.uint8), mode="L").resize((80, 80))
    drawing = Image.new("RGBA", (80, 80), (0, 0, 0, 0))
    drawing.putalpha(alpha)
    out = io.BytesIO()
    drawing.save(out, format="PNG")
    assert _labels(registry, [ImageBytes(out.getvalue(), "image/png")]) == ["0"]


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims the given size: a decompression bomb if it were decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def _truncated_png() -> bytes:
    data = digit_png(load_digits().images[0], side=400)
    return data[: len(data) // 2]


def _jpeg() -> bytes:
    return digit_png(load_digits().images[0], image_format="JPEG")


def _blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (50, 50), 255).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("item", "wanted"),
    [
        (ImageBytes(b"not an image at all", "image/png"), "inputs[0] is not a PNG image"),
        (ImageBytes(_jpeg(), "image/png"), "inputs[0] is not a PNG image"),
        (ImageBytes(_truncated_png(), "image/png"), "inputs[0] is a truncated or corrupt PNG image"),
        (ImageBytes(_png_claiming(5000, 5000), "image/png"), "inputs[0] is 5000x5000 pixels; at most 16,777,216"),
        (ImageBytes(_png_claiming(100_000, 100_000), "image/png"), "inputs[0] has too many pixels"),
        (ImageBytes(_blank_png(), "image/png"), "inputs[0] looks blank"),
        ({"image": "%%% not base64"}, "inputs[0].image is not valid base64"),
        ({"image": "aGVsbG8=", "label": "3"}, 'inputs[0] must be {"image": "<base64 PNG or JPEG>"}'),
        ({"image": 7}, 'inputs[0] must be {"image"'),
        ({"image": "data:image/png,abc"}, "not base64-encoded"),
    ],
)
def test_bad_images_are_400s_naming_the_problem(registry: ModelRegistry, item: object, wanted: str) -> None:
    """Non-images, the wrong format, truncated files, huge dimensions and blank pictures are 400 invalid_image."""
    with pytest.raises(BadRequest) as caught:
        registry.predict(None, [item])
    assert caught.value.code == "invalid_image"
    assert wanted in caught.value.message


def test_a_batch_of_huge_images_is_refused_before_decoding_them_all(registry: ModelRegistry) -> None:
    """Decoded pixels are also capped per request, so many large images cannot add up to minutes of work."""
    big = ImageBytes(digit_png(load_digits().images[0], side=4000), "image/png")
    with pytest.raises(BadRequest) as caught:
        registry.predict(None, [big] * 6)
    assert "too many pixels for one request" in caught.value.message


def test_text_sent_to_an_image_model_is_refused(registry: ModelRegistry) -> None:
    """A string is text, which an image model does not take: 400 saying so."""
    with pytest.raises(BadRequest) as caught:
        registry.predict(None, ["a sentence"])
    assert caught.value.message == "inputs[0] is text, but this model takes images or lists of numbers"


def test_images_sent_to_a_tensor_model_are_refused(tmp_path: Path) -> None:
    """A tensor-only model answers 400 for an image input, naming it."""
    publish_version(tiny_model_dir(tmp_path / "tiny"), tmp_path / "models", "tiny")
    registry = ModelRegistry(tmp_path / "models", "tiny")
    for item in ({"image": "aGVsbG8="}, ImageBytes(b"x", "image/png")):
        with pytest.raises(BadRequest) as caught:
            registry.predict(None, [item])
        assert caught.value.message == "inputs[0] is an image, but this model takes tensors: lists of numbers"
    with pytest.raises(BadRequest) as caught:
        registry.predict(None, ["text"])
    assert "inputs[0] is text" in caught.value.message
