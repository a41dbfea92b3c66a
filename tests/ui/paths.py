"""Where the UI lives in the repository."""

from __future__ import annotations

from testing.local_stack import REPO

UI_DIR = REPO / "ui_image"
APP_FILE = UI_DIR / "app.py"
