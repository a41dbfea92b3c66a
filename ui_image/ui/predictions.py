"""Predictions: pick a model and version from GET /models, give it an input, see what it says."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import streamlit as st

from ui import digit_input
from ui.api_client import ApiClient, ApiError, ModelCatalog, ModelInfo, Prediction, Sample
from ui.draw_canvas import draw_digit
from ui.feedback import show_api_error

SAMPLE, UPLOAD, DRAW, JSON = "Sample", "Upload", "Draw", "JSON"
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


def _choose_mode(model: ModelInfo, modes: list[str]) -> str | None:
    """The kind of input to give; Sample comes first, when the model's metadata has samples."""
    options = [SAMPLE, *modes] if model.samples else modes
    if len(options) == 1:
        return options[0]
    return st.segmented_control("Input", options, default=options[0], key=f"input_mode_{model.name}")


def _choose_sample(model: ModelInfo) -> Sample | None:
    samples = model.samples
    index = st.selectbox(
        "One of the model's samples",
        range(len(samples)),
        key=f"sample_{model.name}",
        format_func=lambda i: f"Sample {i + 1}, labelled {samples[i].label}" if samples[i].label else f"Sample {i + 1}",
    )
    return None if index is None else samples[index]


def _digit_pixels(model: ModelInfo) -> digit_input.Pixels | None:
    """An 8x8 digit from a sample, an uploaded picture or a drawing; None until there is one."""
    value_range = digit_input.pixel_range(model.input)
    mode = _choose_mode(model, [UPLOAD, DRAW])
    if mode == SAMPLE:
        sample = _choose_sample(model)
        return None if sample is None else _read_digit(lambda: digit_input.from_sample(sample))
    if mode == UPLOAD:
        upload = st.file_uploader("A picture of one digit", type=list(UPLOAD_TYPES), key="digit_upload")
        return None if upload is None else _read_digit(lambda: digit_input.from_image(upload.getvalue(), value_range))
    if mode == DRAW:
        st.caption("Draw one digit, large, in the middle of the pad.")
        drawing = draw_digit(key="digit_drawing")
        return None if drawing is None else _read_digit(lambda: digit_input.from_data_url(drawing, value_range))
    return None  # the segmented control was cleared


def _read_digit(convert: Callable[[], digit_input.Pixels]) -> digit_input.Pixels | None:
    try:
        return convert()
    except digit_input.UnreadableImage as error:
        st.error(str(error), icon=":material/image_not_supported:")
        return None


def _json_input(model: ModelInfo) -> Any:
    """A sample, or one input typed as JSON. JSON is sent as it is: the API checks it against the
    model and explains what is wrong."""
    mode = _choose_mode(model, [JSON])
    if mode == SAMPLE:
        sample = _choose_sample(model)
        if sample is None:
            return None
        st.json(sample.input, expanded=False)
        return sample.input
    if mode != JSON:
        return None  # the segmented control was cleared
    shape = "x".join(str(dim) for dim in model.input.sample_shape)
    raw = st.text_area(f"One input as JSON ({shape} values of {model.input.dtype})", key="raw_input")
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        st.error(f"This is not valid JSON: {error.msg} (line {error.lineno}).", icon=":material/data_object:")
        return None


def _model_input(model: ModelInfo) -> Any:
    """One input in the model's shape, from the widgets that suit it; None until there is one."""
    if not digit_input.accepts_digits(model.input):
        return _json_input(model)
    pixels = _digit_pixels(model)
    if pixels is None:
        return None
    preview = digit_input.preview(pixels, digit_input.pixel_range(model.input))
    st.image(preview, caption="What the model sees (8x8)", width=160)
    return digit_input.as_model_input(pixels, model.input)


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
