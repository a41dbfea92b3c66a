"""Each kind of model a user brings, exported for real in the test (no torch), goes through `efs-models init` and
`publish` with no hand-written JSON, and the server's answers equal the original model's to 1e-4: scikit-learn's
predict_proba/predict, or ONNX Runtime run directly on the same inputs."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image
from skl2onnx import to_onnx
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from tokenizers import Tokenizer

from inference.models.registry import ModelRegistry
from scripts.example_exports import (
    IMAGE_LABELS,
    MAX_POSITIONS,
    SENTIMENT_LABELS,
    image_classifier,
    write_sentence_embedding,
    write_text_classifier,
)
from tests.efs_models.conftest import Efs, data_dir

TOLERANCE = 1e-4
IRIS_NAMES = np.array(["setosa", "versicolor", "virginica"])
SENTENCES = [
    "The movie was wonderful, really good.",
    "A man is eating food.",
    "terrible service, very sad",
    "okay",
    "The dog plays music at night and the cat loves it; the woman hates the film but the child is happy." * 3,
]


def _publish(efs: Efs, tmp_path: Path, source: Path, name: str, *flags: str) -> ModelRegistry:
    """init then publish, the two commands a user runs; the registry that serves the data folder."""
    folder = tmp_path / "models" / name
    init = efs("init", source, "--name", name, "--out", folder, *flags)
    assert init.code == 0, init.err
    published = efs("publish", folder, "--data-dir", data_dir(tmp_path))
    assert published.code == 0, published.err
    return ModelRegistry(tmp_path / "data" / "models", name)


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _served_probabilities(answer: dict[str, Any], labels: list[str]) -> np.ndarray:
    for output in answer["outputs"]:
        assert list(output["probabilities"]) == labels  # in the classes' order
        assert output["label"] == max(output["probabilities"], key=output["probabilities"].get)
    return np.array([[output["probabilities"][label] for label in labels] for output in answer["outputs"]])


@pytest.mark.parametrize("zipmap", [True, False], ids=["zipmap", "no-zipmap"])
@pytest.mark.parametrize("string_classes", [False, True], ids=["int-classes", "string-classes"])
def test_scikit_learn_classifier(efs: Efs, tmp_path: Path, zipmap: bool, string_classes: bool) -> None:
    """skl2onnx's default export (ZipMap: a map per input) and zipmap False, with int and string classes: labels in
    classes_ order, read from the graph; probabilities equal predict_proba, labels equal predict."""
    features, target = load_iris(return_X_y=True)
    classes = IRIS_NAMES[target] if string_classes else target
    x_train, x_test, y_train, _ = train_test_split(features, classes, test_size=0.3, random_state=0, stratify=classes)
    estimator = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    options = None if zipmap else {id(estimator): {"zipmap": False}}
    source = tmp_path / "iris.onnx"
    source.write_bytes(to_onnx(estimator, x_train[:1].astype(np.float32), options=options).SerializeToString())
    registry = _publish(efs, tmp_path, source, "iris")
    labels = [str(item) for item in estimator.classes_]
    answer = registry.predict(None, x_test.tolist())
    served = _served_probabilities(answer, labels)
    np.testing.assert_allclose(served, estimator.predict_proba(x_test), atol=TOLERANCE)
    assert [output["label"] for output in answer["outputs"]] == [str(item) for item in estimator.predict(x_test)]
    assert answer["version"] == "1"


def test_scikit_learn_classifier_with_labels_given(efs: Efs, tmp_path: Path) -> None:
    """--labels names int classes 0, 1, 2 in the graph's order (its ZipMap keys)."""
    features, target = load_iris(return_X_y=True)
    estimator = LogisticRegression(max_iter=1000).fit(features, target)
    source = tmp_path / "iris.onnx"
    source.write_bytes(to_onnx(estimator, features[:1].astype(np.float32)).SerializeToString())
    registry = _publish(efs, tmp_path, source, "iris", "--labels", ",".join(IRIS_NAMES))
    answer = registry.predict(None, features[::10].tolist())
    np.testing.assert_allclose(
        _served_probabilities(answer, list(IRIS_NAMES)), estimator.predict_proba(features[::10]), atol=TOLERANCE
    )


def test_scikit_learn_regressor(efs: Efs, tmp_path: Path) -> None:
    """A regressor's output comes back by name, one value per input, equal to predict."""
    features, target = load_diabetes(return_X_y=True)
    estimator = LinearRegression().fit(features, target)
    source = tmp_path / "diabetes.onnx"
    source.write_bytes(to_onnx(estimator, features[:1].astype(np.float32)).SerializeToString())
    registry = _publish(efs, tmp_path, source, "diabetes")
    answer = registry.predict(None, features[:50].tolist())
    served = np.array([output["variable"] for output in answer["outputs"]]).reshape(-1)
    np.testing.assert_allclose(served, estimator.predict(features[:50]), rtol=TOLERANCE, atol=TOLERANCE)


def _picture(seed: int, size: tuple[int, int]) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format="PNG")
    return out.getvalue()


def _imagenet_tensor(png: bytes) -> np.ndarray:
    """ImageNet preprocessing written out here, apart from the server's: RGB, 224x224 bilinear, /255, mean, std."""
    image = Image.open(io.BytesIO(png)).convert("RGB").resize((224, 224), Image.Resampling.BILINEAR)
    values = np.asarray(image, dtype=np.float32) / 255
    values = (values - np.array([0.485, 0.456, 0.406], dtype=np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return values.transpose(2, 0, 1)


@pytest.mark.parametrize("fixed_batch", [False, True], ids=["dynamic-batch", "batch-of-1"])
def test_image_classifier_with_the_imagenet_preset(efs: Efs, tmp_path: Path, fixed_batch: bool) -> None:
    """RGB NCHW 224x224 with ImageNet normalisation (--image-preset imagenet), logits turned into probabilities
    (--softmax): PNGs of any size give onnxruntime's own answer on the preprocessed tensor; a graph exported with a
    batch of 1 serves batches too."""
    source = tmp_path / "pets.onnx"
    model = image_classifier(fixed_batch)
    source.write_bytes(model.SerializeToString())
    labels = list(IMAGE_LABELS)
    registry = _publish(
        efs, tmp_path, source, "pets", "--image-preset", "imagenet", "--labels", ",".join(labels), "--softmax"
    )
    pictures = [_picture(seed, size) for seed, size in enumerate([(300, 200), (224, 224), (64, 640)])]
    answer = registry.predict(None, [{"image": base64.b64encode(png).decode()} for png in pictures])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    logits = np.concatenate(
        [session.run(["logits"], {"pixel_values": _imagenet_tensor(png)[None]})[0] for png in pictures]
    )
    np.testing.assert_allclose(_served_probabilities(answer, labels), _softmax(logits), atol=TOLERANCE)


def _token_feeds(tokenizer_path: Path, texts: list[str]) -> dict[str, np.ndarray]:
    """The graph's inputs for ``texts``, tokenised here as a user's own code would: truncated, padded."""
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_truncation(MAX_POSITIONS)
    tokenizer.enable_padding()
    encodings = tokenizer.encode_batch(texts)
    return {
        "input_ids": np.array([item.ids for item in encodings], dtype=np.int64),
        "attention_mask": np.array([item.attention_mask for item in encodings], dtype=np.int64),
        "token_type_ids": np.array([item.type_ids for item in encodings], dtype=np.int64),
    }


def test_sentence_embedding_with_cls_pooling(efs: Efs, tmp_path: Path) -> None:
    """A sentence-transformers export folder: init reads CLS pooling, normalisation and the length from its configs,
    vocab_size from the tokenizer, the dimension from a probe; the vectors equal the graph's CLS vectors, normalised."""
    source = write_sentence_embedding(tmp_path / "export")
    registry = _publish(efs, tmp_path, source, "embedder")
    answer = registry.predict(None, SENTENCES)
    assert answer["dimension"] == 32
    session = ort.InferenceSession(str(source / "model.onnx"), providers=["CPUExecutionProvider"])
    (hidden,) = session.run(["last_hidden_state"], _token_feeds(source / "tokenizer.json", SENTENCES))
    cls = hidden[:, 0]
    expected = cls / np.linalg.norm(cls, axis=1, keepdims=True)
    served = np.array([output["embedding"] for output in answer["outputs"]])
    np.testing.assert_allclose(served, expected, atol=TOLERANCE)


@pytest.mark.parametrize("labels_from", ["config.json", "--labels"])
def test_text_classifier_of_logits(efs: Efs, tmp_path: Path, labels_from: str) -> None:
    """A text classifier whose graph outputs logits (--softmax): labels from the export's config.json id2label, or
    --labels; probabilities equal softmax of the graph's logits."""
    source = write_text_classifier(tmp_path / "export")
    flags = ["--softmax"] if labels_from == "config.json" else ["--softmax", "--labels", "bad,meh,good"]
    labels = list(SENTIMENT_LABELS) if labels_from == "config.json" else ["bad", "meh", "good"]
    registry = _publish(efs, tmp_path, source, "sentiment", *flags)
    answer = registry.predict(None, SENTENCES)
    session = ort.InferenceSession(str(source / "model.onnx"), providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], _token_feeds(source / "tokenizer.json", SENTENCES))
    np.testing.assert_allclose(_served_probabilities(answer, labels), _softmax(logits), atol=TOLERANCE)


def test_a_grayscale_model_of_pixel_rows(efs: Efs, tmp_path: Path) -> None:
    """A classifier of scikit-learn's 8x8 digits (64 values a row) described as an image model (--kind image
    --image-size 8x8): a PNG of one of its images, white on black as the data set draws them, gets the answer its
    pixels get, which is scikit-learn's."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    estimator = LogisticRegression(max_iter=2000).fit(digits.data / 16, digits.target)
    source = tmp_path / "digits.onnx"
    source.write_bytes(to_onnx(estimator, digits.data[:1].astype(np.float32)).SerializeToString())
    registry = _publish(efs, tmp_path, source, "pixels", "--kind", "image", "--image-size", "8x8", "--image-mode", "L")
    image = digits.images[5]
    out = io.BytesIO()
    Image.fromarray((image / 16 * 255).round().astype(np.uint8), "L").save(out, format="PNG")
    from_png, from_pixels = registry.predict(
        None, [{"image": base64.b64encode(out.getvalue()).decode()}, (image.reshape(64) / 16).tolist()]
    )["outputs"]
    assert from_png["label"] == from_pixels["label"] == str(estimator.predict(digits.data[5:6] / 16)[0])
    np.testing.assert_allclose(
        list(from_png["probabilities"].values()), list(from_pixels["probabilities"].values()), atol=1e-2
    )
