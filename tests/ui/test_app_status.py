"""The page as a whole and its API status sidebar, under AppTest with a fake API client."""

from __future__ import annotations

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


def test_unreachable_api_gives_clear_messages_and_retries_without_exception(app: AppTest, fake_api: FakeApi) -> None:
    """An unreachable API shows its message in every section with a Retry button, and Retry recovers."""
    for method in ("health", "list_messages", "list_models"):
        fake_api.failures[method] = UNREACHABLE
    app.run()
    assert not app.exception
    assert [error.value for error in app.error] == [UNREACHABLE.message] * 3
    assert {button.key for button in app.button} >= {"retry_health", "retry_messages", "retry_models"}

    fake_api.failures.clear()
    app.button(key="retry_health").click().run()
    assert not app.exception
    assert not app.error
    assert app.sidebar.success[0].value == "Healthy"
    # The messages section came back too: Retry in the sidebar reran the whole page.
    assert "No messages yet." in [info.value for info in app.info]
