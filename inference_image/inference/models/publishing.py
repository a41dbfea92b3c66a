"""Atomic, checked publishing of a model version into a models folder (local data folder or EFS).

A version is written into ``models/<name>/.tmp-<version>-<random>/``, every file fsynced and checked against
its metadata's sha256; then, unless the version exists already, the checks of ``inference.models.checks`` run on
it (ONNX Runtime loads it, the graph agrees with the metadata, a probe batch runs); then the publish record is
written (``inference.models.integrity``), the folder renamed to ``models/<name>/<version>/`` in one step, and
finally ``models/<name>/LATEST`` pointed at it. Readers never see a half-written or unchecked version under its
final name, and ignore ``.tmp-*`` folders. A version that fails a check is refused and LATEST does not move.

Publishing a version that already exists with the same files (``metadata.json`` included) only points LATEST at
it again, which is how to roll back; with any file different it is refused (versions are immutable).

A publisher holds an exclusive ``flock`` on ``.tmp-<version>-<random>.lock`` beside its temporary folder from before
the folder exists until after it is renamed or removed (flock works across EFS clients, and the kernel releases it
when the process dies, SIGKILL or a Lambda timeout included). So every publish and rollback of a model removes the
temporary folders of its publishers that died, at once, and never one that a live publisher is writing. A temporary
folder without a lock file (left by a publisher from before the locks) is removed once an hour old.

Used by the local stack and `efs-models` (``publish_version``) and by the Lambda publisher (``publish_files``)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata as package_metadata
from pathlib import Path
from typing import BinaryIO

from inference.models.integrity import (
    damage,
    file_sha256,
    folder_content_sha256,
    plain_files,
    record_checksum,
    write_record,
)
from inference.models.metadata import (
    METADATA_FILE,
    MetadataError,
    ModelMetadata,
    ModelProblems,
    check_name,
    check_version,
)
from inference.models.pointer import write_latest

TEMP_PREFIX = ".tmp-"
LOCK_SUFFIX = ".lock"  # .tmp-<version>-<random>.lock: held by the publisher writing .tmp-<version>-<random>/
# A temporary folder without a lock file this old belongs to a publisher that died; nobody will finish it.
STALE_TEMP_SECONDS = 3600.0


class PublishError(ModelProblems):
    """The version cannot be published: incomplete, corrupt or broken files (every problem listed), or another
    model under that version."""


def publish_version(source_dir: Path, models_dir: Path, name: str, version: str | None = None) -> Path:
    """Publish the model folder ``source_dir`` as ``models_dir/<name>/<version>`` (version defaults to the
    metadata's) and point LATEST at it. Returns the version's folder."""
    source = Path(source_dir)
    metadata = verify_version_dir(source)
    version = check_version(version or metadata.version)
    final = Path(models_dir) / check_name(name) / version
    if final.is_dir() and _same_files(source, final):
        return repoint(models_dir, name, version)  # nothing to copy: the version is there already

    def copy_all(stage: Path) -> None:
        for path in plain_files(source):
            copy_file(path, stage / path.name)

    return publish_files(models_dir, name, version, copy_all)


def publish_files(
    models_dir: Path, name: str, version: str, fill: Callable[[Path], None], *, content_sha256: str | None = None
) -> Path:
    """Publish whatever ``fill`` writes into the empty temporary folder it is given (use ``copy_file``
    or ``durable_file`` so each file is fsynced); ``content_sha256``, when given, is the content checksum the
    files must have. Returns the version's folder."""
    name_dir = Path(models_dir) / check_name(name)
    version = check_version(version)
    first = not name_dir.exists()
    name_dir.mkdir(parents=True, exist_ok=True)
    remove_abandoned_stages(name_dir)
    try:
        with _stage(name_dir, version) as stage:
            fill(stage)
            return _commit(stage, name_dir, version, content_sha256)
    except BaseException:
        if first:  # a refused first version leaves no empty model behind (GET /models would list it)
            with contextlib.suppress(OSError):
                name_dir.rmdir()  # only if empty: another publisher may have landed a version meanwhile
        raise


def repoint(models_dir: Path, name: str, version: str) -> Path:
    """Point LATEST at an existing version (a rollback), once it is confirmed intact. Returns its folder."""
    name_dir = Path(models_dir) / check_name(name)
    final = name_dir / check_version(version)
    if not final.is_dir():
        raise PublishError(f"model {name!r} has no version {version!r} in {name_dir}")
    remove_abandoned_stages(name_dir)
    try:
        verify_version_dir(final)
    except PublishError as error:
        raise PublishError(
            [f"{final} is damaged and cannot be served; publish a new version", *error.problems]
        ) from None
    write_latest(name_dir, version)
    return final


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
    """The folder's metadata, once every file it lists is confirmed to match the recorded size and sha256;
    PublishError listing every problem otherwise."""
    folder = Path(folder)
    try:
        metadata = ModelMetadata.read(folder)
    except FileNotFoundError as error:
        raise PublishError(f"{folder} lacks {Path(str(error.filename)).name}") from error
    except MetadataError as error:
        raise PublishError([f"{folder / METADATA_FILE}: {problem}" for problem in error.problems]) from error
    problems = damage(folder, metadata)
    if problems:
        raise PublishError(problems)
    return metadata


def _commit(stage: Path, name_dir: Path, version: str, content_sha256: str | None) -> Path:
    verify_version_dir(stage)
    if content_sha256 is not None and folder_content_sha256(stage) != content_sha256:
        raise PublishError(
            f"the files of {name_dir.name} version {version} are not the ones announced (content checksum "
            f"{content_sha256[:12]}...): they changed while being published; publish again"
        )
    final = name_dir / version
    if not final.is_dir():
        _check_before_publishing(stage)
        write_record(stage, _checked_with())
        _fsync_dir(stage)
        try:
            os.rename(stage, final)  # atomic; fails if a non-empty folder already holds this version
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    _require_same_files(final, stage)  # another publisher may have won the race: same files, or refused
    _fsync_dir(name_dir)
    write_latest(name_dir, version)
    return final


def _check_before_publishing(stage: Path) -> None:
    from inference.models.checks import check_version_dir  # loads onnxruntime: only when publishing a new version

    try:
        check_version_dir(stage)
    except ModelProblems as problems:
        raise PublishError(problems.problems) from None


def _checked_with() -> dict[str, str]:
    return {"onnxruntime": package_metadata.version("onnxruntime")}


def _same_files(source: Path, final: Path) -> bool:
    """Whether two version folders hold the same files, by their content checksums."""
    published = record_checksum(final) or folder_content_sha256(final)
    return folder_content_sha256(source) == published


def _require_same_files(final: Path, stage: Path) -> None:
    if not final.exists():  # the stage was renamed into place: it is the version
        return
    try:
        verify_version_dir(final)
    except PublishError as error:
        raise PublishError(
            [
                f"{final} already exists but is incomplete or damaged; remove it first, or publish a new version",
                *error.problems,
            ]
        ) from None
    if stage.exists() and not _same_files(stage, final):
        published = {path.name: file_sha256(path) for path in plain_files(final)}
        staged = {path.name: file_sha256(path) for path in plain_files(stage)}
        differing = sorted(name for name in published.keys() | staged.keys() if published.get(name) != staged.get(name))
        raise PublishError(
            f"{final} already holds a different model ({', '.join(differing)} differ); versions are immutable: "
            "publish this one as a new version"
        )


@contextmanager
def _stage(name_dir: Path, version: str) -> Iterator[Path]:
    """A new temporary folder for ``version``, locked as this publisher's until it is renamed or removed."""
    while True:
        stage = name_dir / f"{TEMP_PREFIX}{version}-{secrets.token_hex(6)}"
        lock_path = _lock_path(stage)
        lock = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits only while a sweeper holds it
        if _still_linked(lock_path, lock):
            break
        os.close(lock)  # a sweeper took the new lock for an abandoned one before this publisher held it: anew
    try:
        stage.mkdir()
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)  # gone already after a successful rename
        os.close(lock)  # only now that the folder is gone may a sweeper take the lock
        lock_path.unlink(missing_ok=True)


def remove_abandoned_stages(name_dir: Path) -> None:
    """Remove the model's temporary folders that no live publisher is writing (their lock is free), and those
    without a lock file once STALE_TEMP_SECONDS old."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for entry in Path(name_dir).iterdir():
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        if entry.name.endswith(LOCK_SUFFIX):
            _remove_if_abandoned(entry.with_name(entry.name.removesuffix(LOCK_SUFFIX)), entry)
            continue
        try:
            unlocked_and_old = not _lock_path(entry).exists() and entry.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue  # removed meanwhile by its publisher or another sweeper
        if unlocked_and_old:
            shutil.rmtree(entry, ignore_errors=True)


def _remove_if_abandoned(stage: Path, lock_path: Path) -> None:
    try:
        lock = os.open(lock_path, os.O_RDWR)
    except OSError:
        return  # gone meanwhile, or not this identity's to take
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # its publisher is alive and writing it (or locks fail here: then keep everything)
        if _still_linked(lock_path, lock):  # else its publisher or another sweeper removed both meanwhile
            shutil.rmtree(stage, ignore_errors=True)
            lock_path.unlink(missing_ok=True)
    finally:
        os.close(lock)


def _lock_path(stage: Path) -> Path:
    return stage.with_name(stage.name + LOCK_SUFFIX)


def _still_linked(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not unlinked, nor replaced)."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
