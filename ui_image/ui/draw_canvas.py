"""A drawing pad built on Streamlit's own custom components (v2): inline HTML, CSS and
JavaScript served by the Streamlit server itself, so it needs no network and no extra package."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_HERE = Path(__file__).parent
_HTML = (
    '<div class="pad"><canvas width="224" height="224" aria-label="Drawing pad"></canvas><button>Clear</button></div>'
)

_pad = st.components.v2.component(
    "digit_drawing_pad",
    html=_HTML,
    css=(_HERE / "draw_canvas.css").read_text(encoding="utf-8"),
    js=(_HERE / "draw_canvas.js").read_text(encoding="utf-8"),
)


def draw_digit(key: str) -> str | None:
    """Show the pad; the drawing so far as a PNG data URL, or None while it is blank."""
    previous = (st.session_state.get(key) or {}).get("image")
    result = _pad(key=key, data=previous, default={"image": None}, on_image_change=lambda: None)
    image = result.image
    return image if isinstance(image, str) else None
