"""A JPEG's scans are counted before it is decoded: the decoder runs every scan over the whole picture, so a file of
thousands of tiny scans is refused (400 invalid_image) without ever reaching it; what encoders write is decoded."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageFile

from inference.errors import BadRequest
from inference.models import images
from inference.models.images import MAX_JPEG_SCANS, MAX_JPEG_SEGMENTS, jpeg_scans
from testing.worst_inputs import many_scans_jpeg
from tests.models.factory import digits_image_spec

SPEC = digits_image_spec()
_SCAN_MARKER = b"\xff\xda"


def jpeg(mode: str = "RGB", *, progressive: bool = True, side: int = 64) -> bytes:
    image = Image.new(mode, (side, side), "white")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", progressive=progressive)
    return buffer.getvalue()


def with_comment(data: bytes, payload: bytes) -> bytes:
    """``data`` with a COM segment holding ``payload`` right after its start (SOI)."""
    return data[:2] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]


def scan_samples() -> dict[str, tuple[bytes, int]]:
    """JPEGs and the scan count the limit must see for each (exact up to MAX_JPEG_SCANS + 1)."""
    progressive = jpeg()  # libjpeg's script for colour: 10 scans
    return {
        "baseline": (jpeg(progressive=False), 1),
        "progressive grey": (jpeg("L"), 6),
        "progressive colour": (progressive, 10),
        "progressive CMYK": (jpeg("CMYK"), 18),
        "at the limit": (many_scans_jpeg(64, MAX_JPEG_SCANS - 10), MAX_JPEG_SCANS),
        "one past the limit": (many_scans_jpeg(64, MAX_JPEG_SCANS - 9), MAX_JPEG_SCANS + 1),
        "20,000 more scans": (many_scans_jpeg(64, 20_000), MAX_JPEG_SCANS + 1),
        # The marker's two bytes in metadata, or after the picture's end (a phone's video), are no scans.
        "marker bytes in a comment": (with_comment(progressive, _SCAN_MARKER * 300), 10),
        "marker bytes after the end": (progressive + _SCAN_MARKER * 300, 10),
        # A walk that would have to read more segments than any encoder writes keeps the outright count.
        "endless segments": (
            with_comment(progressive[:-2] + b"\xff\xfe\x00\x02" * MAX_JPEG_SEGMENTS + b"\xff\xd9", _SCAN_MARKER * 150),
            160,
        ),
    }


@pytest.mark.parametrize(("name", "sample"), scan_samples().items())
def test_scans_are_counted_as_a_decoder_meets_them(name: str, sample: tuple[bytes, int]) -> None:
    """Encoders' files give their own scan count; marker bytes outside the picture's segments count for nothing."""
    data, expected = sample
    assert jpeg_scans(data) == expected, name


def record_decoding(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every image the decoder is asked to decode from now on (Pillow's ImageFile.load, which runs libjpeg)."""
    called: list[Any] = []
    load = ImageFile.ImageFile.load

    def recording_load(image: Any) -> Any:
        called.append(image)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    return called


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    return record_decoding(monkeypatch)


@pytest.mark.parametrize("extra", [MAX_JPEG_SCANS - 9, 20_000])
def test_a_jpeg_of_too_many_scans_never_reaches_the_decoder(loads: list[Any], extra: int) -> None:
    """A 4096x4096 progressive JPEG with one tiny scan repeated is a 400 invalid_image naming the limit, and
    Pillow's decoder is never called for it."""
    data = many_scans_jpeg(4096, extra)
    with pytest.raises(BadRequest) as caught:
        images.decode(data, SPEC, "inputs[0]", ("JPEG",), SPEC.max_pixels)
    assert caught.value.code == "invalid_image"
    assert caught.value.message.startswith(f"inputs[0] is a JPEG of more than {MAX_JPEG_SCANS} scans;")
    assert loads == []


@pytest.mark.parametrize(
    "name", ["baseline", "progressive grey", "progressive CMYK", "at the limit", "marker bytes after the end"]
)
def test_what_encoders_write_is_decoded(loads: list[Any], name: str) -> None:
    """Baseline and progressive files, up to MAX_JPEG_SCANS scans, are decoded."""
    data, _ = scan_samples()[name]
    image = images.decode(data, SPEC, "inputs[0]", ("JPEG",), SPEC.max_pixels)
    assert image.size == (64, 64) and len(loads) == 1


def test_a_jpeg_of_too_many_segments_before_its_picture_is_never_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow reads the segments before the first scan one by one in Python (6 MB of empty comments took 1.2 s to
    open): more than MAX_JPEG_SEGMENTS of them is a 400 invalid_image before Image.open; honest metadata passes."""
    opened: list[object] = []
    open_image = Image.open

    def recording_open(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        return open_image(*args, **kwargs)

    monkeypatch.setattr(Image, "open", recording_open)
    comments = b"\xff\xfe\x00\x02" * (MAX_JPEG_SEGMENTS + 1)
    flood = jpeg()[:2] + comments + jpeg()[2:]
    assert images.jpeg_header_segments(flood) == MAX_JPEG_SEGMENTS + 1
    with pytest.raises(BadRequest) as caught:
        images.decode(flood, SPEC, "inputs[0]", ("JPEG",), SPEC.max_pixels)
    assert caught.value.code == "invalid_image" and f"more than {MAX_JPEG_SEGMENTS} segments" in caught.value.message
    assert opened == []
    metadata = with_comment(jpeg(), b"x" * 60_000)  # one large segment, as EXIF or an ICC profile's chunk
    assert images.jpeg_header_segments(metadata) < 20
    images.decode(metadata, SPEC, "inputs[0]", ("JPEG",), SPEC.max_pixels)
