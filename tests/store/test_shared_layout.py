"""The data root's identities: the publisher (the owner) keeps messages/ writable by its group, the API
function's identity, while models/ stays the owner's alone."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from inference.layout import SHARED_DIR_BITS, SHARED_FILE_BITS, DataLayout, share_messages_with_group


def test_messages_become_the_groups_to_write_and_models_stay_the_owners(tmp_path: Path) -> None:
    """Folders under messages/ get setgid and group rwx, files group rw; models/ is not touched; a second run
    changes nothing."""
    layout = DataLayout(tmp_path)
    (layout.messages_dir / "segments").mkdir(parents=True, mode=0o755)
    segment = layout.messages_dir / "segments" / "000001"
    segment.write_bytes(b"old message")
    segment.chmod(0o644)
    (layout.models_dir / "digits").mkdir(parents=True, mode=0o755)
    assert share_messages_with_group(layout) == 3
    for folder in (layout.messages_dir, layout.messages_dir / "segments"):
        assert folder.stat().st_mode & SHARED_DIR_BITS == SHARED_DIR_BITS, oct(folder.stat().st_mode)
    assert segment.stat().st_mode & SHARED_FILE_BITS == SHARED_FILE_BITS
    assert stat.S_IMODE((layout.models_dir / "digits").stat().st_mode) == 0o755
    assert share_messages_with_group(layout) == 0


def test_a_missing_messages_folder_is_made_shared(tmp_path: Path) -> None:
    """On a new file system the publisher makes messages/ before the API function's identity needs it."""
    layout = DataLayout(tmp_path)
    share_messages_with_group(layout)
    assert layout.messages_dir.stat().st_mode & SHARED_DIR_BITS == SHARED_DIR_BITS


WRITES = """
import os, stat, sys
from pathlib import Path
os.umask(int(sys.argv[2], 8))  # whatever the process started with
data = Path(sys.argv[1])
os.environ["DATA_DIR"] = str(data)
if sys.argv[3] == "messages":
    from inference.api import handler  # a message writer from its import on
    handler.message_store().append("hello")
    made = [path for path in (data / "messages").rglob("*")]
else:
    from inference.layout import act_as_model_owner
    from inference.models.publishing import durable_file
    act_as_model_owner()  # as the publisher's handler does first
    (data / "models" / "m" / "1").mkdir(parents=True)
    with durable_file(data / "models" / "m" / "1" / "model.onnx") as file:
        file.write(b"x")
    made = [path for path in (data / "models").rglob("*")]
print(" ".join(f"{path.name}:{stat.S_IMODE(path.stat().st_mode):o}" for path in made))
"""


def _modes_made(tmp_path: Path, umask: str, role: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", WRITES, str(tmp_path), umask, role],
        capture_output=True,
        text=True,
        check=True,
    )
    return {name: int(mode, 8) for name, mode in (item.split(":") for item in done.stdout.split())}


def test_what_a_message_writer_makes_stays_its_groups_whatever_the_umask(tmp_path: Path) -> None:
    """Under an inherited umask of 022, the API handler's new message files and folders are still group-writable,
    so a rollback to the publisher's identity (the group's) keeps writing them."""
    modes = _modes_made(tmp_path, "022", "messages")
    assert modes
    for name, mode in modes.items():
        assert mode & stat.S_IWGRP, f"{name} is {mode:o}"


def test_what_the_publisher_makes_is_its_own_whatever_the_umask(tmp_path: Path) -> None:
    """Under an inherited umask of 002, the model owner's files and folders are not group-writable: the API
    function's identity, in the group, may read models but never write them."""
    modes = _modes_made(tmp_path, "002", "models")
    assert modes
    for name, mode in modes.items():
        assert not mode & stat.S_IWGRP, f"{name} is {mode:o}"
