"""Sentence similarity: sentences go to a text (embedding) model; the page shows how alike their embeddings
are, as a heat map of pairwise cosine similarities, and how long the model took."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from ui.api_client import KIND_TEXT, ApiClient, ApiError, ModelInfo, Prediction
from ui.feedback import show_api_error

MAX_SENTENCES = 32  # one request; the heat map stays readable
EXAMPLE = (
    "A man is eating food.\nA man is eating a piece of bread.\nA woman is playing violin.\nA monkey is playing drums."
)


def is_sentence_model(model: ModelInfo) -> bool:
    """A model this page compares sentences with: text in, embeddings out."""
    return model.input.kind == KIND_TEXT and model.task == "embedding"


def sentences_of(text: str) -> list[str]:
    """One sentence per non-blank line, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def similarities(prediction: Prediction) -> Any:
    """Pairwise cosine similarities of the answer's embeddings (normalised here too, whatever the model does)."""
    vectors = np.asarray([output.embedding or [] for output in prediction.outputs], dtype=float)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1, norms)
    return unit @ unit.T


def _heat_map(sentences: list[str], matrix: Any) -> None:
    names = [f"{index + 1}. {text[:40]}{'…' if len(text) > 40 else ''}" for index, text in enumerate(sentences)]
    cells = [
        {"a": names[i], "b": names[j], "similarity": round(float(matrix[i, j]), 3)}
        for i in range(len(names))
        for j in range(len(names))
    ]
    axis = {"sort": names, "title": None, "axis": {"labelLimit": 260}}
    st.vega_lite_chart(
        {
            "data": {"values": cells},
            "layer": [
                {
                    "mark": "rect",
                    "encoding": {
                        "x": {"field": "b", "type": "nominal", **axis},
                        "y": {"field": "a", "type": "nominal", **axis},
                        "color": {
                            "field": "similarity",
                            "type": "quantitative",
                            "scale": {"domain": [-0.2, 1], "scheme": "blues"},
                        },
                        "tooltip": [{"field": "a"}, {"field": "b"}, {"field": "similarity"}],
                    },
                },
                {
                    "mark": {"type": "text", "fontSize": 11},
                    "encoding": {
                        "x": {"field": "b", "type": "nominal", **axis},
                        "y": {"field": "a", "type": "nominal", **axis},
                        "text": {"field": "similarity", "type": "quantitative", "format": ".2f"},
                        "color": {"condition": {"test": "datum.similarity > 0.6", "value": "white"}, "value": "black"},
                    },
                },
            ],
        },
        width="stretch",
    )


def _milliseconds(value: float) -> str:
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def _show(prediction: Prediction, sentences: list[str]) -> None:
    _heat_map(sentences, similarities(prediction))
    per_sentence = prediction.inference_ms / len(sentences)
    st.markdown(
        f":material/timer: **{_milliseconds(prediction.inference_ms)}** model "
        f"({_milliseconds(per_sentence)} per sentence) · **{_milliseconds(prediction.preprocessing_ms)}** "
        f"tokenising · **{_milliseconds(prediction.total_ms)}** in the API · "
        f"**{_milliseconds(prediction.round_trip_ms)}** round trip"
    )
    st.caption(
        f"Model {prediction.model}, version {prediction.version}: {len(sentences)} embeddings of "
        f"{prediction.dimension} dimensions. 1 means the same meaning; unrelated sentences score near 0."
    )


def _choose_text_model(models: list[ModelInfo], default_model: str) -> ModelInfo:
    names = [model.name for model in models]
    index = names.index(default_model) if default_model in names else 0
    name = st.selectbox("Text model", names, index=index, key="text_model")
    return models[names.index(name or names[index])]


@st.fragment
def render_text_page(client: ApiClient) -> None:
    st.title("Sentence similarity")
    st.caption("Type or paste sentences, one per line: the model embeds each; the map shows how alike they are.")
    try:
        catalog = client.list_models()
    except ApiError as error:
        show_api_error(error, retry_key="retry_text_models")
        return
    models = [model for model in catalog.models if is_sentence_model(model)]
    if not models:
        st.info(
            "The API has no sentence embedding model: publish one (make minilm builds the example).",
            icon=":material/notes:",
        )
        return
    model = _choose_text_model(models, catalog.default_model)
    if model.description:
        st.caption(model.description)
    text = st.text_area("Sentences, one per line", value=EXAMPLE, height=160, key="sentences")
    sentences = sentences_of(text)
    too_many = len(sentences) > MAX_SENTENCES
    if too_many:
        st.warning(f"{len(sentences)} sentences: at most {MAX_SENTENCES} at a time.", icon=":material/warning:")
    clicked = st.button(
        "Compare", key="embed", type="primary", icon=":material/compare_arrows:", disabled=not sentences or too_many
    )
    if not sentences or too_many or not (clicked or st.session_state.get("retry_embed")):
        st.info("Press Compare to embed the sentences.", icon=":material/touch_app:")
        return
    try:
        prediction = client.predict(model.name, sentences)
    except ApiError as error:
        show_api_error(error, retry_key="retry_embed")
        return
    _show(prediction, sentences)
