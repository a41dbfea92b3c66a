"""The sidebar: which API this UI talks to, and whether it is healthy."""

from __future__ import annotations

import streamlit as st

from ui.api_client import ApiClient, ApiError
from ui.feedback import show_api_error


def render_status(client: ApiClient) -> None:
    st.subheader("API")
    st.caption("Set by the `API_URL` environment variable.")
    st.code(client.base_url, language=None)
    try:
        health = client.health()
    except ApiError as error:
        show_api_error(error, retry_key="retry_health")
        return
    if health.ok:
        st.success("Healthy", icon=":material/check_circle:")
    else:
        st.warning(f"Status: {health.status}", icon=":material/warning:")
    with st.expander("Details"):
        st.json(health.details)
    st.button("Check again", key="check_health", icon=":material/refresh:")
