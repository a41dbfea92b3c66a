"""Predictions, the model listing, health and the OpenAPI document through payload-2.0 events."""

from __future__ import annotations

from typing import Any

import pytest
from sklearn.datasets import load_digits

from inference.api.http_io import PREDICT_FIELDS
from inference.jobs.service import JOB_FIELDS
from inference.routes import ROUTES
from testing.api_events import http_event, json_event
from tests.handler.conftest import Invoke, body_json


@pytest.fixture(scope="module")
def digits() -> Any:
    return load_digits()


def test_predict_default_model_classifies_a_digit(invoke: Invoke, digits: Any) -> None:
    """POST /predict runs the default model on a batch and answers model, version, outputs and timing."""
    batch = digits.data[:4].tolist()
    response = invoke(json_event("POST", "/predict", {"inputs": batch}))
    assert response["statusCode"] == 200
    result = body_json(response)
    assert result["model"] == "digits"
    assert result["version"]
    assert len(result["outputs"]) == 4
    assert sum(out["label"] == str(digits.target[i]) for i, out in enumerate(result["outputs"])) >= 3
    assert abs(sum(result["outputs"][0]["probabilities"].values()) - 1.0) < 1e-3
    assert {"inference", "total"} <= set(result["timing_ms"])


def test_predict_named_model_uses_the_explicit_route(invoke: Invoke, digits: Any) -> None:
    """POST /models/digits/predict (explicit route key, path parameter) answers like /predict."""
    event = json_event(
        "POST", "/models/digits/predict", {"inputs": [digits.data[0].tolist()]}, path_parameters={"name": "digits"}
    )
    assert event["routeKey"] == "POST /models/{name}/predict"
    response = invoke(event)
    assert response["statusCode"] == 200
    assert body_json(response)["model"] == "digits"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/models/nope/predict", 404, "model_not_found"),
        ("/models/..%2F..%2Fetc/predict", 400, "invalid_model_name"),
        ("/models/%2e%2e/predict", 400, "invalid_model_name"),
    ],
)
def test_unknown_model_or_traversal_name_is_a_4xx(invoke: Invoke, path: str, status: int, code: str) -> None:
    """An unknown model is 404; a path-traversal name (still percent-encoded in the path) is 400."""
    response = invoke(json_event("POST", path, {"inputs": [[0.0] * 64]}))
    assert response["statusCode"] == status
    assert body_json(response)["error"]["code"] == code


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"inputs": []},
        {"inputs": [[0.0] * 63]},
        {"inputs": [["a"] * 64]},
        {"inputs": [[True] * 64]},
        {"inputs": "not a list"},
        {"inputs": [[0.0] * 64], "version": 3.5},
        {"inputs": [[0.0] * 64], "version": True},
    ],
)
def test_inputs_of_the_wrong_shape_or_type_are_400(invoke: Invoke, payload: dict[str, Any]) -> None:
    """Inputs are validated against the model's metadata before it runs."""
    response = invoke(json_event("POST", "/predict", payload))
    assert response["statusCode"] == 400
    assert body_json(response)["error"]["code"] in {"invalid_input", "invalid_version"}


def test_predict_needs_json(invoke: Invoke) -> None:
    """A prediction request that is not JSON gets 415; malformed JSON gets 400."""
    wrong_type = invoke(http_event("POST", "/predict", "1,2,3", headers={"content-type": "text/csv"}))
    malformed = invoke(http_event("POST", "/predict", "{", headers={"content-type": "application/json"}))
    assert wrong_type["statusCode"] == 415
    assert malformed["statusCode"] == 400


def test_unknown_version_is_404(invoke: Invoke) -> None:
    """Asking for a version that is not on the file system answers 404."""
    response = invoke(json_event("POST", "/predict", {"inputs": [[0.0] * 64], "version": "999999"}))
    assert response["statusCode"] == 404


def test_models_lists_versions_and_serving_one(invoke: Invoke) -> None:
    """GET /models names each model, its versions, the one being served and its input description."""
    listing = body_json(invoke(http_event("GET", "/models")))
    assert listing["default_model"] == "digits"
    (model,) = listing["models"]
    assert model["name"] == "digits"
    assert model["serving"] in model["versions"]
    assert model["input"]["shape"][-1] == 64


def test_health_reports_store_and_models(invoke: Invoke) -> None:
    """GET /health answers 200 with the store's and the models' status."""
    response = invoke(http_event("GET", "/health"))
    assert response["statusCode"] == 200
    health = body_json(response)
    assert health["status"] == "ok"
    assert health["store"]["ok"] and health["models"]["ok"]


def test_health_reports_loaded_models_per_instance(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """What one instance has loaded is under "instance", named by its log stream; which version each model serves is
    a shared fact (every instance derives it from the file system), among the models' status."""
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/02/[$LATEST]abc")
    assert invoke(json_event("POST", "/predict", {"inputs": [[0.0] * 64]}))["statusCode"] == 200
    health = body_json(invoke(http_event("GET", "/health")))
    assert health["instance"]["id"] == "2026/12/02/[$LATEST]abc"
    assert health["instance"]["loaded"] == [{"name": "digits", "version": health["models"]["serving"]["digits"]}]
    assert "loaded" not in health["models"]


def test_health_states_the_message_size_limit(invoke: Invoke) -> None:
    """/health tells clients the largest message text the API takes, in bytes, so a UI can say it up front."""
    health = body_json(invoke(http_event("GET", "/health")))
    assert health["limits"] == {"max_text_bytes": 64}  # the test settings' limit


def test_openapi_document_covers_the_route_table(invoke: Invoke) -> None:
    """GET /openapi.json documents exactly the routes in the route table."""
    document = body_json(invoke(http_event("GET", "/openapi.json")))
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert documented == {(route.method, route.path) for route in ROUTES}
    assert document["openapi"].startswith("3.")


def test_openapi_document_lists_the_fields_the_bodies_may_hold(invoke: Invoke) -> None:
    """A predict body and a job body have exactly the fields their routes accept (any other is a 400), and a
    version may be a whole number."""
    document = body_json(invoke(http_event("GET", "/openapi.json")))
    predict = document["components"]["schemas"]["PredictRequest"]
    job = document["paths"]["/jobs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    for schema, fields in ((predict, PREDICT_FIELDS), (job, JOB_FIELDS)):
        assert tuple(schema["properties"]) == fields and schema["additionalProperties"] is False
        assert schema["properties"]["version"]["type"] == ["string", "integer"]
