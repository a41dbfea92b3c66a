"""A failing volume (full, read-only, I/O errors) gives StorageUnavailable with the right code,
makes nothing visible, and the store works again once the volume does."""

from __future__ import annotations

import errno
import fcntl
from pathlib import Path
from unittest import mock

import pytest

from inference.errors import StorageUnavailable
from inference.store.messages import MessageStore
from testing.store_helpers import audit, opens_for_writing, os_failure

CODES = [
    (errno.ENOSPC, "storage_full"),
    (errno.EDQUOT, "storage_full"),
    (errno.EROFS, "storage_read_only"),
    (errno.EACCES, "storage_read_only"),
    (errno.EPERM, "storage_read_only"),
    (errno.EIO, "storage_unavailable"),
    (errno.ESTALE, "storage_unavailable"),
]


def _store_with(tmp_path: Path, n: int, capacity: int = 10_000) -> MessageStore:
    store = MessageStore(tmp_path / "messages", segment_capacity=capacity)
    for number in range(n):
        store.append(f"m{number}")
    return store


def _assert_recovers(store: MessageStore, tmp_path: Path, committed: int) -> None:
    """Nothing of the failed append is visible, and appends work again with the next id."""
    assert store.count() == committed
    assert [record.text for record in audit(tmp_path / "messages")] == [f"m{n}" for n in range(committed)]
    assert store.append("after").id == committed
    assert [record.text for record in audit(tmp_path / "messages")][-1] == "after"


@pytest.mark.parametrize(("error", "code"), CODES)
def test_errno_maps_to_a_code(tmp_path: Path, error: int, code: str) -> None:
    """Each errno of a failed data write maps to its code, with a message a client can read."""
    store = _store_with(tmp_path, 2)
    with os_failure("pwrite", error), pytest.raises(StorageUnavailable) as raised:
        store.append("lost")
    assert raised.value.code == code
    assert raised.value.status == 503
    assert raised.value.message.startswith("cannot store the message: ")
    _assert_recovers(store, tmp_path, 2)


# An append into a segment with room makes 2 pwrites (record, tail slot) and 1 fdatasync.
@pytest.mark.parametrize(("call", "skip"), [("pwrite", 0), ("pwrite", 1), ("fdatasync", 0)])
def test_disk_full_at_any_step_of_an_append(tmp_path: Path, call: str, skip: int) -> None:
    """ENOSPC on any write or fsync of an append: storage_full, nothing visible, then recovery."""
    store = _store_with(tmp_path, 3)
    with os_failure(call, errno.ENOSPC, skip=skip) as failed, pytest.raises(StorageUnavailable) as raised:
        store.append("lost")
    assert failed == [1]
    assert raised.value.code == "storage_full"
    _assert_recovers(store, tmp_path, 3)


# An append that rolls over makes 3 pwrites (the new segment's metadata, the seal, the HEAD hint) and 6 fsyncs
# (new segment, 3 directories, seal, HEAD) before the 2 pwrites and the fdatasync of the append itself.
@pytest.mark.parametrize(
    ("call", "skip"), [("pwrite", n) for n in range(5)] + [("fsync", n) for n in range(6)] + [("fdatasync", 0)]
)
def test_failure_at_any_step_of_a_roll_over(tmp_path: Path, call: str, skip: int) -> None:
    """A failure anywhere in an append that starts a new segment leaves the old state, then recovers."""
    store = _store_with(tmp_path, 4, capacity=2)
    with os_failure(call, errno.EIO, skip=skip) as failed, pytest.raises(StorageUnavailable) as raised:
        store.append("lost")
    assert failed == [1]
    assert raised.value.code == "storage_unavailable"
    _assert_recovers(store, tmp_path, 4)


def test_a_commit_whose_undo_also_fails_stays_invisible(tmp_path: Path) -> None:
    """If the append's fsync fails and so does its undo's, the half-done commit is still invisible."""
    store = _store_with(tmp_path, 2)
    with os_failure("fdatasync", errno.EIO, times=None), pytest.raises(StorageUnavailable):
        store.append("lost")
    _assert_recovers(store, tmp_path, 2)


def test_read_only_volume_still_serves_reads(tmp_path: Path) -> None:
    """On a volume that refuses writes, reads work and append says storage_read_only."""
    _store_with(tmp_path, 3)
    with os_failure("open", errno.EROFS, times=None, when=opens_for_writing):
        store = MessageStore(tmp_path / "messages")
        assert [message.text for message in store.tail(5)] == ["m0", "m1", "m2"]
        with pytest.raises(StorageUnavailable) as raised:
            store.append("lost")
    assert raised.value.code == "storage_read_only"
    _assert_recovers(store, tmp_path, 3)


def test_lock_failure_is_storage_unavailable(tmp_path: Path) -> None:
    """If the file lock cannot be taken (e.g. NFS lock service down), append says storage_unavailable."""
    store = _store_with(tmp_path, 1)
    with (
        mock.patch.object(fcntl, "flock", side_effect=OSError(errno.ENOLCK, "No locks available")),
        pytest.raises(StorageUnavailable) as raised,
    ):
        store.append("lost")
    assert raised.value.code == "storage_unavailable"
    _assert_recovers(store, tmp_path, 1)


def test_read_errors_are_storage_unavailable_and_status_reports_them(tmp_path: Path) -> None:
    """An I/O error while reading makes page/count raise storage_unavailable and status say not ok."""
    store = _store_with(tmp_path, 2)
    with os_failure("pread", errno.EIO, times=None):
        for read in (lambda: store.page(10), store.count, lambda: store.tail(3)):
            with pytest.raises(StorageUnavailable) as raised:
                read()
            assert raised.value.code == "storage_unavailable"
        status = store.status()
    assert status["ok"] is False
    assert status["code"] == "storage_unavailable"
    assert store.status()["ok"] is True


def test_creating_a_store_on_a_read_only_volume(tmp_path: Path) -> None:
    """Creating a new store where directories cannot be made raises storage_read_only."""
    with os_failure("mkdir", errno.EROFS, times=None), pytest.raises(StorageUnavailable) as raised:
        MessageStore(tmp_path / "messages")
    assert raised.value.code == "storage_read_only"


def test_creating_a_store_under_a_file(tmp_path: Path) -> None:
    """A data folder that is really a file raises storage_unavailable."""
    (tmp_path / "data").write_text("not a folder")
    with pytest.raises(StorageUnavailable) as raised:
        MessageStore(tmp_path / "data" / "messages")
    assert raised.value.code == "storage_unavailable"
