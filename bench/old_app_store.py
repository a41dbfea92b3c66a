"""The old CDK app's storage, for comparison: one text file on the shared volume; each POST appends a
``YYYY-MM-DD HH:MM:SS: text`` line with O_APPEND under an exclusive flock, each GET re-reads the whole file."""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path


class OldAppFile:
    def __init__(self, path: Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync  # the old app did not fsync; with it, an append is as durable as the store's

    def append(self, text: str) -> None:
        line = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}: {text}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock

    def read_all(self) -> list[str]:
        with open(self.path, "rb") as file:
            fcntl.flock(file.fileno(), fcntl.LOCK_SH)
            return file.read().decode("utf-8").splitlines()


def build_old_file(path: Path, count: int) -> OldAppFile:
    """A file of ``count`` lines, written in bulk."""
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}"
    with open(path, "w", encoding="utf-8") as file:
        for start in range(0, count, 10_000):
            file.write("".join(f"{stamp}: benchmark message {n}\n" for n in range(start, min(count, start + 10_000))))
    return OldAppFile(path)
