"""How a failed API call looks on the page, and what the page last saw of the API.

When the API does not answer at all, the sidebar's status says so, once, and the sections only point at
it. A section that finds the API gone (or back) on a rerun of its own, while the sidebar still says
otherwise, reruns the whole page, so the sidebar follows what the page just saw."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import api_client
from ui.api_client import ApiError

API_DOWN = "api_down"  # True while the latest look at the API found it not answering
HEALTH = "api_health"  # the latest /health answer (a Health), for what it says about limits
_FULL_RUN = "page_full_run"  # True while app.py runs from the top, i.e. not during a fragment's own rerun


def begin_page_run() -> None:
    st.session_state[_FULL_RUN] = True


def end_page_run() -> None:
    st.session_state[_FULL_RUN] = False


def note_health(health: api_client.Health | None, answered: bool = True) -> None:
    """Record the sidebar's own check: the /health answer (None if it was an error), and whether the API answered."""
    st.session_state[API_DOWN] = not answered
    if health is not None:
        st.session_state[HEALTH] = health


def health_detail(*keys: str) -> Any:
    """A value from the latest /health answer, e.g. health_detail("limits", "max_text_bytes"); None if unknown."""
    value: Any = getattr(st.session_state.get(HEALTH), "details", None)
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def api_answered() -> None:
    """A section's call succeeded; if the sidebar still says the API is down, rerun the page to correct it."""
    if st.session_state.get(API_DOWN) and not st.session_state.get(_FULL_RUN):
        st.session_state[API_DOWN] = False
        st.rerun(scope="app")


def show_api_error(error: ApiError, retry_key: str) -> None:
    """Show a failed call with a Retry button; a click reruns the section (a fragment) or the page, which calls
    the API again. An API that does not answer at all is reported once, in the sidebar: here, only a pointer."""
    if error.status is None and _api_is_down():
        st.info("Not loaded: the API does not answer (see **API** in the sidebar).", icon=":material/cloud_off:")
    else:
        st.error(error.message, icon=":material/error:")
    st.button("Retry", key=retry_key, icon=":material/refresh:")


def _api_is_down() -> bool:
    """Whether /health fails too: then the API is down, rather than slow on this one call."""
    if st.session_state.get(_FULL_RUN):  # the sidebar has just checked, in this very run
        return bool(st.session_state.get(API_DOWN))
    try:
        api_client.get_client().health()
    except ApiError as error:
        if error.status is not None:
            return False  # it answered, with an error of its own
        if not st.session_state.get(API_DOWN):  # the sidebar still says it is up: rerun the page to correct it
            st.session_state[API_DOWN] = True
            st.rerun(scope="app")
        return True
    return False
