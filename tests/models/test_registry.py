"""The model registry: loading, serving, hot swaps, the session cache, and its errors."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from inference.errors import BadModelOutput, BadRequest, ModelUnavailable, NotFound
from inference.models.metadata import METADATA_FILE, MODEL_FILE, ModelMetadata
from inference.models.pointer import write_latest
from inference.models.publishing import TEMP_PREFIX, publish_version
from inference.models.registry import ModelRegistry, natural_key
from inference.models.runtime import LoadedModel
from tests.models.conftest import PublishTiny
from tests.models.factory import (
    DIGITS_DIR,
    FIRST_WINS,
    SECOND_WINS,
    FakeClock,
    tiny_metadata,
    tiny_model_dir,
    tiny_onnx,
    write_model_dir,
)


@pytest.fixture
def digits_registry(models_dir: Path) -> ModelRegistry:
    publish_version(DIGITS_DIR, models_dir, "digits")
    return ModelRegistry(models_dir, "digits")


def _labels(answer: dict[str, object]) -> list[str]:
    outputs = answer["outputs"]
    assert isinstance(outputs, list)
    return [output["label"] for output in outputs]


def test_digits_model_is_mostly_right_on_the_held_out_split(digits_registry: ModelRegistry) -> None:
    """The served example model gets at least 95% of the held-out split (same split as the training script)."""
    images, digits = load_digits(return_X_y=True)
    metadata = json.loads((DIGITS_DIR / METADATA_FILE).read_text())
    split = metadata["provenance"]["split"]
    _, x_test, _, y_test = train_test_split(
        images, digits, test_size=split["test_size"], random_state=split["random_state"], stratify=digits
    )
    predicted: list[str] = []
    for start in range(0, len(x_test), 200):
        answer = digits_registry.predict("digits", x_test[start : start + 200].tolist())
        predicted += _labels(answer)
    accuracy = np.mean([label == str(truth) for label, truth in zip(predicted, y_test, strict=True)])
    assert accuracy >= 0.95
    assert accuracy == pytest.approx(metadata["provenance"]["metrics"]["accuracy"], abs=1e-4)


def test_predict_answers_in_the_documented_shape(digits_registry: ModelRegistry) -> None:
    """One classifier output per input, probabilities over all labels summing to one, the version and timings."""
    samples = json.loads((DIGITS_DIR / METADATA_FILE).read_text())["samples"]
    answer = digits_registry.predict(None, [sample["input"] for sample in samples[:3]])
    assert answer["model"] == "digits"
    assert answer["version"] == "2"
    assert len(answer["outputs"]) == 3
    for output in answer["outputs"]:
        assert set(output["probabilities"]) == {str(digit) for digit in range(10)}
        assert sum(output["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert output["label"] == max(output["probabilities"], key=output["probabilities"].get)
    assert set(answer["timing_ms"]) == {"preprocessing", "inference", "total"}
    assert 0 <= answer["timing_ms"]["inference"] <= answer["timing_ms"]["total"]
    json.dumps(answer)  # plain JSON types only


def test_an_8x8_image_gets_the_same_answer_as_its_flat_form(digits_registry: ModelRegistry) -> None:
    """The digits metadata accepts 8x8 nested images as well as flat rows of 64."""
    flat = json.loads((DIGITS_DIR / METADATA_FILE).read_text())["samples"][3]["input"]
    image = [flat[row * 8 : row * 8 + 8] for row in range(8)]
    first, second = digits_registry.predict(None, [flat, image])["outputs"]
    assert first == second


def test_model_is_loaded_once_and_metrics_are_reported(models_dir: Path) -> None:
    """Repeated predictions reuse one session: one model_load_ms metric, one inference_ms per request, each naming
    the model and version."""
    version_dir = publish_version(DIGITS_DIR, models_dir, "digits")
    metrics: list[tuple[str, float, str, str]] = []
    registry = ModelRegistry(models_dir, "digits", on_metric=lambda *metric: metrics.append(metric))
    for _ in range(3):
        registry.predict("digits", [[0] * 64])
    assert [name for name, *_ in metrics] == ["model_load_ms", "inference_ms", "inference_ms", "inference_ms"]
    assert all(value >= 0 for _, value, _, _ in metrics)
    assert {(model, version) for _, _, model, version in metrics} == {("digits", version_dir.name)}


def test_list_models_describes_each_model(digits_registry: ModelRegistry, publish_tiny: PublishTiny) -> None:
    """GET /models data: versions newest first, the served version, input, labels, description, samples."""
    publish_tiny("2")
    publish_tiny("10", variant="b")
    listing = digits_registry.list_models()
    assert listing["default_model"] == "digits"
    digits, tiny = listing["models"]
    assert digits["name"] == "digits"
    assert digits["versions"] == ["2"]
    assert digits["serving"] == "2"
    assert digits["input"]["shape"] == [None, 64]
    assert digits["labels"] == [str(digit) for digit in range(10)]
    assert digits["description"]
    assert len(digits["samples"]) == 10
    assert tiny["versions"] == ["10", "2"]
    assert tiny["serving"] == "10"
    json.dumps(listing)


def test_list_models_of_an_empty_data_folder(tmp_path: Path) -> None:
    """Before anything is published there are no models, and status is not ok."""
    registry = ModelRegistry(tmp_path / "missing", "digits")
    assert registry.list_models() == {"default_model": "digits", "models": []}
    assert registry.status()["ok"] is False


def test_status_reports_what_is_loaded(digits_registry: ModelRegistry) -> None:
    """status() says ok once the default model has a version, and lists loaded sessions."""
    assert digits_registry.status()["ok"] is True
    assert digits_registry.status()["loaded"] == []
    digits_registry.predict(None, [[0] * 64])
    status = digits_registry.status()
    assert status["loaded"] == [{"name": "digits", "version": "2"}]
    assert status["serving"] == {"digits": "2"}


def test_unknown_model_and_version_are_not_found(digits_registry: ModelRegistry) -> None:
    """An unknown model is 404 model_not_found; an unknown version of a known model is 404 version_not_found."""
    with pytest.raises(NotFound) as unknown_model:
        digits_registry.predict("letters", [[0] * 64])
    assert unknown_model.value.code == "model_not_found"
    with pytest.raises(NotFound) as unknown_version:
        digits_registry.predict("digits", [[0] * 64], version="7")
    assert unknown_version.value.code == "version_not_found"


@pytest.mark.parametrize("name", ["../digits", "..", "%2e%2e", "digits/1", "/etc", ".tmp-x"])
def test_path_traversal_in_the_model_name_is_refused(digits_registry: ModelRegistry, name: str) -> None:
    """Names that could leave the models folder are 400 invalid_model_name, never looked up."""
    with pytest.raises(BadRequest) as caught:
        digits_registry.predict(name, [[0] * 64])
    assert caught.value.code == "invalid_model_name"


@pytest.mark.parametrize("version", ["../1", "..", "1/../1", f"{TEMP_PREFIX}1-abc", ""])
def test_path_traversal_in_the_version_is_refused(digits_registry: ModelRegistry, version: str) -> None:
    """Versions obey the same rule: 400 invalid_version."""
    with pytest.raises(BadRequest) as caught:
        digits_registry.predict("digits", [[0] * 64], version=version)
    assert caught.value.code == "invalid_version"


def test_bad_inputs_are_refused_before_running(models_dir: Path) -> None:
    """Invalid inputs are a 400 invalid_input and never reach ONNX Runtime."""
    publish_version(DIGITS_DIR, models_dir, "digits")
    metrics: list[str] = []
    registry = ModelRegistry(models_dir, "digits", max_batch=2, on_metric=lambda name, *_: metrics.append(name))
    for bad in ([], [[0] * 63], [[0] * 64] * 3, [[True] * 64], [[float("nan")] * 64], "pixels"):
        with pytest.raises(BadRequest) as caught:
            registry.predict(None, bad)
        assert caught.value.code == "invalid_input"
    assert "inference_ms" not in metrics


def test_a_pinned_version_is_served_alongside_the_latest(publish_tiny: PublishTiny, models_dir: Path) -> None:
    """Asking for a version serves exactly that version, while the default stays on LATEST."""
    publish_tiny("1", labels=("old-a", "old-b"))
    publish_tiny("2", variant="b", labels=("new-a", "new-b"))
    registry = ModelRegistry(models_dir, "tiny")
    assert _labels(registry.predict(None, [FIRST_WINS])) == ["new-b"]
    pinned = registry.predict(None, [FIRST_WINS, SECOND_WINS], version="1")
    assert pinned["version"] == "1"
    assert _labels(pinned) == ["old-b", "old-a"]


def test_a_new_version_is_served_after_the_refresh_interval(
    publish_tiny: PublishTiny, models_dir: Path, clock: FakeClock
) -> None:
    """A published version is picked up without a restart, but not before refresh_seconds have passed."""
    publish_tiny("1")
    registry = ModelRegistry(models_dir, "tiny", refresh_seconds=5, clock=clock)
    assert registry.predict(None, [FIRST_WINS])["version"] == "1"
    publish_tiny("2", variant="b", labels=("x", "y"))
    clock.advance(4.9)
    assert registry.predict(None, [FIRST_WINS])["version"] == "1"
    clock.advance(0.1)
    answer = registry.predict(None, [FIRST_WINS])
    assert answer["version"] == "2"
    assert _labels(answer) == ["y"]


def test_latest_can_roll_back_to_an_older_version(
    publish_tiny: PublishTiny, models_dir: Path, clock: FakeClock
) -> None:
    """LATEST wins over the newest folder, so pointing it back rolls the model back."""
    publish_tiny("1")
    publish_tiny("2", variant="b")
    registry = ModelRegistry(models_dir, "tiny", refresh_seconds=1, clock=clock)
    assert registry.predict(None, [FIRST_WINS])["version"] == "2"
    write_latest(models_dir / "tiny", "1")
    clock.advance(1)
    assert registry.predict(None, [FIRST_WINS])["version"] == "1"


def test_without_latest_the_newest_version_in_natural_order_is_served(tmp_path: Path, models_dir: Path) -> None:
    """With no LATEST file the registry serves the newest complete folder: "10" is newer than "9"."""
    for version, variant in (("9", "a"), ("10", "b"), ("2", "c")):
        tiny_model_dir(models_dir / "tiny" / version, variant=variant, version=version)
    assert ModelRegistry(models_dir, "tiny").predict(None, [FIRST_WINS])["version"] == "10"


def test_natural_sort_orders_numbers_by_value() -> None:
    """Version ordering compares digit runs as numbers."""
    versions = ["v1.10", "v1.9", "2", "10", "1", "2026-01-02", "2025-12-31"]
    assert sorted(versions, key=natural_key) == ["1", "2", "10", "2025-12-31", "2026-01-02", "v1.9", "v1.10"]


def test_a_corrupt_new_version_keeps_the_previous_one_serving(
    publish_tiny: PublishTiny, models_dir: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A version damaged after publishing and named by LATEST is skipped with one error line, the previous version
    keeps serving, and the listing says why LATEST is not served."""
    publish_tiny("1")
    registry = ModelRegistry(models_dir, "tiny", refresh_seconds=1, clock=clock)
    assert registry.predict(None, [FIRST_WINS])["version"] == "1"
    broken = publish_tiny("2", variant="b")
    model = broken / MODEL_FILE
    model.write_bytes(bytes(reversed(model.read_bytes())))  # same size, wrong content
    with caplog.at_level(logging.WARNING, logger="inference.models.registry"):
        for _ in range(3):
            clock.advance(1)
            assert registry.predict(None, [FIRST_WINS])["version"] == "1"
    assert len([r for r in caplog.records if "cannot be served" in r.getMessage()]) == 1
    (listing,) = registry.list_models()["models"]
    assert listing["versions"] == ["1"]
    assert (listing["latest"], listing["serving"]) == ("2", "1")
    assert "model.onnx changed after it was published" in listing["unavailable"][0]["reason"]
    with pytest.raises(ModelUnavailable):
        registry.predict(None, [FIRST_WINS], version="2")


def test_a_version_onnx_runtime_cannot_load_is_never_served(tmp_path: Path, models_dir: Path) -> None:
    """A model file that is not ONNX at all, even with matching metadata, is skipped for an older good version."""
    tiny_model_dir(models_dir / "tiny" / "1")
    junk = b"not an onnx graph"
    write_model_dir(models_dir / "tiny" / "2", junk, tiny_metadata(junk, version="2"))
    assert ModelRegistry(models_dir, "tiny").predict(None, [FIRST_WINS])["version"] == "1"


def test_metadata_that_disagrees_with_the_graph_is_never_served(models_dir: Path) -> None:
    """A version whose metadata names an input the graph lacks is refused at load time."""
    model_bytes = tiny_onnx()
    metadata = tiny_metadata(model_bytes)
    metadata["input"]["name"] = "pixels"
    write_model_dir(models_dir / "tiny" / "1", model_bytes, metadata)
    with pytest.raises(ModelUnavailable, match="no input 'pixels'"):
        ModelRegistry(models_dir, "tiny").predict(None, [FIRST_WINS])


def test_half_published_versions_are_ignored(publish_tiny: PublishTiny, models_dir: Path) -> None:
    """A temporary folder, a truncated model and a version without metadata are neither listed nor served."""
    publish_tiny("1")
    name_dir = models_dir / "tiny"
    complete = tiny_model_dir(name_dir / f"{TEMP_PREFIX}5-0123abcd", variant="b", version="5")
    shutil.copytree(complete, name_dir / "4")
    truncated = name_dir / "4" / MODEL_FILE
    truncated.write_bytes(truncated.read_bytes()[:100])
    shutil.copytree(complete, name_dir / "3")
    (name_dir / "3" / METADATA_FILE).unlink()
    (name_dir / "2").mkdir()
    registry = ModelRegistry(models_dir, "tiny")
    assert registry.list_models()["models"][0]["versions"] == ["1"]
    assert registry.predict(None, [FIRST_WINS])["version"] == "1"


def test_a_model_with_no_loadable_version_is_unavailable(models_dir: Path) -> None:
    """A model folder holding only incomplete versions is a 503 model_unavailable, not a 404."""
    (models_dir / "tiny" / f"{TEMP_PREFIX}1-abc").mkdir(parents=True)
    with pytest.raises(ModelUnavailable) as caught:
        ModelRegistry(models_dir, "tiny").predict(None, [FIRST_WINS])
    assert caught.value.code == "model_unavailable"


def test_the_session_cache_is_bounded_and_least_recently_used(publish_tiny: PublishTiny, models_dir: Path) -> None:
    """With cache_size=2, a third model evicts the least recently used one, which is reloaded when asked again."""
    for name in ("m1", "m2", "m3"):
        publish_tiny("1", name=name)
    loads: list[str] = []
    registry = ModelRegistry(
        models_dir, "m1", cache_size=2, on_metric=lambda metric, *_: loads.append(metric) if "load" in metric else None
    )
    registry.predict("m1", [FIRST_WINS])
    registry.predict("m2", [FIRST_WINS])
    registry.predict("m1", [FIRST_WINS])  # m1 is now the most recently used
    registry.predict("m3", [FIRST_WINS])  # evicts m2
    assert [entry["name"] for entry in registry.status()["loaded"]] == ["m1", "m3"]
    assert len(loads) == 3
    registry.predict("m2", [FIRST_WINS])
    assert len(loads) == 4
    assert [entry["name"] for entry in registry.status()["loaded"]] == ["m3", "m2"]


def test_a_tensor_model_returns_its_outputs_by_name(tmp_path: Path, models_dir: Path) -> None:
    """A non-classifier ("tensor" task) answers each input with its output tensors by name."""
    model_bytes = tiny_onnx("r", task="tensor")
    metadata = tiny_metadata(model_bytes, name="sum")
    metadata.update(task="tensor", outputs=["variable"])
    del metadata["labels"], metadata["probabilities_output"]
    write_model_dir(models_dir / "sum" / "1", model_bytes, metadata)
    answer = ModelRegistry(models_dir, "sum").predict(None, [[0.25, 0.5], [1, 1]])
    (first,), (second,) = (output["variable"] for output in answer["outputs"])
    assert first == pytest.approx(0.75, abs=1e-4)
    assert second == pytest.approx(2.0, abs=1e-4)
    assert ModelRegistry(models_dir, "sum").list_models()["models"][0]["labels"] is None


class _ThreeColumnSession:
    """Stands in for a session whose graph leaves the probability columns undeclared and gives too many."""

    def run(self, wanted: list[str], feeds: dict[str, object]) -> list[np.ndarray]:
        return [np.full((1, 3), 1 / 3, dtype=np.float32)]


def test_probabilities_that_do_not_match_the_labels_are_an_error() -> None:
    """A classifier answering more probability columns than it has labels fails instead of mislabelling: a 502
    naming the output, never a 500."""
    metadata = ModelMetadata.from_dict(tiny_metadata(tiny_onnx()))
    model = LoadedModel(name="tiny", version="1", metadata=metadata, session=_ThreeColumnSession())
    with pytest.raises(BadModelOutput, match=r"shape \[1, 3\], but 2 labels"):
        model.run(model.prepare([FIRST_WINS], max_batch=1))
