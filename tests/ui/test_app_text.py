"""The sentence-similarity page under AppTest: sentences in, a heat map of pairwise similarities and timings out."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.fakes import DIGITS, MINILM, FakeApi
from ui.api_client import ApiError, ModelCatalog, Output, Prediction
from ui.text_page import similarities


def text_page() -> None:
    from ui import api_client
    from ui.text_page import render_text_page

    render_text_page(api_client.get_client())


@pytest.fixture
def page(fake_api: FakeApi) -> AppTest:
    fake_api.catalog = ModelCatalog(default_model="digits", models=[DIGITS, MINILM])
    return AppTest.from_function(text_page, default_timeout=30)


def test_sentences_are_embedded_and_compared(page: AppTest, fake_api: FakeApi) -> None:
    """Compare sends one text per non-blank line to the text model and shows the heat map and the timings."""
    page.run()
    assert page.selectbox(key="text_model").options == ["minilm"]
    page.text_area(key="sentences").input("A cat sits.\n\n  A cat sleeps.  \nDogs bark.").run()
    page.button(key="embed").click().run()
    assert not page.exception
    call = fake_api.predict_calls[0]
    assert (call.model, call.inputs) == ("minilm", ["A cat sits.", "A cat sleeps.", "Dogs bark."])
    chart = page.get("arrow_vega_lite_chart") or page.get("vega_lite_chart")
    assert chart
    timing = "**8.0 ms** model (2.7 ms per sentence) · **0.5 ms** tokenising · **9.5 ms** in the API"
    assert any(timing in markdown.value for markdown in page.markdown)
    assert any("3 embeddings of 2 dimensions" in caption.value for caption in page.caption)


def test_similarity_is_the_cosine_of_the_embeddings() -> None:
    """Equal vectors score 1, orthogonal 0, opposite -1, whatever their length."""
    outputs = [Output("", {}, [2.0, 0.0]), Output("", {}, [0.0, 1.0]), Output("", {}, [-1.0, 0.0])]
    prediction = Prediction("m", "1", outputs, 1.0, 1.0, 1.0)
    assert np.allclose(similarities(prediction), [[1, 0, -1], [0, 1, 0], [-1, 0, 1]])


def test_no_sentences_no_request(page: AppTest, fake_api: FakeApi) -> None:
    """With only blank lines, Compare is disabled and nothing is sent."""
    page.run()
    page.text_area(key="sentences").input("  \n ").run()
    assert page.button(key="embed").disabled
    assert fake_api.predict_calls == []


def test_too_many_sentences_are_refused_before_sending(page: AppTest, fake_api: FakeApi) -> None:
    """More than 32 lines: a warning says how many are allowed, and Compare is disabled."""
    page.run()
    page.text_area(key="sentences").input("\n".join(f"line {index}" for index in range(33))).run()
    assert "at most 32" in page.warning[0].value
    assert page.button(key="embed").disabled


def test_an_api_error_is_shown_with_retry(page: AppTest, fake_api: FakeApi) -> None:
    """A failed request shows the API's message and Retry, which asks again."""
    fake_api.failures["predict"] = ApiError("inputs[0] is 20000 bytes of UTF-8 (invalid_input, HTTP 400)", status=400)
    page.run()
    page.button(key="embed").click().run()
    assert page.error[0].value.startswith("inputs[0] is 20000 bytes")
    del fake_api.failures["predict"]
    page.button(key="retry_embed").click().run()
    assert not page.error
    assert len(fake_api.predict_calls) == 1


def test_without_a_text_model_the_page_says_how_to_get_one(page: AppTest, fake_api: FakeApi) -> None:
    """An API with no text model gets a hint instead of an empty form."""
    fake_api.catalog = ModelCatalog(default_model="digits", models=[DIGITS])
    page.run()
    assert "make minilm" in page.info[0].value
