"""``models/<name>/LATEST``: which version of a model to serve, replaced in place and torn-proof.

The file is created once and never renamed: other NFS clients cache name lookups for 30-60 s, but
close-to-open consistency makes a re-opened file's content fresh, so readers simply re-open it.
Its content is an ``inference.slots`` region whose payload is the version name in ASCII, so a writer
that dies mid-write leaves the previous version in force. Writers serialise on the file's lock
(locks work across EFS clients); readers take no lock."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from inference.models.metadata import is_valid_name
from inference.slots import read_slots, read_slots_fd, write_slot

LATEST_FILE = "LATEST"


def read_latest(name_dir: Path) -> str | None:
    """The version LATEST names, or None when there is no LATEST or it holds no valid version."""
    return _version(read_slots(name_dir / LATEST_FILE))


def write_latest(name_dir: Path, version: str) -> None:
    """Point LATEST at ``version``, durably, creating the file the first time."""
    if not is_valid_name(version):
        raise ValueError(f"invalid version {version!r}")
    fd = os.open(name_dir / LATEST_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by close
        if _version(read_slots_fd(fd)) != version:
            write_slot(fd, version.encode("ascii"))
    finally:
        os.close(fd)


def _version(payload: bytes | None) -> str | None:
    if payload is None:
        return None
    version = payload.decode("ascii", errors="replace")
    return version if is_valid_name(version) else None
