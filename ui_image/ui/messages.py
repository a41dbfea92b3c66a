"""Messages: post one, and page through them newest first with the API's cursor.

Line breaks: the table shows a message's lines as lines, exactly as typed (Markdown escaped). The old
plain-text listing (GET / on the API) keeps one line per message instead, writing a line break as ``\\n``."""

from __future__ import annotations

import re
from datetime import datetime

import streamlit as st

from ui import feedback
from ui.api_client import ApiClient, ApiError, Message

PAGE_SIZES = (10, 25, 50)
CURSORS = "message_cursors"  # the cursor of every page visited so far; the last one is shown
TEXT = "message_text"  # the text box's value
POST_OUTCOME = "message_post_outcome"  # what the last Post did, shown once: ("posted" | "refused", text)
QUOTED_CHARACTERS = 60  # a refused message is quoted this far: enough to recognise it, never a wall of red
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A date and time that never wraps in a narrow column: a no-break space, and non-breaking hyphens.
_UNBROKEN = str.maketrans({" ": "\u00a0", "-": "\u2011"})


def _init_state() -> None:
    if CURSORS not in st.session_state:
        st.session_state[CURSORS] = [None]


def _first_page() -> None:
    st.session_state[CURSORS] = [None]


def _older(cursor: str) -> None:
    st.session_state[CURSORS].append(cursor)


def _newer() -> None:
    if len(st.session_state[CURSORS]) > 1:
        st.session_state[CURSORS].pop()


def _literal(text: str) -> str:
    """Escape Markdown, which st.table and st.error render, so a message shows exactly as written."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def _lines(text: str) -> str:
    """The message for a table cell: escaped, each line break a Markdown hard break, so its lines stay lines."""
    return "  \n".join(_literal(line) for line in _LINE_BREAK.split(text))


def _quoted(text: str) -> str:
    """The start of ``text`` on one line, for a message about it: at most QUOTED_CHARACTERS characters."""
    flat = " ".join(text.split())
    return _literal(flat if len(flat) <= QUOTED_CHARACTERS else flat[:QUOTED_CHARACTERS].rstrip() + "…")


def _posted_at(created_at: str) -> str:
    try:
        shown = datetime.fromisoformat(created_at).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        shown = created_at
    return shown.translate(_UNBROKEN)


def _show_table(items: list[Message]) -> None:
    st.table(
        {
            "ID": [message.id for message in items],
            "Posted (UTC)": [_posted_at(message.created_at) for message in items],
            "Message": [_lines(message.text) for message in items],
        },
        hide_index=True,
        hide_header=False,
    )


def _size_words(size: int) -> str:
    return f"{size:,} bytes"


def _limit_caption(limit: int | None) -> str:
    if limit is None:
        return "Plain text; line breaks are kept."
    return (
        f"Up to {_size_words(limit)} of text: as many characters of plain English; an accented letter counts 2, "
        "most other scripts 3, an emoji 4. Line breaks are kept."
    )


def _post(client: ApiClient) -> None:
    """The Post button's callback: runs before the rerun, so the text box can be emptied on success only."""
    text = st.session_state.get(TEXT, "")
    if not text.strip():
        st.session_state[POST_OUTCOME] = ("empty", "")
        return
    limit = feedback.health_detail("limits", "max_text_bytes")
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if isinstance(limit, int) and size > limit:
        st.session_state[POST_OUTCOME] = (
            "refused",
            f"Not posted: it is {_size_words(size)} ({len(text):,} characters), over the limit of "
            f"{_size_words(limit)}. Shorten it and post again; it is still in the box. It begins: “{_quoted(text)}”",
        )
        return
    try:
        message = client.post_message(text)
    except ApiError as error:
        st.session_state[POST_OUTCOME] = (
            "refused",
            f"Not posted: {error.message}. It is still in the box; it begins: “{_quoted(text)}”",
        )
        return
    st.session_state[TEXT] = ""
    st.session_state[POST_OUTCOME] = ("posted", f"Posted message #{message.id}")
    _first_page()


def _post_form(client: ApiClient) -> None:
    limit = feedback.health_detail("limits", "max_text_bytes")
    with st.form("post_message", clear_on_submit=False, border=False):
        # max_chars counts characters, which never outnumber bytes: it shows a live counter, and every text
        # within the byte limit fits under it.
        st.text_area(
            "New message",
            key=TEXT,
            placeholder="Write something…",
            height=80,
            max_chars=limit if isinstance(limit, int) else None,
        )
        st.caption(_limit_caption(limit if isinstance(limit, int) else None))
        st.form_submit_button(
            "Post", key="post_message_submit", type="primary", icon=":material/send:", on_click=_post, args=(client,)
        )
    outcome, detail = st.session_state.pop(POST_OUTCOME, (None, ""))
    if outcome == "empty":
        st.warning("Write a message first.", icon=":material/edit:")
    elif outcome == "refused":
        st.error(detail, icon=":material/error:")
    elif outcome == "posted":
        st.toast(detail, icon=":material/check:")


@st.fragment
def render_messages(client: ApiClient) -> None:
    _init_state()
    st.subheader("Messages")
    _post_form(client)

    with st.container(horizontal=True, vertical_alignment="bottom"):
        page_size = st.selectbox("Per page", PAGE_SIZES, key="messages_per_page", on_change=_first_page, width=120)
        st.button("Refresh", key="messages_refresh", icon=":material/refresh:")
    cursors = st.session_state[CURSORS]
    try:
        page = client.list_messages(limit=page_size or PAGE_SIZES[0], cursor=cursors[-1])
    except ApiError as error:
        feedback.show_api_error(error, retry_key="retry_messages")
        return
    feedback.api_answered()

    if page.items:
        _show_table(page.items)
    else:
        st.info("No messages yet." if len(cursors) == 1 else "No older messages.", icon=":material/inbox:")

    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(
            "Newer", key="messages_newer", icon=":material/arrow_back:", on_click=_newer, disabled=len(cursors) == 1
        )
        st.caption(f"Page {len(cursors)}", width="content")
        st.button(
            "Older",
            key="messages_older",
            icon=":material/arrow_forward:",
            on_click=_older,
            args=(page.next_cursor,),
            disabled=page.next_cursor is None,
        )
