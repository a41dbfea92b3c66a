"""One Streamlit configuration for the UI: ui_image/.streamlit/config.toml, read by `make dev` and by the image."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

from local.dev import ui_command
from tests.ui import dockerfile
from tests.ui.paths import UI_DIR

CONFIG = UI_DIR / ".streamlit" / "config.toml"
# What the deployed UI needs behind the ALB, and what a person sees: no Deploy button, no tracebacks, 10 MB uploads.
DEPLOYED = {
    ("server", "headless"): True,
    ("server", "enableCORS"): True,
    ("server", "enableXsrfProtection"): True,
    ("server", "websocketPingInterval"): 30,
    ("server", "fileWatcherType"): "none",
    ("server", "maxUploadSize"): 10,
    ("client", "toolbarMode"): "viewer",
    ("client", "showErrorDetails"): "none",
    ("browser", "gatherUsageStats"): False,
}


def configured() -> dict[str, object]:
    with CONFIG.open("rb") as file:
        sections = tomllib.load(file)
    return {f"{section}.{key}": value for section, options in sections.items() for key, value in options.items()}


def test_the_config_file_holds_the_deployed_settings() -> None:
    """config.toml sets every option the deployed UI relies on."""
    assert configured() == {f"{section}.{key}": value for (section, key), value in DEPLOYED.items()}


def test_neither_the_image_nor_make_dev_overrides_the_config() -> None:
    """The image's CMD and make dev's command set only the port and address, so both run with config.toml."""
    args = argparse.Namespace(ui_app=Path("ui_image/app.py"), ui_port=8501, host="127.0.0.1")
    for command in (dockerfile.cmd(), ui_command(args)):
        options = {part.split("=")[0] for part in command if part.startswith("--")}
        assert options == {"--server.port", "--server.address"}, command


def test_streamlit_reads_it_from_the_repository_root_as_make_dev_runs_it(tmp_path: Path) -> None:
    """Run from the repository root with ui_image/app.py (as make dev does), Streamlit reads config.toml next to it."""
    probe = (
        "import sys\n"
        "from streamlit import config\n"
        "from streamlit.web import bootstrap\n"
        "bootstrap.load_config_options(flag_options={})\n"
        "config._main_script_path = sys.argv[1]\n"  # what `streamlit run <script>` records
        "config.get_config_options(force_reparse=True)\n"
        "print(config.get_option('client.toolbarMode'), config.get_option('server.maxUploadSize'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(UI_DIR / "app.py")],
        cwd=UI_DIR.parent,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["viewer", "10"]
