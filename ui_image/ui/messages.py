"""Messages: post one, and page through them newest first with the API's cursor."""

from __future__ import annotations

import re
from datetime import datetime

import streamlit as st

from ui.api_client import ApiClient, ApiError, Message
from ui.feedback import show_api_error

PAGE_SIZES = (10, 25, 50)
CURSORS = "message_cursors"  # the cursor of every page visited so far; the last one is shown
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


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


def _posted_at(created_at: str) -> str:
    try:
        return datetime.fromisoformat(created_at).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return created_at


def _show_table(items: list[Message]) -> None:
    st.table(
        {
            "ID": [message.id for message in items],
            "Posted (UTC)": [_posted_at(message.created_at) for message in items],
            "Message": [_literal(message.text) for message in items],
        },
        hide_index=True,
        hide_header=False,
    )


def _post_form(client: ApiClient) -> None:
    with st.form("post_message", clear_on_submit=True, border=False):
        text = st.text_area("New message", key="message_text", placeholder="Write something…", height=80)
        submitted = st.form_submit_button("Post", key="post_message_submit", type="primary", icon=":material/send:")
    if not submitted:
        return
    if not text.strip():
        st.warning("Write a message first.", icon=":material/edit:")
        return
    try:
        message = client.post_message(text)
    except ApiError as error:
        # The form has already cleared the text box: hand the text back in the message.
        st.error(f"Not posted: {error.message}\n\nYour message: {_literal(text)}", icon=":material/error:")
        return
    st.toast(f"Posted message #{message.id}", icon=":material/check:")
    _first_page()


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
        show_api_error(error, retry_key="retry_messages")
        return

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
