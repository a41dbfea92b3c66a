"""A small real file system for the broken-data-folder tests: a tmpfs mounted over a test folder (needs root,
or CAP_SYS_ADMIN), which can be filled up and remounted read-only."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILL_CHUNKS = (1 << 16, 1 << 12, 1)  # big writes first, then smaller ones to take the last free bytes


def mount_problem() -> str | None:
    """Why a tmpfs cannot be mounted here, or None if it can be tried."""
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "mount/umount are not installed"
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    return None


@contextmanager
def tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. "256k") mounted on ``mount_point`` for the block; raises OSError if it cannot be."""
    mount_point.mkdir(parents=True, exist_ok=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(mount_point))
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


def remount(mount_point: Path, mode: str) -> None:
    """Switch a mounted tmpfs to ``ro`` or ``rw``."""
    _run("mount", "-o", f"remount,{mode}", str(mount_point))


def fill_up(path: Path) -> int:
    """Write ``path`` until the file system has no byte left; returns how many bytes it took."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for chunk in FILL_CHUNKS:
            while True:
                try:
                    written += os.write(fd, b"\0" * chunk)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return written


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    if result.returncode != 0:
        raise OSError(f"{' '.join(command)} failed: {result.stderr.strip() or result.returncode}")
