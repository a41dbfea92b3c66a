"""The Predictions section under AppTest: model and version, sample/upload/draw/JSON inputs, results, errors."""

from __future__ import annotations

import base64
from dataclasses import replace

from streamlit.testing.v1 import AppTest

from tests.ui.example_model import SAMPLES, pixels, sample
from tests.ui.fakes import DIGITS, MINILM, FakeApi
from tests.ui.images import digit_png
from ui.api_client import ApiError, InputSpec, ModelCatalog, ModelInfo, Sample

MODEL_UNAVAILABLE = ApiError(
    "model digits version 2 cannot be loaded (model_unavailable, HTTP 503)", status=503, code="model_unavailable"
)


IRIS = ModelInfo("iris", ["1"], "1", InputSpec("x", [None, 4], "float32"), ["a", "b", "c"], "Iris")


def captions(app: AppTest) -> list[str]:
    return [caption.value for caption in app.caption]


def test_a_sample_prediction_shows_class_probabilities_and_latency(app: AppTest, fake_api: FakeApi) -> None:
    """Predicting one of the model's samples sends its 64 values and shows the class, a probability chart, timings."""
    app.run()
    samples = app.selectbox(key="sample_digits")
    assert samples.options[7] == "Sample 8, labelled 7"
    samples.set_value(SAMPLES.index(sample("7"))).run()
    app.button(key="predict").click().run()
    assert not app.exception
    assert fake_api.predict_calls[0].model == "digits"
    assert fake_api.predict_calls[0].inputs == [sample("7").input]
    assert fake_api.predict_calls[0].version is None
    assert [(metric.label, metric.value) for metric in app.metric] == [("Predicted", "3")]
    assert app.get("vega_lite_chart")  # the bar chart of the class probabilities
    latency = "**0.4 ms** inference · **1.2 ms** in the API · **5.0 ms** round trip"
    assert any(latency in markdown.value for markdown in app.markdown)


def test_the_chosen_version_is_sent(app: AppTest, fake_api: FakeApi) -> None:
    """No version is sent until one is chosen (the API serves its own); a chosen version 1 is sent."""
    app.run()
    version = app.selectbox(key="model_version_digits")
    assert version.options == ["2", "1"]
    assert version.value is None
    assert version.placeholder == "Serving (2)"
    app.button(key="predict").click().run()
    app.selectbox(key="model_version_digits").set_value("1").run()
    app.button(key="predict").click().run()
    assert [call.version for call in fake_api.predict_calls] == [None, "1"]
    assert "Model digits, version 1." in captions(app)


def test_the_default_model_is_preselected(app: AppTest, fake_api: FakeApi) -> None:
    """The model list starts on the API's default model, not on the first one listed."""
    fake_api.catalog = ModelCatalog(default_model="digits", models=[IRIS, DIGITS])
    app.run()
    assert app.selectbox(key="model_name").value == "digits"


def test_the_sample_input_is_offered_only_with_samples(app: AppTest, fake_api: FakeApi) -> None:
    """A model with samples starts on Sample; a model without any offers only Upload and Draw, starting on Upload."""
    app.run()
    assert app.segmented_control(key="input_mode_digits").options == ["Sample", "Upload", "Draw"]
    assert app.segmented_control(key="input_mode_digits").value == "Sample"
    fake_api.catalog = ModelCatalog(default_model="digits", models=[replace(DIGITS, samples=[])])
    app.run()
    assert app.segmented_control(key="input_mode_digits").options == ["Upload", "Draw"]
    assert app.segmented_control(key="input_mode_digits").value == "Upload"


def test_an_uploaded_picture_is_sent_to_the_server_as_an_image(app: AppTest, fake_api: FakeApi) -> None:
    """An uploaded picture is shown and sent unchanged as {"image": base64}: no downscaling in the UI."""
    app.run()
    app.segmented_control(key="input_mode_digits").set_value("Upload").run()
    assert app.button(key="predict").disabled
    app.file_uploader(key="digit_upload").set_value(("seven.png", digit_png("7"), "image/png")).run()
    assert not app.exception
    assert app.image  # the picture as uploaded
    app.button(key="predict").click().run()
    (sent,) = fake_api.predict_calls[0].inputs
    assert base64.b64decode(sent["image"]) == digit_png("7")
    assert app.metric[0].value == "3"
    assert not app.main.warning and not app.main.success  # an upload has no true label to compare with


def test_an_upload_the_server_cannot_read_shows_its_message(app: AppTest, fake_api: FakeApi) -> None:
    """A file that is not an image is refused by the API; the page shows the API's message."""
    fake_api.failures["predict"] = ApiError(
        "inputs[0] is not a PNG or JPEG image (invalid_image, HTTP 400)", status=400, code="invalid_image"
    )
    app.run()
    app.segmented_control(key="input_mode_digits").set_value("Upload").run()
    app.file_uploader(key="digit_upload").set_value(("notes.png", b"not a picture", "image/png")).run()
    app.button(key="predict").click().run()
    assert not app.exception
    assert app.error[0].value == "inputs[0] is not a PNG or JPEG image (invalid_image, HTTP 400)"


def test_a_sample_prediction_is_marked_right_or_wrong_against_its_label(app: AppTest, fake_api: FakeApi) -> None:
    """Next to the prediction, the sample's true label: a match is marked right, a miss marked wrong as such."""
    app.run()
    app.selectbox(key="sample_digits").set_value(SAMPLES.index(sample("3"))).run()
    app.button(key="predict").click().run()
    assert app.main.success[0].value == "Right: this sample is labelled 3."
    app.selectbox(key="sample_digits").set_value(SAMPLES.index(sample("8"))).run()
    app.button(key="predict").click().run()
    assert not app.main.success
    assert app.warning[0].value == (
        "Wrong: this sample is labelled 8, but the model predicts 3. A known miss: the model is not perfect."
    )


def test_text_models_are_left_to_the_sentence_page(app: AppTest, fake_api: FakeApi) -> None:
    """The predictions section lists image and tensor models only."""
    fake_api.catalog = ModelCatalog(default_model="digits", models=[DIGITS, MINILM])
    app.run()
    assert app.selectbox(key="model_name").options == ["digits"]


def test_draw_mode_waits_for_a_drawing(app: AppTest, fake_api: FakeApi) -> None:
    """The Draw input shows the pad and keeps Predict disabled until something is drawn."""
    app.run()
    app.segmented_control(key="input_mode_digits").set_value("Draw").run()
    assert not app.exception
    assert "Draw on the pad, large and in the middle: the server turns the drawing into the model's input." in (
        captions(app)
    )
    assert app.button(key="predict").disabled


def test_a_failed_prediction_shows_the_api_error_and_retry_predicts_again(app: AppTest, fake_api: FakeApi) -> None:
    """A prediction error shows the API's message with Retry; Retry sends the same input again."""
    fake_api.failures["predict"] = MODEL_UNAVAILABLE
    app.run()
    app.button(key="predict").click().run()
    assert not app.exception
    assert app.error[0].value == MODEL_UNAVAILABLE.message
    assert not app.metric

    del fake_api.failures["predict"]
    app.button(key="retry_predict").click().run()
    assert not app.error
    assert app.metric[0].value == "3"
    assert fake_api.predict_calls[0].inputs == [sample("0").input]


def test_a_failed_model_listing_shows_the_error_and_retry_recovers(app: AppTest, fake_api: FakeApi) -> None:
    """If GET /models fails, the section says why and offers Retry, which brings the model list back."""
    fake_api.failures["list_models"] = ApiError("The API at http://api.test did not answer within 15 s.")
    app.run()
    assert not app.exception
    assert app.error[0].value == "The API at http://api.test did not answer within 15 s."
    del fake_api.failures["list_models"]
    app.button(key="retry_models").click().run()
    assert app.selectbox(key="model_name").value == "digits"


def test_no_models_says_how_to_get_one(app: AppTest, fake_api: FakeApi) -> None:
    """An API without models says so instead of showing empty inputs."""
    fake_api.catalog = ModelCatalog(default_model="digits", models=[])
    app.run()
    assert not app.exception
    assert "no models yet" in app.info[0].value


def test_a_model_taking_8x8_grids_gets_nested_pixels(app: AppTest, fake_api: FakeApi) -> None:
    """A digit model whose input is shaped (N, 8, 8) gets its flat sample as an 8x8 grid instead of 64 flat values."""
    square = ModelInfo("digits", ["1"], "1", InputSpec("x", [None, 8, 8], "float32"), None, "", SAMPLES)
    fake_api.catalog = ModelCatalog(default_model="digits", models=[square])
    app.run()
    app.button(key="predict").click().run()
    (inputs,) = fake_api.predict_calls[0].inputs
    assert inputs == pixels("0")


def test_other_models_take_json_input(app: AppTest, fake_api: FakeApi) -> None:
    """A model that is not a digit model takes one input as JSON; bad JSON is explained, good JSON sent."""
    fake_api.catalog = ModelCatalog(default_model="iris", models=[IRIS])
    app.run()
    assert not app.get("segmented_control")  # nothing to choose from: JSON it is
    assert app.button(key="predict").disabled
    app.text_area(key="raw_input").input("[5.1, 3.5,").run()
    assert app.error[0].value.startswith("This is not valid JSON")
    app.text_area(key="raw_input").input("[5.1, 3.5, 1.4, 0.2]").run()
    app.button(key="predict").click().run()
    assert not app.exception
    assert fake_api.predict_calls[0].inputs == [[5.1, 3.5, 1.4, 0.2]]


def test_other_models_offer_their_samples_as_they_are(app: AppTest, fake_api: FakeApi) -> None:
    """A model that is not a digit model but has samples starts on Sample and sends the chosen one unchanged."""
    samples = [Sample("a", [5.1, 3.5, 1.4, 0.2]), Sample("", [6.3, 3.3, 6.0, 2.5])]
    fake_api.catalog = ModelCatalog(default_model="iris", models=[replace(IRIS, samples=samples)])
    app.run()
    assert app.segmented_control(key="input_mode_iris").options == ["Sample", "JSON"]
    assert app.selectbox(key="sample_iris").options == ["Sample 1, labelled a", "Sample 2"]
    app.selectbox(key="sample_iris").set_value(1).run()
    app.button(key="predict").click().run()
    assert not app.exception
    assert fake_api.predict_calls[0].inputs == [[6.3, 3.3, 6.0, 2.5]]


PETS = ModelInfo(
    "pets",
    ["1"],
    "1",
    InputSpec(
        "pixel_values",
        [None, 3, 224, 224],
        "float32",
        kind="image",
        image_formats=["PNG", "JPEG"],
        image_mode="RGB",
        image_size=(224, 224),
    ),
    ["cat", "dog"],
    "Pets, from a colour photo",
)


def test_a_colour_image_model_is_offered_uploads_in_its_own_words(app: AppTest, fake_api: FakeApi) -> None:
    """An RGB model: no Draw pad (it draws one grey channel), and the wording says an image, not a digit."""
    fake_api.catalog = ModelCatalog(default_model="pets", models=[PETS])
    app.run()
    assert not app.get("segmented_control")  # Upload is all there is
    assert app.file_uploader(key="digit_upload").label == "An image (PNG or JPEG)"
    assert not any("digit" in caption.lower() for caption in captions(app))


def test_tensor_samples_are_shown_inline(app: AppTest, fake_api: FakeApi) -> None:
    """A tensor model's sample is shown as its values, not folded away."""
    samples = [Sample("setosa", [5.1, 3.5, 1.4, 0.2])]
    fake_api.catalog = ModelCatalog(default_model="iris", models=[replace(IRIS, samples=samples)])
    app.run()
    assert "[5.1, 3.5, 1.4, 0.2]" in [code.value for code in app.main.code]


def test_plain_outputs_are_shown_by_name(app: AppTest, fake_api: FakeApi) -> None:
    """A regressor's answer (outputs by name, no label) is shown as such, with no "Predicted" class."""
    fake_api.predicted_values = {"variable": [151.2]}
    samples = [Sample("", [0.1, 0.2, 0.3, 0.4])]
    regressor = replace(IRIS, name="diabetes", labels=None, task="tensor", samples=samples)
    fake_api.catalog = ModelCatalog(default_model="diabetes", models=[regressor])
    app.run()
    app.button(key="predict").click().run()
    assert not app.exception
    assert not app.metric
    assert '{"variable": [151.2]}' in [code.value for code in app.code]


SENTIMENT = ModelInfo(
    "sentiment",
    ["1"],
    "1",
    InputSpec("text", [None], "string", kind="text", max_text_bytes=16384),
    ["negative", "neutral", "positive"],
    "Sentiment of a text",
    samples=[Sample("positive", "A wonderful film.")],
)


def test_a_text_classifier_is_predicted_here_from_a_text(app: AppTest, fake_api: FakeApi) -> None:
    """A text classifier (not an embedding model, which has its own page) takes its sample or a typed text."""
    fake_api.catalog = ModelCatalog(default_model="sentiment", models=[SENTIMENT, MINILM])
    app.run()
    assert app.selectbox(key="model_name").options == ["sentiment"]
    assert app.segmented_control(key="input_mode_sentiment").options == ["Sample", "Text"]
    assert '"A wonderful film."' in [code.value for code in app.main.code]
    app.segmented_control(key="input_mode_sentiment").set_value("Text").run()
    app.text_area(key="text_input").input("The service was terrible.").run()
    app.button(key="predict").click().run()
    assert not app.exception
    assert fake_api.predict_calls[-1].inputs == ["The service was terrible."]
