"""Predictions: pick a model and version from GET /models, give it an input, see what it says."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import streamlit as st

from ui import digit_input
from ui.api_client import ApiClient, ApiError, ModelCatalog, ModelInfo, Prediction
from ui.draw_canvas import draw_digit
from ui.feedback import show_api_error

INPUT_MODES = ("Sample", "Upload", "Draw")
UPLOAD_TYPES = ("png", "jpg", "jpeg", "gif", "bmp", "webp")


def _choose_model(catalog: ModelCatalog) -> tuple[ModelInfo, str | None]:
    """The chosen model, and the chosen version (None: whichever the API serves when asked)."""
    names = [model.name for model in catalog.models]
    default = names.index(catalog.default_model) if catalog.default_model in names else 0
    model_column, version_column = st.columns(2)
    name = model_column.selectbox(
        "Model", names, index=default, key="model_name", placeholder=f"{names[default]} (default)"
    )
    model = catalog.models[names.index(name or names[default])]
    # No version chosen (the start, or a cleared box) means the API's serving version, which
    # follows new publications without the UI having to notice them.
    version = version_column.selectbox(
        "Version",
        model.versions,
        index=None,
        key=f"model_version_{model.name}",
        placeholder=f"Serving ({model.serving})" if model.serving else "Serving",
    )
    if model.description:
        st.caption(model.description)
    return model, version


def _digit_pixels() -> digit_input.Pixels | None:
    """An 8x8 digit from a sample, an uploaded picture or a drawing; None until there is one."""
    mode = st.segmented_control("Input", INPUT_MODES, default=INPUT_MODES[0], key="input_mode")
    if mode == "Sample":
        samples = digit_input.load_samples()
        sample = st.selectbox(
            "Sample from scikit-learn's digits",
            samples,
            key="digit_sample",
            format_func=lambda item: f"Digit {item.label} (image #{item.index})",
        )
        return None if sample is None else sample.pixels
    if mode == "Upload":
        upload = st.file_uploader("A picture of one digit", type=list(UPLOAD_TYPES), key="digit_upload")
        return None if upload is None else _read_digit(lambda: digit_input.from_image(upload.getvalue()))
    if mode == "Draw":
        st.caption("Draw one digit, large, in the middle of the pad.")
        drawing = draw_digit(key="digit_drawing")
        return None if drawing is None else _read_digit(lambda: digit_input.from_data_url(drawing))
    return None  # the segmented control was cleared


def _read_digit(convert: Callable[[], digit_input.Pixels]) -> digit_input.Pixels | None:
    try:
        return convert()
    except digit_input.UnreadableImage as error:
        st.error(str(error), icon=":material/image_not_supported:")
        return None


def _model_input(model: ModelInfo) -> Any:
    """One input in the model's shape, from the widgets that suit it; None until there is one.
    JSON is sent as it is: the API checks it against the model and explains what is wrong."""
    if digit_input.accepts_digits(model.input):
        pixels = _digit_pixels()
        if pixels is None:
            return None
        st.image(digit_input.preview(pixels), caption="What the model sees (8x8)", width=160)
        return digit_input.as_model_input(pixels, model.input)
    shape = "x".join(str(dim) for dim in model.input.sample_shape)
    raw = st.text_area(f"One input as JSON ({shape} values of {model.input.dtype})", key="raw_input")
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        st.error(f"This is not valid JSON: {error.msg} (line {error.lineno}).", icon=":material/data_object:")
        return None


def _milliseconds(value: float) -> str:
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def _show_prediction(prediction: Prediction) -> None:
    output = prediction.outputs[0]
    st.metric("Predicted", output.label, border=True)
    if output.probabilities:
        st.bar_chart(
            {"Class": list(output.probabilities), "Probability": list(output.probabilities.values())},
            x="Class",
            y="Probability",
            height=220,
        )
    st.markdown(
        f":material/timer: **{_milliseconds(prediction.inference_ms)}** inference · "
        f"**{_milliseconds(prediction.total_ms)}** in the API · "
        f"**{_milliseconds(prediction.round_trip_ms)}** round trip"
    )
    st.caption(f"Model {prediction.model}, version {prediction.version}.")


@st.fragment
def render_predictions(client: ApiClient) -> None:
    st.subheader("Predictions")
    try:
        catalog = client.list_models()
    except ApiError as error:
        show_api_error(error, retry_key="retry_models")
        return
    if not catalog.models:
        st.info("The API has no models yet: publish one to its models folder.", icon=":material/model_training:")
        return
    model, version = _choose_model(catalog)
    input_column, result_column = st.columns(2, gap="medium")
    with input_column:
        inputs = _model_input(model)
        clicked = st.button(
            "Predict", key="predict", type="primary", icon=":material/play_arrow:", disabled=inputs is None
        )
    with result_column:
        # Retry was drawn on the previous run, under a failed prediction; its click is read here.
        if inputs is None or not (clicked or st.session_state.get("retry_predict")):
            st.info("Choose an input, then press Predict.", icon=":material/touch_app:")
            return
        try:
            prediction = client.predict(model.name, [inputs], version=version)
        except ApiError as error:
            show_api_error(error, retry_key="retry_predict")
            return
        _show_prediction(prediction)
