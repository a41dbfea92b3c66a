"""An upload's size is checked before it is decoded: bytes first, then the pixels its header claims, against what
the API takes and what the model decodes; the page shows a small copy, never the full-size picture."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from inference.models import images
from testing.worst_inputs import line_png, many_scans_jpeg, transparent_drawing_png
from tests.models.test_jpeg_scans import record_decoding, scan_samples
from tests.ui.fakes import DIGITS, FakeApi
from tests.ui.images import digit_png
from ui import digit_input
from ui.api_client import ModelCatalog


def _upload(app: AppTest, data: bytes, name: str = "upload.png") -> None:
    app.run()
    app.segmented_control(key="input_mode_digits").set_value("Upload").run()
    app.file_uploader(key="digit_upload").set_value((name, data, "image/png")).run()


def test_a_picture_with_too_many_pixels_is_refused_before_it_is_decoded(app: AppTest, fake_api: FakeApi) -> None:
    """A 445 KB PNG of 12000x12000 pixels: an error naming the size and the limit, no picture, nothing to send."""
    _upload(app, line_png(12000, 12000, "RGB"))
    _assert_refused(
        app,
        fake_api,
        "This picture is 12000x12000 pixels; the model takes at most 16,777,216 pixels, each side at most 8,192. "
        "Send a smaller picture.",
    )


def _assert_refused(app: AppTest, fake_api: FakeApi, message: str) -> None:
    """The page shows ``message`` as an error, no picture, and nothing can be sent."""
    assert not app.exception
    assert not app.image
    assert app.error[0].value == message
    assert app.button(key="predict").disabled
    assert not fake_api.predict_calls


def test_a_file_larger_than_one_request_is_refused_by_its_size(app: AppTest) -> None:
    """Over 4.4 MB (base64 in a 6 MB request), the file is refused by its byte count alone."""
    _upload(app, b"\x89PNG" + b"\0" * digit_input.MAX_UPLOAD_BYTES)
    assert app.error[0].value.startswith("This file is 4.4 MB; one request to the API carries at most 4.4 MB")
    assert app.button(key="predict").disabled


def test_a_jpeg_of_too_many_scans_is_refused_before_it_is_decoded(
    app: AppTest, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 759 KB progressive JPEG of 20,010 scans (20 s to decode): an error naming the limit, no preview, nothing
    to send, and Pillow's decoder never called."""
    decoded = record_decoding(monkeypatch)
    _upload(app, many_scans_jpeg(4096, 20_000), "upload.jpg")
    _assert_refused(
        app,
        fake_api,
        "This JPEG holds more than 100 scans; no encoder writes so many (a progressive JPEG has about 10). "
        "Save the picture again and send that.",
    )
    assert decoded == []


def test_a_jpeg_of_too_many_segments_before_its_picture_is_refused_unopened(app: AppTest, fake_api: FakeApi) -> None:
    """Thousands of empty comment segments before the picture (Pillow reads each in Python): refused by the count."""
    picture = many_scans_jpeg(64, 0)
    _upload(app, picture[:2] + b"\xff\xfe\x00\x02" * 2_000 + picture[2:], "upload.jpg")
    _assert_refused(
        app,
        fake_api,
        "This JPEG holds more than 1000 segments before its picture; encoders write a few dozen. "
        "Save the picture again and send that.",
    )


def test_the_page_counts_scans_as_the_server_does() -> None:
    """The UI's copy of the server's scan count (the two images share no package) agrees with it on every
    sample, and has the same limits."""
    assert digit_input.MAX_JPEG_SCANS == images.MAX_JPEG_SCANS
    assert digit_input.MAX_JPEG_SEGMENTS == images.MAX_JPEG_SEGMENTS
    for name, (data, expected) in scan_samples().items():
        assert digit_input.jpeg_scans(data) == images.jpeg_scans(data) == expected, name
        assert digit_input.jpeg_header_segments(data) == images.jpeg_header_segments(data), name


def test_the_models_own_pixel_cap_is_the_one_applied(app: AppTest, fake_api: FakeApi) -> None:
    """A model whose metadata says max_pixels 10,000 refuses a 300x260 picture in the page already."""
    small_cap = replace(DIGITS, input=replace(DIGITS.input, max_pixels=10_000))
    fake_api.catalog = ModelCatalog(default_model="digits", models=[small_cap])
    _upload(app, digit_png("7"))
    assert "the model takes at most 10,000 pixels" in app.error[0].value


def test_the_page_shows_a_small_copy_of_a_large_picture() -> None:
    """A 4000x3000 JPEG is previewed from a copy at most PREVIEW_SIDE pixels on its longer side."""
    image = Image.new("RGB", (4000, 3000), "white")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    preview = digit_input.upload_preview(buffer.getvalue())
    assert preview is not None and max(preview.size) <= digit_input.PREVIEW_SIDE
    assert digit_input.upload_preview(b"not a picture") is None


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_a_transparent_picture_is_previewed_without_a_full_size_copy(
    monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """A 2048x2048 drawing with an alpha band is shrunk a band at a time: Pillow's own shrinking would first copy
    all of it premultiplied by its alpha (RGBa, La); the preview still shows the ink."""
    premultiplied: list[tuple[int, int]] = []
    convert = Image.Image.convert

    def recording_convert(image: Any, target: str | None = None, *args: Any, **kwargs: Any) -> Any:
        if target in ("RGBa", "La"):
            premultiplied.append(image.size)
        return convert(image, target, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "convert", recording_convert)
    preview = digit_input.upload_preview(transparent_drawing_png(2048, mode))
    assert preview is not None and max(preview.size) <= digit_input.PREVIEW_SIDE
    assert max(max(size) for size in premultiplied) <= 2 * digit_input.PREVIEW_SIDE
    opacity = preview.getchannel("A")
    assert opacity.getextrema() == (0, 255)  # the transparent page and the opaque ink both survive


def test_the_api_client_reads_the_models_pixel_cap() -> None:
    """GET /models' image block carries max_pixels; the client keeps it on the input spec."""
    from ui.api_client import _input_spec

    spec = _input_spec(
        {"kind": "image", "name": "input", "shape": [None, 64], "dtype": "float32", "image": {"max_pixels": 1234}}
    )
    assert spec.max_pixels == 1234
