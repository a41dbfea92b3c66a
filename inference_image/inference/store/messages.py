"""The message store: an append-only log on a shared file system (EFS over NFS, or a local folder)
that many processes on many hosts write at once. On-disk format 2 and the reasoning behind it are
in docs/STORAGE.md; keep the two in step.

In short: each segment is one file: a header, a tail record (committed count and data end) and a
sparse index, then self-checking records. Writers serialise on ``flock`` of the current segment
file; an append is one record write and one tail write, made durable by a single fsync. Readers
take no lock, never read past the tail, and check every record, so a tail whose record is not all
there yet (a writer still in its fsync, or one that died in it) falls back to the previous tail.
A format-1 store found on the volume is frozen and read in place (``store.format1``).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import struct
import threading
import zlib
from contextlib import ExitStack, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inference import slots
from inference.errors import BadRequest, Gone, StorageUnavailable
from inference.store.common import (
    Message,
    corrupt,
    expired,
    fsync_dir,
    open_in,
    reading,
    segment_dir,
    unavailable,
    utc_stamp,
)
from inference.store.format1 import Format1Segments, Frozen, freeze

__all__ = ["DEFAULT_SEGMENT_CAPACITY", "FORMAT", "Message", "MessageStore"]

FORMAT = 2
DEFAULT_SEGMENT_CAPACITY = 10_000
MAX_SEGMENT_CAPACITY = 1_000_000  # keeps a segment's header + sparse index (read whole) under 128 KiB
BLOCK = 64  # records per sparse-index entry: a read starts at most BLOCK - 1 records before what it needs
GROWTH = 64 * 1024  # a segment's data grows in zero-filled steps of this size (see _growth)

HEAD = struct.Struct("<IQQQQI")  # capacity, base, current segment (a hint), first kept id, swept id, v1 capacity
HEADER = struct.Struct("<QIBQ")  # first id, capacity, sealed, created_at of the last message (µs, once sealed)
# committed count, data end, start of the last record, start of the last block, crc of the last record
TAIL = struct.Struct("<IQQQI")
SPARSE = struct.Struct("<Q")  # start of a block's first record
FRAME = struct.Struct("<4sQII")  # magic, id, payload length, crc32 of the frame's first 16 bytes + payload
RECORD_MAGIC = b"MSG2"
TAIL_AT = slots.REGION_SIZE
SPARSE_AT = 2 * slots.REGION_SIZE
_ALIGN = 4096
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PATHS_CACHED = 64
_GONE_ERRNOS = (errno.ENOENT, errno.ESTALE)  # an old segment's file removed by retention (ESTALE: on NFS)


def meta_size(capacity: int) -> int:
    """Bytes of a segment's header, tail and sparse index: what every operation reads first, in one pread."""
    return SPARSE_AT + SPARSE.size * -(-capacity // BLOCK)


def data_start(capacity: int) -> int:
    return -(-meta_size(capacity) // _ALIGN) * _ALIGN


@dataclass(frozen=True)
class Head:
    capacity: int
    base: int  # ids below it are format 1's, read in place
    current: int  # the current segment when HEAD was last written; the segments' seals say the rest
    first_id: int  # the oldest id retention keeps
    swept_id: int  # segments below it have had their files removed
    v1_capacity: int

    def pack(self) -> bytes:
        return HEAD.pack(self.capacity, self.base, self.current, self.first_id, self.swept_id, self.v1_capacity)


@dataclass(frozen=True)
class Tail:
    count: int
    end: int
    last_start: int
    block_start: int
    last_crc: int = 0

    def pack(self) -> bytes:
        return TAIL.pack(self.count, self.end, self.last_start, self.block_start, self.last_crc)

    def names(self, record: tuple[Message, int, int] | None, at: int) -> bool:
        """Whether ``record`` (decoded at offset ``at``) is exactly the last record this tail commits: its
        place, size and crc, so that another writer's record written in the same place is not mistaken for it."""
        return record is not None and (at, at + record[1], record[2]) == (self.last_start, self.end, self.last_crc)


@dataclass(frozen=True)
class Segment:
    """One read of a segment's metadata."""

    number: int
    first_id: int
    sealed: bool
    last_created_us: int
    tail: Tail
    older: Tail | None  # the tail the newest one replaced
    meta: bytes

    def sparse(self, block: int) -> int:
        (offset,) = SPARSE.unpack_from(self.meta, SPARSE_AT + SPARSE.size * block)
        return int(offset)


class _Misplaced(Exception):
    """A read did not start on the record a sparse-index entry promised (see ``_read_range``)."""


class MessageStore:
    """Messages under ``messages_dir/v2`` (and a frozen ``v1``); ids are dense from 0 in commit order.

    ``segment_capacity`` only applies when this call creates the store: an existing store keeps
    the capacity recorded in its HEAD, so every process agrees on how ids map to segments.
    """

    def __init__(self, messages_dir: Path, segment_capacity: int = DEFAULT_SEGMENT_CAPACITY) -> None:
        if not 1 <= segment_capacity <= MAX_SEGMENT_CAPACITY:
            raise ValueError(f"segment_capacity must be between 1 and {MAX_SEGMENT_CAPACITY}, got {segment_capacity}")
        self._dir = Path(messages_dir)
        self._root = self._dir / f"v{FORMAT}"
        self._head_path = self._root / "HEAD"
        self._thread_lock = threading.Lock()
        self._committed: tuple[int, Tail] | None = None  # (segment, tail) of this process's last durable append
        self._current = 0  # the current segment as this process last saw it
        self._paths: dict[int, Path] = {}
        try:
            # Fast path: an existing store costs one open and one read. Any process that finds HEAD
            # missing creates it at once (O_CREAT), so no NFS client keeps a stale "missing" answer.
            head = self._read_head()
            if head is None:
                head = self._create(segment_capacity)
        except OSError as exc:
            raise unavailable(exc, "cannot open the message store") from exc
        self._use(head)

    def _use(self, head: Head) -> None:
        self._head = head
        self._current = max(head.current, self._current)
        self._format1 = Format1Segments(self._dir, Frozen(head.base, head.v1_capacity))

    # --- the interface ---

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
                return self._append(text, (now or datetime.now(UTC)).astimezone(UTC))
            except OSError as exc:
                raise unavailable(exc, "cannot store the message") from exc

    def page(self, limit: int, before: int | None = None) -> tuple[list[Message], int | None]:
        """Up to ``limit`` messages with ids below ``before`` (default: all), newest first, and the
        ``before`` of the next page, or None when nothing older remains. A page never spans two
        segments, so it may hold fewer than ``limit`` messages with more to come."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        with reading():
            if before is not None and before < 0:
                raise self._bad_cursor(before, None)
            if before == 0:
                return [], None
            if before is not None and before - 1 < self._head.base:
                messages, first = self._format1_page(limit, before)
            else:
                messages, first = self._format2_page(limit, before)
        messages.reverse()
        return messages, (first if first > self._head.first_id else None)

    def tail(self, n: int) -> list[Message]:
        """The most recent ``n`` messages that retention kept, oldest first (the old app's listing)."""
        newest_first: list[Message] = []
        before: int | None = None
        while len(newest_first) < n:
            try:
                items, before = self.page(n - len(newest_first), before)
            except Gone:
                break  # retention dropped the rest while we read
            newest_first.extend(items)
            if before is None:
                break
        newest_first.reverse()
        return newest_first

    def count(self) -> int:
        """How many messages were ever committed (the next id); retention does not lower it."""
        with reading(), ExitStack() as files:
            fd, segment = self._open_current(files)
            return segment.first_id + self._valid_tail(fd, segment).count

    def status(self) -> dict[str, Any]:
        """For /health: never raises; ``ok`` is False (with a code and message) when the store cannot be read."""
        try:
            with reading(), ExitStack() as files:
                fd, segment = self._open_current(files)
                count = segment.first_id + self._valid_tail(fd, segment).count
        except StorageUnavailable as error:
            return {"ok": False, "format": FORMAT, "code": error.code, "message": error.message}
        return {
            "ok": True,
            "format": FORMAT,
            "count": count,
            "first_id": self._head.first_id,
            "segment": segment.number,
            "segment_capacity": self._head.capacity,
            "format1_messages": self._head.base,
        }

    def drop_older_than(self, cutoff: datetime) -> int:
        """Retention: drop every whole segment (of either format) whose newest message is older than
        ``cutoff``, oldest first, never the current one. Returns the first id kept. Safe to run from
        several processes at once, and to re-run after it was killed."""
        if cutoff.tzinfo is None:
            raise ValueError("cutoff must be timezone-aware")
        try:
            with ExitStack() as files:
                head_fd = open_in(files, self._head_path, os.O_RDWR)
                fcntl.flock(head_fd, fcntl.LOCK_EX)
                head = self._required_head(slots.read_slots_fd(head_fd))
                self._use(head)
                first = head.first_id
                while (segment_end := self._droppable_until(first, cutoff)) is not None:
                    first = segment_end
                if first != head.first_id:
                    # Readers learn of the drop from HEAD before any file goes, so no one reads a half-removed store.
                    head = replace(head, first_id=first)
                    slots.write_slot(head_fd, head.pack())
                if head.swept_id < head.first_id:
                    self._remove_segments(head.swept_id, head.first_id)
                    head = replace(head, swept_id=head.first_id)
                    slots.write_slot(head_fd, head.pack())
                self._use(head)
                return head.first_id
        except OSError as exc:
            raise unavailable(exc, "cannot drop old messages") from exc

    # --- creating ---

    def _read_head(self) -> Head | None:
        payload = slots.read_slots(self._head_path)
        return None if payload is None else Head(*HEAD.unpack(payload))

    def _required_head(self, payload: bytes | None) -> Head:
        if payload is None:
            raise corrupt(self._head_path, "has no valid slot")
        return Head(*HEAD.unpack(payload))

    def _create(self, capacity: int) -> Head:
        self._root.mkdir(parents=True, exist_ok=True)
        with ExitStack() as files:
            head_fd = open_in(files, self._head_path, os.O_RDWR | os.O_CREAT)
            fcntl.flock(head_fd, fcntl.LOCK_EX)
            payload = slots.read_slots_fd(head_fd)
            if payload is not None:
                return Head(*HEAD.unpack(payload))  # another process finished first
            # A HEAD without a valid slot is new, or was torn while this very code ran, unless messages
            # were committed: then it was damaged, and starting afresh would reuse their ids.
            if self._committed_in_segment_zero():
                raise corrupt(self._head_path, "has no valid slot but messages exist")
            frozen = freeze(self._dir)  # format 1's messages keep their ids; ours follow them
            self._start_segment(files, 0, frozen.count, capacity)
            head = Head(capacity, frozen.count, 0, 0, 0, frozen.capacity)
            slots.write_slot(head_fd, head.pack())
            return head

    def _committed_in_segment_zero(self) -> bool:
        try:
            fd = os.open(self._segment_path(0), os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            newest, _ = slots.both_payloads(os.pread(fd, SPARSE_AT, 0)[TAIL_AT:SPARSE_AT])
        finally:
            os.close(fd)
        return newest is not None and Tail(*TAIL.unpack(newest)).count > 0

    def _start_segment(self, files: ExitStack, number: int, first_id: int, capacity: int) -> tuple[int, Segment]:
        """Create (or reset) segment ``number``, empty, and lock it. Nothing names it yet (its predecessor
        is not sealed, or HEAD not written), so anything already there is a killed roll-over's orphan."""
        path = self._segment_path(number)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = open_in(files, path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        empty = b"\0" * slots.REGION_SIZE
        start = data_start(capacity)
        _, header = slots.next_slot(empty, HEADER.pack(first_id, capacity, 0, 0))
        _, tail = slots.next_slot(empty, Tail(0, start, start, start, 0).pack())
        meta = (header.ljust(slots.REGION_SIZE, b"\0") + tail.ljust(slots.REGION_SIZE, b"\0")).ljust(
            meta_size(capacity), b"\0"
        )
        os.ftruncate(fd, 0)
        slots.pwrite_all(fd, meta, 0)
        os.fsync(fd)
        # On a local disk a new name is durable only once its directory is synced.
        for directory in (path.parent, path.parent.parent, self._root):
            fsync_dir(directory)
        return fd, self._parse_meta(meta, number, path)

    # --- appending ---

    def _append(self, text: str, now: datetime) -> Message:
        with ExitStack() as files:
            fd, segment = self._lock_current(files)
            tail = self._valid_tail(fd, segment)
            if tail.count >= self._head.capacity:
                fd, segment = self._roll_over(files, fd, segment, tail)
                tail = segment.tail
            message = Message(segment.first_id + tail.count, text, now)
            record = encode_record(message)
            new_tail = Tail(
                tail.count + 1,
                tail.end + len(record),
                tail.end,
                tail.end if tail.count % BLOCK == 0 else tail.block_start,
                _record_crc(record),
            )
            # Into the slot that does not hold the committed tail: normally the older one; after a fallback, the
            # newer one, whose record never became whole (overwriting the committed tail would lose it).
            slot, slot_bytes = slots.next_slot(
                segment.meta[TAIL_AT:SPARSE_AT], new_tail.pack(), replace_newest=tail is not segment.tail
            )
            write_at = TAIL_AT + slot * slots.SLOT_SIZE
            chunk = slot_bytes
            if tail.count and tail.count % BLOCK == 0:
                # The block of the previous record is complete: index its start (known from the committed
                # tail) in the same write, carrying the unchanged bytes in between.
                sparse_at = SPARSE_AT + SPARSE.size * (tail.count // BLOCK - 1)
                chunk += segment.meta[write_at + slots.SLOT_SIZE : sparse_at] + SPARSE.pack(tail.block_start)
            try:
                # Past the committed end there may be leftovers of a killed writer: overwrite them.
                slots.pwrite_all(fd, record + _growth(tail.end, len(record), self._head.capacity), tail.end)
                slots.pwrite_all(fd, chunk, write_at)
                # The one flush: the record and the tail that commits it. fdatasync, as the file's size only
                # changes when it grows by a whole GROWTH (then it flushes the size too), so most appends
                # overwrite allocated bytes and need no journal commit for the file's times.
                os.fdatasync(fd)
            except OSError:
                _undo(fd, write_at)
                raise
            self._committed = (segment.number, new_tail)
            return message

    def _lock_current(self, files: ExitStack) -> tuple[int, Segment]:
        """The current segment, open for writing and locked. Every file is (re)opened after the lock is
        taken: an NFS open revalidates the client's cache (close-to-open), so this writer sees what the
        previous lock holder committed."""
        return self._current_segment(files, os.O_RDWR)

    def _valid_tail(self, fd: int, segment: Segment) -> Tail:
        """The newest tail, unless its last record is not all there (its writer died in its fsync): then
        the tail it replaced. Skipped when this process wrote the newest tail itself."""
        tail = segment.tail
        if tail.count == 0 or segment.sealed or self._committed == (segment.number, tail):
            return tail
        data = os.pread(fd, tail.end - tail.last_start, tail.last_start)
        if tail.names(_decode(data, 0, segment.first_id + tail.count - 1), tail.last_start):
            return tail
        if segment.older is None:
            raise corrupt(self._segment_path(segment.number), "has a torn tail and no previous one")
        return segment.older

    def _roll_over(self, files: ExitStack, fd: int, segment: Segment, tail: Tail) -> tuple[int, Segment]:
        """Start the next segment, then seal this full one (which makes the next one current)."""
        capacity = self._head.capacity
        last = _decode(os.pread(fd, tail.end - tail.last_start, tail.last_start), 0, segment.first_id + capacity - 1)
        if last is None:
            raise corrupt(self._segment_path(segment.number), "has a damaged last record")
        number = segment.number + 1
        next_fd, next_segment = self._reuse_or_start(files, number, segment.first_id + capacity)
        last_us = int((last[0].created_at - _EPOCH).total_seconds() * 1_000_000)
        # The seal: fsync'd, and undone if that fails, so a lost seal never hides the next segment's messages.
        slots.write_slot(fd, HEADER.pack(segment.first_id, capacity, 1, last_us))
        self._current = number
        self._write_head_hint(number)
        return next_fd, next_segment

    def _reuse_or_start(self, files: ExitStack, number: int, first_id: int) -> tuple[int, Segment]:
        """The next segment: kept if it already holds messages (a seal written, then lost before its undo
        could land: those messages were acknowledged), else started afresh."""
        path = self._segment_path(number)
        with ExitStack() as attempt:
            try:
                fd = open_in(attempt, path, os.O_RDWR)
            except FileNotFoundError:
                pass
            else:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    segment = self._read_meta(fd, number, path)
                except StorageUnavailable:
                    segment = None
                if segment is not None and segment.tail.count > 0 and segment.first_id == first_id:
                    files.push(attempt.pop_all())
                    return fd, segment
        return self._start_segment(files, number, first_id, self._head.capacity)

    def _write_head_hint(self, current: int) -> None:
        """Tell processes that start later where the current segment is (a hint: seals are the truth)."""
        with ExitStack() as files:
            head_fd = open_in(files, self._head_path, os.O_RDWR)
            fcntl.flock(head_fd, fcntl.LOCK_EX)
            head = self._required_head(slots.read_slots_fd(head_fd))
            if head.current < current:
                head = replace(head, current=current)
                slots.write_slot(head_fd, head.pack())
            self._use(head)

    # --- reading (no lock: only committed bytes are read, and each record is checked) ---

    def _format2_page(self, limit: int, before: int | None) -> tuple[list[Message], int]:
        head = self._head
        with ExitStack() as files:
            number = None if before is None else (before - 1 - head.base) // head.capacity
            if number is not None and number < self._current:
                # An older segment (this process saw a later one): full, sealed and never written again,
                # so the cursor is within the store and only that segment is read.
                if before is not None and before <= head.first_id:
                    raise expired(before, head.first_id)
                path = self._segment_path(number)
                try:
                    fd = open_in(files, path, os.O_RDONLY)
                except OSError as error:
                    raise self._gone_or(error, before or 0) from error
                segment = self._read_meta(fd, number, path)
            else:
                fd, segment = self._open_current(files)
                total = segment.first_id + segment.tail.count
                if before is None:
                    before = total
                elif before > total:
                    raise self._bad_cursor(before, total)
                if before == 0:
                    return [], 0
                if before - 1 < segment.first_id:  # nothing in the current segment yet, or it moved on since
                    older = self._format1_page if before - 1 < head.base else self._format2_page
                    return older(limit, before)
            assert before is not None
            first = max(segment.first_id, before - limit, self._head.first_id)
            return self._read_range(fd, segment, first, before), first

    def _format1_page(self, limit: int, before: int) -> tuple[list[Message], int]:
        if before <= self._head.first_id:
            raise expired(before, self._head.first_id)
        ids = self._format1.segment_ids(self._format1.segment_of(before - 1))
        first = max(ids.start, before - limit, self._head.first_id)
        try:
            return self._format1.read(first, before), first
        except OSError as error:
            raise self._gone_or(error, before) from error

    def _gone_or(self, error: OSError, before: int) -> Exception:
        """An old segment's file is missing: retention dropped it (410) unless HEAD says otherwise."""
        if error.errno in _GONE_ERRNOS:
            head = self._read_head()
            if head is not None:
                self._use(head)
                if before <= head.first_id or before - 1 < head.swept_id:
                    return expired(before, head.first_id)
            return corrupt(Path(error.filename or "segment"), "is missing")
        return error

    def _bad_cursor(self, before: int, total: int | None) -> BadRequest:
        if total is None:
            with ExitStack() as files:
                total = self._open_current(files)[1].first_id
        return BadRequest(f"cursor {before} is outside this store's 0..{total}", code="invalid_cursor")

    def _open_current(self, files: ExitStack) -> tuple[int, Segment]:
        """The current segment, open for reading."""
        return self._current_segment(files, os.O_RDONLY)

    def _current_segment(self, files: ExitStack, flags: int) -> tuple[int, Segment]:
        """The current segment's file (locked if opened for writing) and metadata, following seals from the
        number this process last saw."""
        while True:
            path = self._segment_path(self._current)
            with ExitStack() as attempt:
                fd = self._open_current_file(attempt, flags)
                if fd is None:
                    continue
                if flags & os.O_RDWR:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                segment = self._read_meta(fd, self._current, path)
                if not segment.sealed:
                    files.push(attempt.pop_all())
                    return fd, segment
            self._advance()

    def _advance(self) -> None:
        """The cached current segment is sealed: go to the next one, or further if HEAD knows better."""
        head = self._read_head()
        self._current += 1
        if head is not None:
            self._use(head)

    def _open_current_file(self, files: ExitStack, flags: int) -> int | None:
        """The cached current segment's file, or None when HEAD names a later one (the cached one was
        sealed, then dropped by retention, since this process last looked)."""
        number = self._current
        try:
            return open_in(files, self._segment_path(number), flags)
        except FileNotFoundError:
            head = self._read_head()
            if head is None or head.current <= number:
                raise
            self._use(head)
            return None

    def _read_meta(self, fd: int, number: int, path: Path) -> Segment:
        return self._parse_meta(os.pread(fd, meta_size(self._head.capacity), 0), number, path)

    def _parse_meta(self, meta: bytes, number: int, path: Path) -> Segment:
        header, _ = slots.both_payloads(meta[: slots.REGION_SIZE])
        newest, older = slots.both_payloads(meta[TAIL_AT:SPARSE_AT])
        if header is None or newest is None:
            raise corrupt(path, "has no valid header or tail")
        first_id, _capacity, sealed, last_us = HEADER.unpack(header)
        return Segment(
            number,
            first_id,
            bool(sealed),
            last_us,
            Tail(*TAIL.unpack(newest)),
            None if older is None else Tail(*TAIL.unpack(older)),
            meta,
        )

    def _read_range(self, fd: int, segment: Segment, first: int, stop: int) -> list[Message]:
        """Messages ``first .. stop - 1`` of a segment, oldest first: one pread from the start of the block
        holding ``first`` to the end of ``stop - 1``'s block. If the newest record is not all there yet
        (its writer is in its fsync, or died in it), it is not committed: left out."""
        tail = segment.tail
        last_block = (tail.count - 1) // BLOCK
        tail_id = None if segment.sealed else segment.first_id + tail.count - 1
        block = (first - segment.first_id) // BLOCK
        after = (stop - 1 - segment.first_id) // BLOCK + 1
        end = tail.end if after > last_block else self._block_start(segment, after)
        path = self._segment_path(segment.number)
        while True:
            start = self._block_start(segment, block)
            if not start <= end <= tail.end:
                end = tail.end  # an entry that cannot be right: read to the committed end instead
            try:
                if not data_start(self._head.capacity) <= start <= tail.end:
                    raise _Misplaced
                data = os.pread(fd, end - start, start)
                tail_check = None if tail_id is None else (tail_id, tail, start)
                return _parse(data, segment.first_id + block * BLOCK, range(first, stop), tail_check, path)
            except _Misplaced:
                # A sparse entry whose write was lost with its writer's host: start one block earlier
                # (block 0 always starts at a fixed offset) and read to the end.
                if block == 0:
                    raise corrupt(path, f"record {segment.first_id} fails its checksum") from None
                block, end = block - 1, tail.end

    def _block_start(self, segment: Segment, block: int) -> int:
        if block == 0:
            return data_start(self._head.capacity)
        if block == (segment.tail.count - 1) // BLOCK:
            return segment.tail.block_start
        return segment.sparse(block)

    # --- retention ---

    def _droppable_until(self, first: int, cutoff: datetime) -> int | None:
        """The id after the segment holding ``first`` if that whole segment is older than ``cutoff``."""
        head = self._head
        if first < head.base:
            ids = self._format1.segment_ids(self._format1.segment_of(first))
            try:
                newest = self._format1.read(ids.stop - 1, ids.stop)[0].created_at
            except FileNotFoundError:
                return ids.stop  # removed by a sweep that was interrupted before it recorded so
            return ids.stop if newest < cutoff else None
        number = (first - head.base) // head.capacity
        with ExitStack() as files:
            try:
                fd = open_in(files, self._segment_path(number), os.O_RDONLY)
            except FileNotFoundError:
                return None
            segment = self._read_meta(fd, number, self._segment_path(number))
        if not segment.sealed:
            return None
        newest_us = segment.last_created_us
        cutoff_us = (cutoff - _EPOCH).total_seconds() * 1_000_000
        return segment.first_id + head.capacity if newest_us < cutoff_us else None

    def _remove_segments(self, start: int, stop: int) -> None:
        """Remove the files of the whole segments holding ids ``start .. stop - 1`` (missing ones are fine)."""
        head = self._head
        message_id = start
        while message_id < stop:
            if message_id < head.base:
                segment = self._format1.segment_of(message_id)
                paths = list(self._format1.paths(segment))
                message_id = self._format1.segment_ids(segment).stop
            else:
                number = (message_id - head.base) // head.capacity
                paths = [self._segment_path(number)]
                message_id = head.base + (number + 1) * head.capacity
            for path in paths:
                with suppress(FileNotFoundError):
                    path.unlink()

    def _segment_path(self, number: int) -> Path:
        path = self._paths.get(number)
        if path is None:  # pathlib's joins cost more than the file operations on a warm request
            if len(self._paths) > _PATHS_CACHED:
                self._paths.clear()
            path = self._paths[number] = segment_dir(self._root, number) / f"{number:09d}.log"
        return path


def encode_record(message: Message) -> bytes:
    payload = json.dumps(
        {"text": message.text, "created_at": utc_stamp(message.created_at)}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    prefix = FRAME.pack(RECORD_MAGIC, message.id, len(payload), 0)[:16]
    crc = zlib.crc32(payload, zlib.crc32(prefix))
    return prefix + struct.pack("<I", crc) + payload


def _record_crc(record: bytes) -> int:
    (crc,) = struct.unpack_from("<I", record, 16)
    return int(crc)


def _decode(data: bytes, at: int, expected_id: int) -> tuple[Message, int, int] | None:
    """The record at ``data[at:]``, its size and its crc, if it is whole, checks out and holds ``expected_id``."""
    if at + FRAME.size > len(data):
        return None
    magic, message_id, length, crc = FRAME.unpack_from(data, at)
    end = at + FRAME.size + length
    if magic != RECORD_MAGIC or message_id != expected_id or end > len(data):
        return None
    payload = data[at + FRAME.size : end]
    if zlib.crc32(payload, zlib.crc32(data[at : at + 16])) != crc:
        return None
    fields = json.loads(payload)
    return Message(expected_id, fields["text"], datetime.fromisoformat(fields["created_at"])), end - at, crc


def _parse(
    data: bytes, data_first_id: int, wanted: range, tail_check: tuple[int, Tail, int] | None, path: Path
) -> list[Message]:
    """The records of ``wanted`` from ``data``, whose first record holds ``data_first_id``. ``tail_check``:
    (id, tail, offset of ``data``) of the newest record, which counts only if it is the one its tail names."""
    first, stop = wanted.start, wanted.stop
    messages: list[Message] = []
    at, expected = 0, data_first_id
    while expected < stop:
        decoded = _decode(data, at, expected)
        if tail_check is not None and expected == tail_check[0]:
            if not tail_check[1].names(decoded, tail_check[2] + at):
                break  # not committed (yet)
        elif decoded is None:
            if at == 0:
                raise _Misplaced
            raise corrupt(path, f"record {expected} fails its checksum")
        assert decoded is not None
        message, size, _ = decoded
        if expected >= first:
            messages.append(message)
        at += size
        expected += 1
    return messages


def _growth(end: int, size: int, capacity: int) -> bytes:
    """Zeros to write after a record of ``size`` bytes at ``end``: none while the record fits in the bytes
    already allocated (the data area is kept at a whole number of GROWTH steps past the data start), else
    enough to reach the next step. Readers never look past the committed end, so the zeros are leftovers."""
    start = data_start(capacity)
    allocated = start + -(-(end - start) // GROWTH) * GROWTH
    new_end = end + size
    if new_end <= allocated:
        return b""
    return b"\0" * (start + -(-(new_end - start) // GROWTH) * GROWTH - new_end)


def _undo(fd: int, at: int) -> None:
    """Invalidate the tail slot a failed append wrote, so that its record stays uncommitted. (Zeros rather
    than the slot's previous bytes: after a fallback those were a tail that must not come back.)"""
    try:
        slots.pwrite_all(fd, b"\0" * slots.SLOT_SIZE, at)
        os.fdatasync(fd)
    except OSError:
        pass  # the first error is the one to report; a torn slot is ignored by readers anyway
