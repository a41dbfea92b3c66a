"""The Messages section under AppTest: posting, paging with the cursor, refreshing, errors."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.ui.fakes import FakeApi
from ui.api_client import ApiError, Message


def shown_ids(app: AppTest) -> list[int]:
    return [int(value) for value in app.table[0].value["ID"]]


def post(app: AppTest, text: str) -> None:
    app.text_area(key="message_text").input(text)
    app.button(key="post_message_submit").click().run()


def test_posting_stores_the_message_and_shows_it_first(app: AppTest, fake_api: FakeApi) -> None:
    """A posted message reaches the API, is confirmed, and heads the list."""
    fake_api.add_messages(2)
    app.run()
    post(app, "Hello World")
    assert not app.exception
    assert [message.text for message in fake_api.messages] == ["message 1", "message 2", "Hello World"]
    assert app.toast[0].value == "Posted message #3"
    assert app.table[0].value["Message"][0] == "Hello World"


def test_an_empty_message_is_not_posted(app: AppTest, fake_api: FakeApi) -> None:
    """Posting blank text asks for a message and sends nothing."""
    app.run()
    post(app, "   ")
    assert not app.exception
    assert app.warning[0].value == "Write a message first."
    assert fake_api.messages == []


def test_a_rejected_post_quotes_a_short_prefix_and_keeps_the_text(app: AppTest, fake_api: FakeApi) -> None:
    """An API error on posting shows the API's message and the text's first words only; the box keeps the text."""
    fake_api.failures["post_message"] = ApiError(
        "the message text is over the limit of 100 bytes (text_too_large, HTTP 413)", status=413, code="text_too_large"
    )
    text = "Ünïcödé " * 12  # within the limit /health states (1000 bytes), refused by the API all the same
    fake_api.max_text_bytes = 1000
    app.run()
    post(app, text)
    assert not app.exception
    shown = app.error[0].value
    assert "the message text is over the limit of 100 bytes (text_too_large, HTTP 413)" in shown
    assert "Ünïcödé Ünïcödé" in shown
    assert text.strip() not in shown, "the whole text is not repeated"
    assert len(shown) < 250
    assert app.text_area(key="message_text").value == text


def test_an_oversized_message_is_refused_before_posting_in_bytes_and_characters(
    app: AppTest, fake_api: FakeApi
) -> None:
    """Over the byte limit /health states: the size in bytes and characters, a short prefix, nothing posted."""
    text = "€" * 40  # 40 characters, 120 bytes: within max_chars, over the 100-byte limit
    app.run()
    post(app, text)
    assert not app.exception
    assert fake_api.messages == []
    shown = app.error[0].value
    assert "it is 120 bytes (40 characters), over the limit of 100 bytes" in shown
    assert "€" * 60 not in shown
    assert app.text_area(key="message_text").value == text


def test_the_limit_is_stated_next_to_the_box_with_a_counter(app: AppTest, fake_api: FakeApi) -> None:
    """The box counts characters up to the limit, and its caption states the limit in bytes and what they hold."""
    app.run()
    assert app.text_area(key="message_text").max_chars == 100
    caption = next(c.value for c in app.main.caption if "Up to" in c.value)
    assert "Up to 100 bytes of text" in caption
    assert "an emoji 4" in caption


def test_multi_line_messages_keep_their_lines_and_times_do_not_wrap(app: AppTest, fake_api: FakeApi) -> None:
    """In the table a message's line breaks are Markdown hard breaks, and the time uses no-break characters."""
    fake_api.messages.append(Message(id=1, text="first *line*\nsecond", created_at="2026-11-26T08:00:00.000000Z"))
    app.run()
    assert app.table[0].value["Message"][0] == "first \\*line\\*  \nsecond"
    assert app.table[0].value["Posted (UTC)"][0] == "2026\u201111\u201126\u00a008:00:00"


def test_paging_goes_older_and_newer_through_the_cursor(app: AppTest, fake_api: FakeApi) -> None:
    """With 25 messages and 10 a page, Older and Newer walk pages 25-16, 15-6, 5-1 and back."""
    fake_api.add_messages(25)
    app.run()
    assert shown_ids(app) == list(range(25, 15, -1))
    assert app.button(key="messages_newer").disabled

    app.button(key="messages_older").click().run()
    assert shown_ids(app) == list(range(15, 5, -1))
    app.button(key="messages_older").click().run()
    assert shown_ids(app) == list(range(5, 0, -1))
    assert app.button(key="messages_older").disabled

    app.button(key="messages_newer").click().run()
    assert not app.exception
    assert shown_ids(app) == list(range(15, 5, -1))
    assert "Page 2" in [caption.value for caption in app.caption]


def test_changing_the_page_size_returns_to_the_newest_page(app: AppTest, fake_api: FakeApi) -> None:
    """A new page size starts again from the newest message."""
    fake_api.add_messages(30)
    app.run()
    app.button(key="messages_older").click().run()
    app.selectbox(key="messages_per_page").set_value(25).run()
    assert not app.exception
    assert shown_ids(app) == list(range(30, 5, -1))


def test_refresh_shows_messages_posted_elsewhere(app: AppTest, fake_api: FakeApi) -> None:
    """Refresh reloads the list, showing a message another client posted meanwhile."""
    app.run()
    assert "No messages yet." in [info.value for info in app.info]
    fake_api.add_messages(1)
    app.button(key="messages_refresh").click().run()
    assert shown_ids(app) == [1]


def test_messages_show_literally_not_as_markdown(app: AppTest, fake_api: FakeApi) -> None:
    """Markdown in a message is escaped, so the table shows the characters that were typed."""
    app.run()
    post(app, "**bold** [link](x)")
    assert app.table[0].value["Message"][0] == r"\*\*bold\*\* \[link\]\(x\)"


def test_a_failed_listing_shows_the_api_error_and_retry_recovers(app: AppTest, fake_api: FakeApi) -> None:
    """A listing error shows the API's own message; Retry lists the messages once the API is back."""
    fake_api.add_messages(1)
    fake_api.failures["list_messages"] = ApiError(
        "the message store cannot be opened (storage_unavailable, HTTP 503)", status=503, code="storage_unavailable"
    )
    app.run()
    assert not app.exception
    assert app.error[0].value == "the message store cannot be opened (storage_unavailable, HTTP 503)"

    del fake_api.failures["list_messages"]
    app.button(key="retry_messages").click().run()
    assert not app.error
    assert shown_ids(app) == [1]
