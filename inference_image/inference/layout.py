"""Where things live under the data root (the EFS access point, or a local folder).

$DATA_DIR/messages/   the message store (format: docs/STORAGE.md)
$DATA_DIR/models/     <name>/<version>/{model.onnx,metadata.json}, plus <name>/LATEST
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "/mnt/data"  # the old app's mount path, kept so existing EFS data lines up


@dataclass(frozen=True)
class DataLayout:
    root: Path

    @property
    def messages_dir(self) -> Path:
        return self.root / "messages"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"
