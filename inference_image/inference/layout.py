"""Where things live under the data root (the EFS access point, or a local folder).

$DATA_DIR/messages/   the message store (format: docs/STORAGE.md)
$DATA_DIR/models/     <name>/<version>/{model.onnx,metadata.json}, plus <name>/LATEST
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "/mnt/data"  # the old app's mount path, kept so existing EFS data lines up
# messages/ is the group's to write (setgid: what is made inside stays in the group); models/ and the root are
# their owner's alone. On AWS the owner is the model publisher's identity, the group the API function's.
SHARED_DIR_BITS = stat.S_ISGID | stat.S_IRWXG
SHARED_FILE_BITS = stat.S_IRGRP | stat.S_IWGRP
# The file-creation masks that make those modes whatever the process starts with (Lambda documents none): what a
# message writer (the API function, retention) creates stays writable by its group, the publisher's identity
# included, so a rollback to the previous stack, which writes as that identity, keeps writing them; what the
# publisher creates is its own, readable by all.
MESSAGE_WRITER_UMASK = 0o002
MODEL_OWNER_UMASK = 0o022


def act_as_message_writer() -> None:
    os.umask(MESSAGE_WRITER_UMASK)


def act_as_model_owner() -> None:
    os.umask(MODEL_OWNER_UMASK)


@dataclass(frozen=True)
class DataLayout:
    root: Path

    @property
    def messages_dir(self) -> Path:
        return self.root / "messages"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"


def share_messages_with_group(layout: DataLayout) -> int:
    """Make messages/ (created if missing) and everything in it that this process owns writable by its group:
    the API function's identity, which may write messages but not models (docs/STORAGE.md, "Who may write
    what"). Idempotent; returns how many entries it changed. Entries of other owners are theirs already."""
    root = layout.messages_dir
    root.mkdir(exist_ok=True)
    changed = 0
    for folder, _, files in os.walk(root):
        entries = [(Path(folder), SHARED_DIR_BITS)] + [(Path(folder) / name, SHARED_FILE_BITS) for name in files]
        for path, bits in entries:
            status = path.lstat()
            if status.st_uid == os.getuid() and not stat.S_ISLNK(status.st_mode) and status.st_mode & bits != bits:
                path.chmod(stat.S_IMODE(status.st_mode) | bits)
                changed += 1
    return changed
