"""Format 1 exactly as the store wrote it before format 2 (copied from inference/store/messages.py at the
commit that introduced format 2), kept as a test fixture: tests build format-1 stores with it, and run
old-version writers against a store being upgraded, as old Lambda instances would during a deploy.

Do not edit: it stands for code already running in the field."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inference import slots
from inference.errors import BadRequest, StorageUnavailable

FORMAT = 1
DEFAULT_SEGMENT_CAPACITY = 10_000
SEGMENTS_PER_DIR = 1_000

_HEAD = struct.Struct("<QI")  # current segment, segment capacity
_SEGMENT_HEADER = struct.Struct("<QQ")  # committed message count, committed data end
_ENTRY = struct.Struct("<QII")  # record offset in .dat, payload length, payload crc32
_RECORD = struct.Struct("<4sII")  # magic, payload length, payload crc32
_RECORD_MAGIC = b"MSG1"
_ENTRIES_AT = slots.REGION_SIZE  # the .idx header region comes first
_FILE_MODE = 0o644

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
        """The JSON API's shape, which is also the stored payload."""
        stamp = self.created_at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
        return {"id": self.id, "text": self.text, "created_at": stamp + "Z"}

    def legacy_line(self) -> str:
        """The old app's line: ``YYYY-MM-DD HH:MM:SS: text`` (UTC)."""
        return f"{self.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}: {self.text}"


class MessageStore:
    """Messages under ``messages_dir/v1``; ids are dense from 0 in commit order.

    ``segment_capacity`` only applies when this call creates the store: an existing store keeps
    the capacity recorded in its HEAD, so every process agrees on how ids map to segments.
    """

    def __init__(self, messages_dir: Path, segment_capacity: int = DEFAULT_SEGMENT_CAPACITY) -> None:
        if not 1 <= segment_capacity < 2**32:
            raise ValueError(f"segment_capacity must be between 1 and 2**32 - 1, got {segment_capacity}")
        self._root = Path(messages_dir) / f"v{FORMAT}"
        self._head_path = self._root / "HEAD"
        self._lock_path = self._root / "LOCK"
        self._thread_lock = threading.Lock()
        try:
            # Fast path: an existing store costs one open and one read. Any process that finds HEAD
            # missing creates it at once (O_CREAT), so no NFS client keeps a stale "missing" answer.
            if slots.read_slots(self._head_path) is None:
                self._create(segment_capacity)
        except OSError as exc:
            raise _unavailable(exc, "cannot open the message store") from exc

    def append(self, text: str, now: datetime | None = None) -> Message:
        """Store ``text`` and return it with its id; durable on the volume before this returns."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest("text is not valid Unicode (it holds a lone surrogate)", code="invalid_text") from None
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        with self._thread_lock:
            try:
                with self._file_lock(), ExitStack() as files:
                    return self._append_locked(files, text, now)
            except OSError as exc:
                raise _unavailable(exc, "cannot store the message") from exc

    def page(self, limit: int, before: int | None = None) -> tuple[list[Message], int | None]:
        """Up to ``limit`` messages with ids below ``before`` (default: all), newest first, and the
        ``before`` of the next page, or None when nothing older remains."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        with _reading():
            segment, capacity, in_segment = self._snapshot()
            total = segment * capacity + in_segment
            if before is None:
                before = total
            elif not 0 <= before <= total:
                raise BadRequest(f"cursor {before} is outside this store's 0..{total}", code="invalid_cursor")
            first = max(0, before - limit)
            messages: list[Message] = []
            for seg in range(first // capacity, (before - 1) // capacity + 1):
                start, stop = max(first, seg * capacity), min(before, (seg + 1) * capacity)
                messages.extend(self._read_messages(seg, start - seg * capacity, stop - start, start))
        messages.reverse()
        return messages, (first or None)

    def tail(self, n: int) -> list[Message]:
        """The most recent ``n`` messages, oldest first (the old app's listing)."""
        if n < 1:
            return []
        newest_first, _ = self.page(n)
        newest_first.reverse()
        return newest_first

    def count(self) -> int:
        """How many messages are committed."""
        with _reading():
            segment, capacity, in_segment = self._snapshot()
        return segment * capacity + in_segment

    def status(self) -> dict[str, Any]:
        """For /health: never raises; ``ok`` is False (with a code and message) when the store cannot be read."""
        try:
            with _reading():
                segment, capacity, in_segment = self._snapshot()
        except StorageUnavailable as error:
            return {"ok": False, "format": FORMAT, "code": error.code, "message": error.message}
        return {
            "ok": True,
            "format": FORMAT,
            "count": segment * capacity + in_segment,
            "segment": segment,
            "segment_capacity": capacity,
        }

    # --- writing (always under the file lock) ---

    def _create(self, capacity: int) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        with self._file_lock(), ExitStack() as files:
            head_fd = _open(files, self._head_path, os.O_RDWR | os.O_CREAT)
            if slots.read_slots_fd(head_fd) is not None:
                return  # another process finished first
            # A HEAD without a valid slot is new, or was torn while this very code ran, unless
            # messages were committed: then it was damaged, and starting afresh would lose them.
            idx_path, _ = self._segment_paths(0)
            if slots.read_slots(idx_path) not in (None, _SEGMENT_HEADER.pack(0, 0)):
                raise _corrupt(self._head_path, "has no valid slot but messages exist")
            self._start_segment(files, head_fd, 0, capacity)

    def _append_locked(self, files: ExitStack, text: str, now: datetime | None) -> Message:
        # Every file is (re)opened after the lock is taken: an NFS open revalidates the client's
        # cache (close-to-open), so this writer sees what the previous lock holder committed.
        head_fd = _open(files, self._head_path, os.O_RDWR)
        segment, capacity = _HEAD.unpack(self._required(slots.read_slots_fd(head_fd), self._head_path))
        idx_path, dat_path = self._segment_paths(segment)
        idx_fd, dat_fd = _open(files, idx_path, os.O_RDWR), _open(files, dat_path, os.O_RDWR)
        count, data_end = _SEGMENT_HEADER.unpack(self._required(slots.read_slots_fd(idx_fd), idx_path))
        if count >= capacity:
            segment += 1
            idx_fd, dat_fd = self._start_segment(files, head_fd, segment, capacity)
            count, data_end = 0, 0
        message = Message(segment * capacity + count, text, (now or datetime.now(UTC)).astimezone(UTC))
        payload = json.dumps(message.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        crc = zlib.crc32(payload)
        # Past the committed end there may be leftovers of a killed writer: overwrite them.
        slots.pwrite_all(dat_fd, _RECORD.pack(_RECORD_MAGIC, len(payload), crc) + payload, data_end)
        slots.pwrite_all(idx_fd, _ENTRY.pack(data_end, len(payload), crc), _ENTRIES_AT + count * _ENTRY.size)
        os.fsync(dat_fd)
        os.fsync(idx_fd)
        # The commit point: until this slot is durable, readers and writers ignore the new bytes.
        slots.write_slot(idx_fd, _SEGMENT_HEADER.pack(count + 1, data_end + _RECORD.size + len(payload)))
        return message

    def _start_segment(self, files: ExitStack, head_fd: int, segment: int, capacity: int) -> tuple[int, int]:
        """Create (or reset) ``segment`` empty, then point HEAD at it. Returns its (idx, dat) fds."""
        idx_path, dat_path = self._segment_paths(segment)
        idx_path.parent.mkdir(parents=True, exist_ok=True)
        idx_fd = _open(files, idx_path, os.O_RDWR | os.O_CREAT)
        dat_fd = _open(files, dat_path, os.O_RDWR | os.O_CREAT)
        # HEAD does not name this segment yet, so anything here is a killed roll-over's orphan.
        os.ftruncate(dat_fd, 0)
        os.ftruncate(idx_fd, 0)
        os.fsync(dat_fd)
        slots.write_slot(idx_fd, _SEGMENT_HEADER.pack(0, 0))
        # On a local disk a new name is durable only once its directory is synced.
        for directory in (idx_path.parent, idx_path.parent.parent, self._root):
            _fsync_dir(directory)
        slots.write_slot(head_fd, _HEAD.pack(segment, capacity))
        return idx_fd, dat_fd

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """The store-wide writer lock; closing the descriptor releases it. O_RDWR because NFS grants
        an exclusive lock only on a file open for writing."""
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # --- reading (no lock: only committed, hence immutable, bytes are read) ---

    def _snapshot(self) -> tuple[int, int, int]:
        """(current segment, segment capacity, committed messages in the current segment)."""
        segment, capacity = _HEAD.unpack(self._required(slots.read_slots(self._head_path), self._head_path))
        idx_path, _ = self._segment_paths(segment)
        (count, _data_end) = _SEGMENT_HEADER.unpack(self._required(slots.read_slots(idx_path), idx_path))
        return segment, capacity, count

    def _read_messages(self, segment: int, slot: int, n: int, first_id: int) -> list[Message]:
        """Messages ``slot .. slot + n - 1`` of a segment, oldest first: one read of their index
        entries and one read of their (contiguous) records."""
        idx_path, dat_path = self._segment_paths(segment)
        with ExitStack() as files:
            idx_fd, dat_fd = _open(files, idx_path, os.O_RDONLY), _open(files, dat_path, os.O_RDONLY)
            raw_entries = _pread_exact(idx_fd, n * _ENTRY.size, _ENTRIES_AT + slot * _ENTRY.size, idx_path)
            entries = list(_ENTRY.iter_unpack(raw_entries))
            start = entries[0][0]
            end = entries[-1][0] + _RECORD.size + entries[-1][1]
            if end < start:
                raise _corrupt(idx_path, "index entries out of order")
            data = _pread_exact(dat_fd, end - start, start, dat_path)
        return [_decode_record(data, start, entry, first_id + i, dat_path) for i, entry in enumerate(entries)]

    def _segment_paths(self, segment: int) -> tuple[Path, Path]:
        directory = self._root / "seg" / f"{segment // SEGMENTS_PER_DIR:06d}"
        return directory / f"{segment:09d}.idx", directory / f"{segment:09d}.dat"

    @staticmethod
    def _required(payload: bytes | None, path: Path) -> bytes:
        if payload is None:
            raise _corrupt(path, "no valid header slot")
        return payload


def _decode_record(data: bytes, data_start: int, entry: tuple[int, int, int], expected_id: int, path: Path) -> Message:
    """The message whose index ``entry`` points into ``data`` (read from offset ``data_start``), checked."""
    offset, length, crc = entry
    at = offset - data_start
    if at < 0 or at + _RECORD.size + length > len(data):
        raise _corrupt(path, f"record {expected_id} lies outside the committed data")
    magic, stored_length, stored_crc = _RECORD.unpack_from(data, at)
    payload = data[at + _RECORD.size : at + _RECORD.size + length]
    if magic != _RECORD_MAGIC or (stored_length, stored_crc) != (length, crc) or zlib.crc32(payload) != crc:
        raise _corrupt(path, f"record {expected_id} fails its checksum")
    fields = json.loads(payload)
    if fields.get("id") != expected_id:
        raise _corrupt(path, f"record {expected_id} holds id {fields.get('id')}")
    return Message(expected_id, fields["text"], datetime.fromisoformat(fields["created_at"]))


@contextmanager
def _reading() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise _unavailable(exc, "cannot read the messages") from exc


def _open(files: ExitStack, path: Path, flags: int) -> int:
    fd = os.open(path, flags, _FILE_MODE)
    files.callback(os.close, fd)
    return fd


def _pread_exact(fd: int, size: int, offset: int, path: Path) -> bytes:
    data = os.pread(fd, size, offset)
    while len(data) < size:
        more = os.pread(fd, size - len(data), offset + len(data))
        if not more:
            raise _corrupt(path, f"ends before byte {offset + size}")
        data += more
    return data


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unavailable(exc: OSError, doing: str) -> StorageUnavailable:
    code = _ERRNO_CODES.get(exc.errno or 0, "storage_unavailable")
    return StorageUnavailable(f"{doing}: {_CODE_REASONS[code]} ({exc.strerror or exc})", code=code)


def _corrupt(path: Path, problem: str) -> StorageUnavailable:
    return StorageUnavailable(f"the message store is damaged: {path.name} {problem}", code="storage_corrupt")
