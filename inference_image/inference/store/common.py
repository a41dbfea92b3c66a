"""What both on-disk formats of the message store share: the message itself, and how file-system
errors become the store's errors (docs/STORAGE.md, "Errors")."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inference.errors import Gone, StorageUnavailable

FILE_MODE = 0o664  # less the process's umask: group-writable for a message writer (inference.layout)
SEGMENTS_PER_DIR = 1_000

_ERRNO_CODES = {
    errno.ENOSPC: "storage_full",
    errno.EDQUOT: "storage_full",
    errno.EROFS: "storage_read_only",
    errno.EACCES: "storage_read_only",
    errno.EPERM: "storage_read_only",
}
_CODE_REASONS = {
    "storage_full": "the data volume is full",
    "storage_read_only": "the data volume is read-only or not writable by this process",
    "storage_unavailable": "the data volume cannot be reached",
}


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    text: str
    created_at: datetime  # tz-aware, UTC

    def to_dict(self) -> dict[str, Any]:
        """The JSON API's shape."""
        return {"id": self.id, "text": self.text, "created_at": utc_stamp(self.created_at)}

    def legacy_line(self) -> str:
        """The old app's line: ``YYYY-MM-DD HH:MM:SS: text`` (UTC). One line per message, so a line break in the
        text is written as the two characters ``\\n`` (``\\r`` for a carriage return); GET /messages has it as typed."""
        text = self.text.replace("\r", "\\r").replace("\n", "\\n")
        return f"{self.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}: {text}"


def utc_stamp(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def segment_dir(root: Path, segment: int) -> Path:
    """Segments fan out 1,000 to a directory, so no directory grows without bound."""
    return root / "seg" / f"{segment // SEGMENTS_PER_DIR:06d}"


@contextmanager
def reading() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise unavailable(exc, "cannot read the messages") from exc


def open_in(files: ExitStack, path: Path, flags: int) -> int:
    fd = os.open(path, flags, FILE_MODE)
    files.callback(os.close, fd)
    return fd


def pread_exact(fd: int, size: int, offset: int, path: Path) -> bytes:
    data = os.pread(fd, size, offset)
    while len(data) < size:
        more = os.pread(fd, size - len(data), offset + len(data))
        if not more:
            raise corrupt(path, f"ends before byte {offset + size}")
        data += more
    return data


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unavailable(exc: OSError, doing: str) -> StorageUnavailable:
    code = _ERRNO_CODES.get(exc.errno or 0, "storage_unavailable")
    return StorageUnavailable(f"{doing}: {_CODE_REASONS[code]} ({exc.strerror or exc})", code=code)


def corrupt(path: Path, problem: str) -> StorageUnavailable:
    return StorageUnavailable(f"the message store is damaged: {path.name} {problem}", code="storage_corrupt")


def expired(before: int, first_id: int) -> Gone:
    return Gone(
        f"cursor {before} points at messages the retention period has dropped; the oldest kept is {first_id}",
        code="cursor_expired",
    )
