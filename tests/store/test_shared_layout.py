"""The data root's identities: the publisher (the owner) keeps messages/ writable by its group, the API
function's identity, while models/ stays the owner's alone."""

from __future__ import annotations

import stat
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
