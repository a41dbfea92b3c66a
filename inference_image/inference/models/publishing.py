"""Atomic publishing of a model version into a models folder (local data folder or EFS).

A version is written into ``models/<name>/.tmp-<version>-<random>/``, every file fsynced, checked
against its metadata's sha256, then renamed to ``models/<name>/<version>/`` in one step, and finally
``models/<name>/LATEST`` is pointed at it. Readers never see a half-written version under its final
name, and ignore ``.tmp-*`` folders. Publishing a version that already exists with the same model is
a no-op apart from LATEST; with a different model it is refused (versions are immutable).

Used by the local stack (``publish_version``) and by the Lambda publisher (``publish_files``)."""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from inference.models.metadata import (
    METADATA_FILE,
    MetadataError,
    ModelMetadata,
    check_name,
    check_version,
    is_valid_name,
)
from inference.models.pointer import write_latest

TEMP_PREFIX = ".tmp-"
# A temporary folder this old belongs to a publisher that died; nobody will finish it.
STALE_TEMP_SECONDS = 3600.0


class PublishError(Exception):
    """The version cannot be published: incomplete or corrupt files, or another model under that version."""


def publish_version(source_dir: Path, models_dir: Path, name: str, version: str | None = None) -> Path:
    """Publish the model folder ``source_dir`` as ``models_dir/<name>/<version>`` (version defaults to the
    metadata's) and point LATEST at it. Returns the version's folder."""
    source = Path(source_dir)
    metadata = verify_version_dir(source)
    files = [path for path in sorted(source.iterdir()) if is_valid_name(path.name) and path.is_file()]

    def copy_all(stage: Path) -> None:
        for path in files:
            copy_file(path, stage / path.name)

    return publish_files(models_dir, name, version or metadata.version, copy_all)


def publish_files(models_dir: Path, name: str, version: str, fill: Callable[[Path], None]) -> Path:
    """Publish whatever ``fill`` writes into the empty temporary folder it is given (use ``copy_file``
    or ``durable_file`` so each file is fsynced). Returns the version's folder."""
    name_dir = Path(models_dir) / check_name(name)
    version = check_version(version)
    name_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_stages(name_dir)
    stage = name_dir / f"{TEMP_PREFIX}{version}-{secrets.token_hex(6)}"
    stage.mkdir()
    try:
        fill(stage)
        return _commit(stage, name_dir, version)
    finally:
        shutil.rmtree(stage, ignore_errors=True)  # gone already after a successful rename


@contextmanager
def durable_file(path: Path) -> Iterator[BinaryIO]:
    """A new file to write; flushed and fsynced before the block ends. Refuses to overwrite."""
    with open(path, "xb") as file:
        yield file
        file.flush()
        os.fsync(file.fileno())


def copy_file(source: Path, target: Path) -> None:
    with open(source, "rb") as reader, durable_file(target) as writer:
        shutil.copyfileobj(reader, writer, 1024 * 1024)


def verify_version_dir(folder: Path) -> ModelMetadata:
    """The folder's metadata, once every file it lists is confirmed to match the recorded size and sha256."""
    try:
        metadata = ModelMetadata.read(folder)
        for file, entry in metadata.files.items():
            with open(folder / file, "rb") as stream:
                digest = hashlib.file_digest(stream, "sha256").hexdigest()
                size = stream.tell()
            if size != entry.size or digest != entry.sha256:
                raise PublishError(f"{folder / file} does not match the size and sha256 in its metadata")
    except FileNotFoundError as error:
        raise PublishError(f"{folder} lacks {Path(str(error.filename)).name}") from error
    except MetadataError as error:
        raise PublishError(f"{folder / METADATA_FILE} is invalid: {error}") from error
    return metadata


def _commit(stage: Path, name_dir: Path, version: str) -> Path:
    staged = verify_version_dir(stage)
    _fsync_dir(stage)
    final = name_dir / version
    try:
        os.rename(stage, final)  # atomic; fails if a non-empty folder already holds this version
    except OSError as error:
        if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
        _require_same_model(final, staged)
    _fsync_dir(name_dir)
    write_latest(name_dir, version)
    return final


def _require_same_model(final: Path, staged: ModelMetadata) -> None:
    try:
        existing = verify_version_dir(final)
    except PublishError as error:
        raise PublishError(f"{final} already exists but is incomplete or corrupt; remove it first ({error})") from error
    if existing.files != staged.files:
        raise PublishError(f"{final} already holds a different model; versions are immutable, publish a new one")


def _remove_stale_stages(name_dir: Path) -> None:
    cutoff = time.time() - STALE_TEMP_SECONDS
    for entry in name_dir.iterdir():
        try:
            if entry.name.startswith(TEMP_PREFIX) and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except FileNotFoundError:
            continue  # another publisher removed it first


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
