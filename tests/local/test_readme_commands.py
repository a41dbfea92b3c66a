"""The README's "Try it" commands, run verbatim (but for the URL) against the local stack with the real
handler, so the README stays true: every curl line must succeed."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from testing.local_stack import REPO, Running, json_objects

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def try_it_block() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Try it") :]
    found = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert found, "README's 'Try it' section has no bash block"
    return found.group(1)


def test_readme_try_it_commands_succeed(real_server: Running) -> None:
    """Every curl line of the README's 'Try it' block answers 2xx from the local stack."""
    block = try_it_block()
    assert block.count("curl ") >= 8
    script = re.sub(r"^URL=.*$", f"URL={real_server.url}", block, count=1, flags=re.MULTILINE)
    # --fail turns an HTTP error into a failed command, and set -e stops at the first one.
    wrapper = 'set -euo pipefail\ncurl() { command curl --fail --silent --show-error "$@"; }\n'
    done = subprocess.run(["bash", "-c", wrapper + script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Hello World" in done.stdout
    assert any(answer.get("model") == "digits" for answer in json_objects(done.stdout))
