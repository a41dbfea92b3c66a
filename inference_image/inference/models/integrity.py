"""What a version is made of, and whether it is still what was published. Standard library only.

A version's **content checksum** covers every plain file of its folder, ``metadata.json`` included: the
sha256 of ``name\\0sha256\\n`` lines in name order. Publishing the same version again with any file changed,
the metadata too, is refused like a different model, and `pulumi up` republishes exactly when it changes.

Publishing leaves a record beside the files, ``.published.json``: the content checksum and each file's
sha256, size and modification time, as the publisher saw them once the checks had passed. A reader that finds
every file's size and time as recorded knows the version is intact without reading a byte of it; a file
changed after publishing (damaged, or edited by hand) has another time or size and is then read and hashed.
Versions without a record (published by hand, or before records existed) are hashed once per change."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.models.metadata import METADATA_FILE, ModelMetadata, is_valid_name

RECORD_FILE = ".published.json"


def file_sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def plain_files(folder: Path) -> list[Path]:
    """The files a version is made of: plain, visible files at the folder's top level, by name."""
    return sorted(path for path in Path(folder).iterdir() if is_valid_name(path.name) and path.is_file())


def content_sha256(digests: Iterable[tuple[str, str]]) -> str:
    """The content checksum of (file name, sha256) pairs."""
    lines = "".join(f"{name}\0{digest}\n" for name, digest in sorted(digests))
    return hashlib.sha256(lines.encode()).hexdigest()


def folder_content_sha256(folder: Path) -> str:
    return content_sha256((path.name, file_sha256(path)) for path in plain_files(folder))


@dataclass(frozen=True)
class FileState:
    sha256: str
    size: int
    mtime_ns: int


def write_record(folder: Path, checked_with: dict[str, str]) -> str:
    """Record the folder's files as they are now (call once they are fsynced and checked); returns the content
    checksum. ``checked_with`` names what checked them (e.g. the ONNX Runtime version)."""
    files = {}
    for path in plain_files(folder):
        stat = path.stat()
        files[path.name] = {"sha256": file_sha256(path), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    checksum = content_sha256((name, str(entry["sha256"])) for name, entry in files.items())
    record = {"content_sha256": checksum, "files": files, "checked_with": checked_with}
    with open(folder / RECORD_FILE, "x", encoding="utf-8") as stream:
        json.dump(record, stream, indent=1, sort_keys=True)
        stream.flush()
        os.fsync(stream.fileno())
    return checksum


def read_record(folder: Path) -> dict[str, FileState] | None:
    """The recorded files, or None when the version has no (readable) record."""
    try:
        raw: Any = json.loads((folder / RECORD_FILE).read_bytes())
        return {
            name: FileState(str(entry["sha256"]), int(entry["bytes"]), int(entry["mtime_ns"]))
            for name, entry in raw["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def record_checksum(folder: Path) -> str | None:
    """The content checksum the version was published with, if it has a record."""
    try:
        value = json.loads((folder / RECORD_FILE).read_bytes()).get("content_sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def signature(folder: Path, metadata: ModelMetadata) -> tuple[tuple[str, int, int], ...]:
    """Size and modification time of metadata.json and every listed file: what changes when a file does.
    OSError when one cannot be found."""
    names = [METADATA_FILE, *metadata.files]
    return tuple((name, (stat := (folder / name).stat()).st_size, stat.st_mtime_ns) for name in names)


def damage(folder: Path, metadata: ModelMetadata) -> list[str]:
    """Why the version is not what was published (every file checked, each problem said), or [] if it is intact.
    Files whose size and time are as recorded are trusted without reading them."""
    record = read_record(folder)
    problems = []
    expected = {name: entry.sha256 for name, entry in metadata.files.items()}
    if record is not None:
        expected.update({name: state.sha256 for name, state in record.items()})
        expected.setdefault(METADATA_FILE, "")  # a record always holds it; an odd one cannot vouch for it
    for name, digest in expected.items():
        path = folder / name
        try:
            stat = path.stat()
        except FileNotFoundError:
            problems.append(f"{path} is missing, but the version lists it")
            continue
        state = record.get(name) if record is not None else None
        if state is not None and (stat.st_size, stat.st_mtime_ns) == (state.size, state.mtime_ns):
            continue
        if file_sha256(path) != digest:
            changed = (
                "changed after it was published" if state is not None else "does not match the sha256 in its metadata"
            )
            problems.append(f"{path} {changed}")
    return problems
