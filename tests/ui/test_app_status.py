"""The page as a whole and its API status sidebar, under AppTest with a fake API client."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from tests.ui.fakes import FakeApi
from ui.api_client import ApiError

UNREACHABLE = ApiError(
    "The API at http://api.test cannot be reached. Check that it is running and that API_URL is right."
)


def test_page_renders_all_sections_with_a_healthy_api(app: AppTest, fake_api: FakeApi) -> None:
    """With a healthy API the page shows its URL, 'Healthy', and both sections, without any error."""
    app.run()
    assert not app.exception
    assert not app.error
    assert app.sidebar.code[0].value == fake_api.base_url
    assert app.sidebar.success[0].value == "Healthy"
    assert [header.value for header in app.main.subheader] == ["Predictions", "Messages"]


def test_degraded_health_is_shown_as_a_warning(app: AppTest, fake_api: FakeApi, monkeypatch) -> None:
    """A degraded /health shows a warning naming the status, with the details to expand."""
    from ui.api_client import Health

    monkeypatch.setattr(fake_api, "health", lambda: Health(status="degraded", details={"store": {"ok": False}}))
    app.run()
    assert not app.exception
    assert app.sidebar.warning[0].value == "Status: degraded"
    assert app.sidebar.json[0].value == '{"store": {"ok": false}}'


def test_unreachable_api_is_reported_once_and_check_again_recovers(app: AppTest, fake_api: FakeApi) -> None:
    """An API that does not answer gets one error, in the sidebar; the sections only point at it; Check again
    recovers the whole page."""
    for method in ("health", "list_messages", "list_models"):
        fake_api.failures[method] = UNREACHABLE
    app.run()
    assert not app.exception
    assert [error.value for error in app.error] == [UNREACHABLE.message]
    assert app.sidebar.error[0].value == UNREACHABLE.message
    pointers = [info.value for info in app.main.info if "does not answer" in info.value]
    assert len(pointers) == 2, "Predictions and Messages each point at the sidebar"
    assert {button.key for button in app.button} >= {"check_health", "retry_messages", "retry_models"}

    fake_api.failures.clear()
    app.button(key="check_health").click().run()
    assert not app.exception
    assert not app.error
    assert app.sidebar.success[0].value == "Healthy"
    assert "No messages yet." in [info.value for info in app.info]


def test_an_error_the_api_sends_is_shown_where_it_happened(app: AppTest, fake_api: FakeApi) -> None:
    """When the API answers (here with a 503), the section shows its message itself; the sidebar stays healthy."""
    fake_api.failures["list_messages"] = ApiError(
        "the store is unavailable (storage_unavailable, HTTP 503)", status=503
    )
    app.run()
    assert not app.exception
    assert app.sidebar.success[0].value == "Healthy"
    assert [error.value for error in app.main.error] == ["the store is unavailable (storage_unavailable, HTTP 503)"]


def test_a_slow_call_is_not_taken_for_an_outage(app: AppTest, fake_api: FakeApi) -> None:
    """A call that times out while /health answers shows the timeout where it happened, not 'does not answer'."""
    fake_api.failures["list_models"] = ApiError("The API at http://api.test did not answer within 15 s.")
    app.run()
    assert not app.exception
    assert app.sidebar.success[0].value == "Healthy"
    assert [error.value for error in app.main.error] == ["The API at http://api.test did not answer within 15 s."]


def test_health_details_label_the_answering_instance(app: AppTest, fake_api: FakeApi) -> None:
    """What one instance has loaded is shown apart from the shared status, naming the instance that answered."""
    app.run()
    shared, instance = (json.loads(element.value) for element in app.sidebar.json)
    assert "instance" not in shared
    assert instance == {"loaded": []}  # which version serves is shared: every instance derives it alike
    assert shared["models"]["serving"] == {"digits": "2"}
    assert any("The instance that answered this check (pid 4242)" in caption.value for caption in app.sidebar.caption)
