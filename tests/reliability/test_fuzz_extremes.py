"""Hypothesis-generated extreme images and pathological texts through the real handler (issue 19): every answer
is a 2xx or a JSON 4xx, never a 5xx or an exception; images of any shape within the caps are answered, strips
beyond a side or the pixel cap are refused by name, and so are JPEGs of more scans than any encoder writes; texts
of any mix are embedded as the model reads them. Their memory is bounded in tests/bounds (child processes); here,
what comes back."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from inference.models.images import MAX_JPEG_SCANS, MAX_SIDE
from inference.models.metadata import DEFAULT_MAX_PIXELS
from inference.models.publishing import publish_version
from testing.api_events import http_event, json_event
from testing.store_helpers import REPO_ROOT
from testing.worst_inputs import PATHOLOGICAL_TEXTS
from tests.reliability.conftest import Invoke, ServeFrom

pytestmark = pytest.mark.slow
SIDES = (1, 2, 3, 7, 8, 9, 63, 64, 65, 1023, 1024, 1025, 4096, MAX_SIDE, MAX_SIDE + 1, 32768, 65536, 262144)
PIECES = ("1,2.", "!?", "\u4e00", "a", "a ", "e\u0301\u0301", "\U0001f600", "\x01", "word ", "\u00a0", "[SEP] ")


@pytest.fixture
def invoke(tmp_path: Path, serve_from: ServeFrom) -> Invoke:
    for name in ("digits", "minilm"):
        publish_version(REPO_ROOT / "models" / name, tmp_path / "models", name)
    return serve_from(tmp_path)


def _answer(response: dict[str, Any]) -> int:
    status = response["statusCode"]
    assert isinstance(status, int) and 200 <= status < 500, f"{status}: {response['body'][:300]}"
    if status >= 400:
        error = json.loads(response["body"])["error"]
        assert error["code"] and error["message"]
    return status


@st.composite
def pictures(draw: st.DrawFn) -> tuple[int, int, bytes]:
    """A white picture of an extreme shape with a black line along it (or a dot, or nothing), as PNG."""
    width, height = draw(st.sampled_from(SIDES)), draw(st.sampled_from(SIDES))
    if width * height > DEFAULT_MAX_PIXELS * 5 // 4:  # just past the cap is refusal enough, and cheap to make
        height = max(1, DEFAULT_MAX_PIXELS * 5 // 4 // width)
    image = Image.new(draw(st.sampled_from(["L", "RGB", "RGBA", "1"])), (width, height), "white")
    ink = draw(st.sampled_from(["line", "dot", "none"]))
    if ink == "line":
        ImageDraw.Draw(image).line([(0, height // 2), (width - 1, height // 2)], fill="black")
    elif ink == "dot":
        image.putpixel((width // 2, height // 2), 0 if image.mode in ("L", "1") else (0,) * len(image.mode))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return width, height, out.getvalue()


def test_extreme_image_shapes_are_answered_or_refused_by_name(invoke: Invoke) -> None:
    """Strips, slivers and single pixels: within the caps a prediction or a 400 (blank); past MAX_SIDE on a side
    or max_pixels in all, a 400 naming the limit."""
    seen: dict[int, int] = {}

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(picture=pictures())
    def one(picture: tuple[int, int, bytes]) -> None:
        width, height, png = picture
        event = http_event("POST", "/models/digits/predict", png, headers={"content-type": "image/png"})
        response = invoke(event)
        status = _answer(response)
        seen[status] = seen.get(status, 0) + 1
        if max(width, height) > MAX_SIDE:
            assert status == 400 and "each side may be at most" in response["body"], (width, height)
        elif width * height > DEFAULT_MAX_PIXELS:
            assert status == 400 and "pixels" in response["body"], (width, height)

    one()
    assert 200 in seen and 400 in seen, seen


@st.composite
def scanned_jpegs(draw: st.DrawFn) -> tuple[int, bytes]:
    """A progressive JPEG with a line of ink, one of its scans (any: DC, AC, refinement) repeated a number of
    times before its end, or a run of scans cut from any point: (its scan count, the file)."""
    side = draw(st.sampled_from([8, 64, 512, 4096]))
    image = Image.new(draw(st.sampled_from(["L", "RGB"])), (side, side), "white")
    ImageDraw.Draw(image).line([(0, side // 2), (side - 1, side // 2)], fill="black", width=max(1, side // 16))
    out = io.BytesIO()
    image.save(out, format="JPEG", progressive=True)
    data = out.getvalue()
    starts = [index for index in range(len(data) - 1) if data[index : index + 2] == b"\xff\xda"]
    bounds = [*starts, len(data) - 2]
    first = draw(st.integers(0, len(starts) - 1))
    last = draw(st.integers(first + 1, len(starts)))
    copies = draw(st.sampled_from([1, 2, MAX_JPEG_SCANS // (last - first), MAX_JPEG_SCANS, 5000]))
    repeated = data[bounds[first] : bounds[last]] * copies
    return len(starts) + (last - first) * copies, data[:-2] + repeated + data[-2:]


def test_jpegs_of_any_number_of_scans_are_answered_or_refused_by_name(invoke: Invoke) -> None:
    """Scans repeated (valid or not as a progression): up to MAX_JPEG_SCANS an answer or a 400, past it a 400
    naming the limit."""
    seen: dict[tuple[int, bool], int] = {}

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(picture=scanned_jpegs())
    def one(picture: tuple[int, bytes]) -> None:
        scans, jpeg = picture
        event = http_event("POST", "/models/digits/predict", jpeg, headers={"content-type": "image/jpeg"})
        response = invoke(event)
        status = _answer(response)
        over = scans > MAX_JPEG_SCANS
        seen[(status, over)] = seen.get((status, over), 0) + 1
        if over:
            assert status == 400 and f"more than {MAX_JPEG_SCANS} scans" in response["body"], scans

    one()
    assert (200, False) in seen and (400, True) in seen, seen


_texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=600).map("".join).filter(str.strip)


def test_pathological_texts_are_embedded_as_the_model_reads_them(invoke: Invoke) -> None:
    """Random mixes of the pathological pieces, up to max_text_bytes, in small batches: 200 with one unit vector
    per text, or a 400 naming the text (too long, blank)."""

    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(texts=st.lists(_texts.map(lambda text: text * 8), min_size=1, max_size=3))
    def one(texts: list[str]) -> None:
        response = invoke(json_event("POST", "/models/minilm/predict", {"inputs": texts}))
        if _answer(response) == 200:
            outputs = json.loads(response["body"])["outputs"]
            assert len(outputs) == len(texts)
            for output in outputs:
                assert abs(sum(value * value for value in output["embedding"]) - 1) < 1e-4

    one()


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL_TEXTS))
def test_each_worst_text_at_full_size_is_embedded(invoke: Invoke, name: str) -> None:
    """Each 16 KB pathological text of the memory table is answered 200 (a control-character text, which
    normalises to one word, too)."""
    response = invoke(json_event("POST", "/models/minilm/predict", {"inputs": [PATHOLOGICAL_TEXTS[name][1]]}))
    assert _answer(response) == 200, response["body"][:300]
