"""POST /predict bodies through payload-2.0 events: raw images, JSON images and texts, request fields and encodings."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sklearn.datasets import load_digits

from inference.models.publishing import publish_version
from testing.api_events import http_event, json_event
from tests.handler.conftest import EXAMPLE_MODEL, Invoke, body_json
from tests.models.factory import digit_png, linked_copy, minilm_dir

TEXT_PATH = "/models/minilm/predict"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Both examples: digits (images or pixels) and MiniLM (texts)."""
    publish_version(EXAMPLE_MODEL, tmp_path / "models", "digits")
    linked_copy(minilm_dir(), tmp_path / "models" / "minilm" / "1")
    return tmp_path


def _error(response: dict[str, object]) -> dict[str, str]:
    error: dict[str, str] = body_json(response)["error"]
    return error


def test_a_raw_png_body_is_one_image(invoke: Invoke) -> None:
    """curl --data-binary @digit.png -H 'content-type: image/png' $URL/predict classifies the picture."""
    png = digit_png(load_digits().images[0])
    response = invoke(http_event("POST", "/predict", png, headers={"content-type": "image/png"}))
    assert response["statusCode"] == 200
    assert [output["label"] for output in body_json(response)["outputs"]] == ["0"]


def test_a_raw_image_body_can_pin_a_version_in_the_query(invoke: Invoke) -> None:
    """?version= pins the version when the body is an image; an unknown one is 404."""
    png = digit_png(load_digits().images[0])
    ok = invoke(http_event("POST", "/predict", png, headers={"content-type": "image/png"}, query="version=2"))
    assert body_json(ok)["version"] == "2"
    missing = invoke(http_event("POST", "/predict", png, headers={"content-type": "image/png"}, query="version=9"))
    assert missing["statusCode"] == 404


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        ("image/jpeg", digit_png(load_digits().images[0]), 400, "invalid_image"),
        ("image/png", b"GIF89a not a png", 400, "invalid_image"),
        ("image/gif", b"GIF89a", 415, "unsupported_media_type"),
        ("text/plain", b"hello", 415, "unsupported_media_type"),
    ],
)
def test_wrong_content_types_are_4xx(invoke: Invoke, content_type: str, body: bytes, status: int, code: str) -> None:
    """A body that is not what its content type says, or a type /predict does not take, is a 4xx JSON error."""
    response = invoke(http_event("POST", "/predict", body, headers={"content-type": content_type}))
    assert response["statusCode"] == status
    assert _error(response)["code"] == code


def test_an_empty_image_body_is_400(invoke: Invoke) -> None:
    """content-type image/png with no body is a 400 that asks for the image."""
    response = invoke(http_event("POST", "/predict", b"", headers={"content-type": "image/png"}))
    assert response["statusCode"] == 400
    assert "send one image/png image" in _error(response)["message"]


def test_an_image_to_a_text_model_is_400(invoke: Invoke) -> None:
    """A text model refuses images, raw or in JSON, saying it takes text."""
    png = digit_png(load_digits().images[0])
    raw = invoke(http_event("POST", TEXT_PATH, png, headers={"content-type": "image/png"}))
    in_json = invoke(json_event("POST", TEXT_PATH, {"inputs": [{"image": base64.b64encode(png).decode()}]}))
    for response in (raw, in_json):
        assert response["statusCode"] == 400
        assert "this model takes text, not images" in _error(response)["message"]


def test_texts_get_embeddings_with_their_dimension(invoke: Invoke) -> None:
    """POST /models/minilm/predict with texts answers one 384-float embedding each, and the dimension."""
    response = invoke(json_event("POST", TEXT_PATH, {"inputs": ["a sentence", "another one"]}))
    assert response["statusCode"] == 200
    answer = body_json(response)
    assert answer["dimension"] == 384
    assert [len(output["embedding"]) for output in answer["outputs"]] == [384, 384]


def test_base64_embeddings_on_request(invoke: Invoke) -> None:
    """ "encoding_format": "base64" answers 4 x 384 bytes of float32 per text; anything else is a 400."""
    response = invoke(json_event("POST", TEXT_PATH, {"inputs": ["hi"], "encoding_format": "base64"}))
    assert len(base64.b64decode(body_json(response)["outputs"][0]["embedding"])) == 384 * 4
    bad = invoke(json_event("POST", TEXT_PATH, {"inputs": ["hi"], "encoding_format": "float16"}))
    assert bad["statusCode"] == 400
    assert _error(bad)["code"] == "invalid_encoding_format"


def test_the_listing_states_kind_and_dimension(invoke: Invoke) -> None:
    """GET /models tells clients each model's input kind, task and embedding dimension."""
    models = {model["name"]: model for model in body_json(invoke(http_event("GET", "/models")))["models"]}
    assert (models["minilm"]["input"]["kind"], models["minilm"]["dimension"]) == ("text", 384)
    assert (models["digits"]["input"]["kind"], models["digits"]["task"]) == ("image", "classification")


def test_unknown_fields_are_refused_by_name(invoke: Invoke) -> None:
    """A field such as "model" is not silently ignored: 400 unknown_field naming it."""
    response = invoke(json_event("POST", "/predict", {"inputs": [[0] * 64], "model": "digits", "top_k": 3}))
    assert response["statusCode"] == 400
    error = _error(response)
    assert error["code"] == "unknown_field"
    assert '"model", "top_k"' in error["message"]
    assert "/models/{name}/predict" in error["message"]


def test_a_number_version_means_its_text(invoke: Invoke) -> None:
    """ "version": 2 is the listed version "2"; a number that is no version is a 404 naming it."""
    assert body_json(invoke(json_event("POST", "/predict", {"inputs": [[0] * 64], "version": 2})))["version"] == "2"
    missing = invoke(json_event("POST", "/predict", {"inputs": [[0] * 64], "version": 7}))
    assert missing["statusCode"] == 404
    assert _error(missing) == {"code": "version_not_found", "message": "model 'digits' has no version '7'"}


def test_a_json_body_with_a_byte_order_mark_is_accepted(invoke: Invoke) -> None:
    """A UTF-8 BOM before the JSON (as some Windows tools write) is ignored."""
    body = b"\xef\xbb\xbf" + json.dumps({"inputs": [[0] * 64]}).encode()
    response = invoke(http_event("POST", "/predict", body, headers={"content-type": "application/json"}))
    assert response["statusCode"] == 200
