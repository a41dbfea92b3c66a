"""How a failed API call looks on the page: the API's message and a way to try again."""

from __future__ import annotations

import streamlit as st

from ui.api_client import ApiError


def show_api_error(error: ApiError, retry_key: str) -> None:
    """Show the error with a Retry button. A click reruns the section (a fragment) or the page,
    which calls the API again."""
    st.error(error.message, icon=":material/error:")
    st.button("Retry", key=retry_key, icon=":material/refresh:")
