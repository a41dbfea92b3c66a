"""Predictions: pick a model and version from GET /models, give it an input, see what it says."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from ui import digit_input
from ui.api_client import KIND_IMAGE, KIND_TEXT, ApiClient, ApiError, ModelCatalog, ModelInfo, Prediction, Sample
from ui.draw_canvas import draw_digit
from ui.feedback import show_api_error
from ui.text_page import is_sentence_model

SAMPLE, UPLOAD, DRAW, JSON, TEXT = "Sample", "Upload", "Draw", "JSON", "Text"
UPLOAD_TYPES = {"PNG": ("png",), "JPEG": ("jpg", "jpeg")}  # file name endings of the formats image models take


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


@dataclass(frozen=True)
class ChosenInput:
    value: Any  # one input, as the API takes it
    label: str = ""  # the true label, when the input is one of the model's labelled samples


def _sample_input(model: ModelInfo) -> ChosenInput | None:
    """A chosen sample: a grayscale image model's is shown as the picture the model sees, any other's values
    inline, as they are sent."""
    sample = _choose_sample(model)
    if sample is None:
        return None
    size = digit_input.picture_size(model.input, sample)
    if size is None:
        st.code(json.dumps(sample.input), language="json", wrap_lines=True)
        return ChosenInput(digit_input.as_model_input(sample.input, model.input), sample.label)
    try:
        pixels = digit_input.from_sample(sample, size)
    except digit_input.UnreadableImage as error:
        st.error(str(error), icon=":material/image_not_supported:")
        return None
    preview = digit_input.preview(pixels, digit_input.pixel_range(model.input))
    st.image(preview, caption=f"What the model sees ({size[0]}x{size[1]})", width=160)
    return ChosenInput(digit_input.as_model_input(pixels, model.input), sample.label)


def _image_input(model: ModelInfo, mode: str | None) -> ChosenInput | None:
    """An uploaded picture or a drawing, sent as it is: the server decodes it and applies the model's
    preprocessing (its metadata says which)."""
    if mode == UPLOAD:
        formats = model.input.image_formats or ["PNG", "JPEG"]
        types = [kind for fmt in formats for kind in UPLOAD_TYPES.get(fmt, ())]
        upload = st.file_uploader(f"An image ({' or '.join(formats)})", type=types, key="digit_upload")
        if upload is None:
            return None
        data = upload.getvalue()
        problem = digit_input.upload_problem(data, model.input.max_pixels)
        if problem is not None:
            st.error(problem, icon=":material/image_not_supported:")
            return None
        preview = digit_input.upload_preview(data)
        if preview is not None:
            st.image(preview, caption="Your image: the server turns it into the model's input", width=160)
        else:
            st.caption("This file cannot be shown here; the server will say whether it can read it.")
        return ChosenInput(digit_input.image_input(data))
    if mode == DRAW:
        st.caption("Draw on the pad, large and in the middle: the server turns the drawing into the model's input.")
        drawing = draw_digit(key="digit_drawing")
        return None if drawing is None else ChosenInput({"image": drawing})  # a PNG data URL, which the API takes
    return None  # the segmented control was cleared


def _json_input(model: ModelInfo) -> ChosenInput | None:
    """One input typed as JSON, sent as it is: the API checks it against the model and explains what is wrong."""
    shape = "x".join(str(dim) for dim in model.input.sample_shape)
    raw = st.text_area(f"One input as JSON ({shape} values of {model.input.dtype})", key="raw_input")
    if not raw.strip():
        return None
    try:
        return ChosenInput(json.loads(raw))
    except json.JSONDecodeError as error:
        st.error(f"This is not valid JSON: {error.msg} (line {error.lineno}).", icon=":material/data_object:")
        return None


def _text_input() -> ChosenInput | None:
    text = st.text_area("A text", key="text_input")
    return ChosenInput(text) if text.strip() else None


def _model_input(model: ModelInfo) -> ChosenInput | None:
    """One input for the model, from the widgets that suit it: its samples, pictures for an image model, a text
    for a text model, JSON otherwise; None until there is one."""
    # The pad draws light ink on dark, one channel: it suits grayscale image models only.
    if model.input.kind == KIND_IMAGE:
        others = [UPLOAD, DRAW] if model.input.image_mode in (None, "L") else [UPLOAD]
    else:
        others = [TEXT] if model.input.kind == KIND_TEXT else [JSON]
    mode = _choose_mode(model, others)
    if mode == SAMPLE:
        return _sample_input(model)
    if mode == JSON:
        return _json_input(model)
    if mode == TEXT:
        return _text_input()
    return _image_input(model, mode)


def _milliseconds(value: float) -> str:
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def _show_prediction(prediction: Prediction, expected: str) -> None:
    output = prediction.outputs[0]
    if output.values is not None:  # a model of plain outputs (a regressor, say): each output by name
        st.code(json.dumps(output.values), language="json", wrap_lines=True)
    else:
        st.metric("Predicted", output.label, border=True)
    if expected and output.values is not None:
        st.caption(f"This sample is labelled {expected}.")
    elif expected and output.label == expected:
        st.success(f"Right: this sample is labelled {expected}.", icon=":material/check_circle:")
    elif expected:
        st.warning(
            f"Wrong: this sample is labelled {expected}, but the model predicts {output.label}. "
            "A known miss: the model is not perfect.",
            icon=":material/cancel:",
        )
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
    # Text embedding models have their own page (ui.text_page); text classifiers are predicted here.
    catalog = replace(catalog, models=[model for model in catalog.models if not is_sentence_model(model)])
    if not catalog.models:
        st.info("The API has no models yet: publish one to its models folder.", icon=":material/model_training:")
        return
    model, version = _choose_model(catalog)
    input_column, result_column = st.columns(2, gap="medium")
    with input_column:
        chosen = _model_input(model)
        clicked = st.button(
            "Predict", key="predict", type="primary", icon=":material/play_arrow:", disabled=chosen is None
        )
    with result_column:
        # Retry was drawn on the previous run, under a failed prediction; its click is read here.
        if chosen is None or not (clicked or st.session_state.get("retry_predict")):
            st.info("Choose an input, then press Predict.", icon=":material/touch_app:")
            return
        try:
            prediction = client.predict(model.name, [chosen.value], version=version)
        except ApiError as error:
            show_api_error(error, retry_key="retry_predict")
            return
        _show_prediction(prediction, chosen.label)
