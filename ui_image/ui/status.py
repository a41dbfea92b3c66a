"""The sidebar: which API this UI talks to, and whether it is healthy, as the page last saw it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import feedback
from ui.api_client import ApiClient, ApiError

# The part of /health that describes the one instance (Lambda execution environment, or local worker) that
# answered: the models it has loaded, on first use, which differ from one check to the next. Which version each
# model serves is not among them: every instance derives it from the file system alike.
_INSTANCE = "instance"


def render_status(client: ApiClient) -> None:
    st.subheader("API")
    st.caption("Set by the `API_URL` environment variable.")
    st.code(client.base_url, language=None)
    try:
        health = client.health()
    except ApiError as error:
        feedback.note_health(None, answered=error.status is not None)
        st.error(error.message, icon=":material/cloud_off:" if error.status is None else ":material/error:")
        st.button("Check again", key="check_health", icon=":material/refresh:")
        return
    feedback.note_health(health)
    if health.ok:
        st.success("Healthy", icon=":material/check_circle:")
    else:
        st.warning(f"Status: {health.status}", icon=":material/warning:")
    with st.expander("Details"):
        st.json({key: value for key, value in health.details.items() if key != _INSTANCE})
        instance = health.details.get(_INSTANCE)
        if isinstance(instance, dict):
            _show_instance(instance)
    st.button("Check again", key="check_health", icon=":material/refresh:")


def _show_instance(instance: dict[str, Any]) -> None:
    st.caption(
        f"The instance that answered this check ({instance.get('id', 'unnamed')}). Each instance loads models "
        "on first use, so what it has loaded can differ at the next check, answered by another one."
    )
    st.json({key: value for key, value in instance.items() if key != "id"})
