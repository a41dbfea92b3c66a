"""An in-memory stand-in for the UI's API client: same methods, same typed results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.ui.example_model import SAMPLES, VALUE_RANGE
from ui.api_client import (
    ApiError,
    Health,
    InputSpec,
    Message,
    MessagePage,
    ModelCatalog,
    ModelInfo,
    Output,
    Prediction,
)

DIGIT_LABELS = [str(digit) for digit in range(10)]
DIGITS = ModelInfo(
    name="digits",
    versions=["2", "1"],
    serving="2",
    input=InputSpec(
        name="input",
        shape=[None, 64],
        dtype="float32",
        value_range=VALUE_RANGE,
        kind="image",
        image_formats=["PNG", "JPEG"],
        image_mode="L",
        image_size=(8, 8),
    ),
    labels=DIGIT_LABELS,
    description="Handwritten digits, 8x8",
    samples=SAMPLES,
)


MINILM = ModelInfo(
    name="minilm",
    versions=["1"],
    serving="1",
    input=InputSpec(name="text", shape=[None], dtype="string", kind="text", max_text_bytes=16384),
    labels=None,
    description="Sentence embeddings",
    task="embedding",
    dimension=384,
)


@dataclass
class PredictCall:
    model: str
    inputs: list[Any]
    version: str | None


@dataclass
class FakeApi:
    base_url: str = "http://api.test"
    messages: list[Message] = field(default_factory=list)  # oldest first, as stored
    catalog: ModelCatalog = field(default_factory=lambda: ModelCatalog(default_model="digits", models=[DIGITS]))
    predicted_label: str = "3"
    predicted_values: dict[str, Any] | None = None  # set: answers as a model of plain outputs (a regressor)
    failures: dict[str, ApiError] = field(default_factory=dict)  # method name -> the error it raises
    predict_calls: list[PredictCall] = field(default_factory=list)
    max_text_bytes: int = 100  # what /health says the API takes

    def _maybe_fail(self, method: str) -> None:
        if method in self.failures:
            raise self.failures[method]

    def add_messages(self, count: int) -> None:
        for _ in range(count):
            self._store(f"message {len(self.messages) + 1}")

    def _store(self, text: str) -> Message:
        message = Message(id=len(self.messages) + 1, text=text, created_at="2026-11-26T08:00:00.000000Z")
        self.messages.append(message)
        return message

    def health(self) -> Health:
        self._maybe_fail("health")
        return Health(
            status="ok",
            details={
                "store": {"ok": True},
                "models": {"ok": True, "serving": {"digits": "2"}},
                "instance": {"id": "pid 4242", "loaded": []},
                "limits": {"max_text_bytes": self.max_text_bytes},
            },
        )

    def post_message(self, text: str) -> Message:
        self._maybe_fail("post_message")
        return self._store(text)

    def list_messages(self, limit: int, cursor: str | None = None) -> MessagePage:
        self._maybe_fail("list_messages")
        newest_first = [m for m in reversed(self.messages) if cursor is None or m.id < int(cursor)]
        items = newest_first[:limit]
        more = len(newest_first) > limit
        return MessagePage(items=items, next_cursor=str(items[-1].id) if more else None)

    def list_models(self) -> ModelCatalog:
        self._maybe_fail("list_models")
        return self.catalog

    def predict(self, model: str, inputs: list[Any], version: str | None = None) -> Prediction:
        self._maybe_fail("predict")
        self.predict_calls.append(PredictCall(model, inputs, version))
        if model == MINILM.name:
            return self._embed(inputs)
        probabilities = {label: (0.91 if label == self.predicted_label else 0.01) for label in DIGIT_LABELS}
        output = Output(label=self.predicted_label, probabilities=probabilities)
        if self.predicted_values is not None:
            output = Output(label="", probabilities={}, values=self.predicted_values)
        return Prediction(
            model=model,
            version=version or "2",
            outputs=[output for _ in inputs],
            inference_ms=0.4,
            total_ms=1.2,
            round_trip_ms=5.0,
        )

    def _embed(self, texts: list[str]) -> Prediction:
        """Unit vectors that make texts with the same first word identical and others orthogonal."""
        words = sorted({text.split()[0].lower() for text in texts})
        vectors = [[1.0 if word == text.split()[0].lower() else 0.0 for word in words] for text in texts]
        return Prediction(
            model=MINILM.name,
            version="1",
            outputs=[Output(label="", probabilities={}, embedding=vector) for vector in vectors],
            inference_ms=8.0,
            total_ms=9.5,
            round_trip_ms=12.0,
            preprocessing_ms=0.5,
            dimension=len(words),
        )
