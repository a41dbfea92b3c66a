"""Reusable helpers for store tests (also meant for the reliability suite):

- ``audit``: an independent reader of on-disk formats 1 and 2, written from docs/STORAGE.md rather than
  from inference/store/, so it checks that the code writes what the document says;
- ``writer_loop``: a writer process's body, which records an ack only after ``append`` returns;
- ``spawn_writer`` / ``read_acks``: run such writers as separate processes and collect their acks;
- ``kill_writers_at_random``: rounds of writers SIGKILLed at random instants, bounded in time;
- ``os_failure``: make one ``os`` call fail with a chosen errno (disk full, read-only, I/O error).
"""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

# Formats 1 and 2, as docs/STORAGE.md describes them.
SLOT_SIZE = 256
SLOT_MAGIC = b"SLT1"
ENTRY_SIZE = 16
RECORD_HEADER_SIZE = 12
RECORD_MAGIC = b"MSG1"
V2_MAGIC = b"MSG2"
V2_FRAME_SIZE = 20
V2_BLOCK = 64
FROZEN_BIT = 1 << 62


@dataclass(frozen=True)
class StoredRecord:
    id: int
    text: str
    created_at: str


def newest_slot(region: bytes) -> tuple[int, bytes] | None:
    """(slot index, payload) of the valid slot with the higher generation in a two-slot region."""
    valid = _valid_slots(region)
    return None if not valid else (valid[0][1], valid[0][2])


def _valid_slots(region: bytes) -> list[tuple[int, int, bytes]]:
    """(generation, slot index, payload) of each valid slot, newest first."""
    found = []
    for index in (0, 1):
        slot = region[index * SLOT_SIZE : (index + 1) * SLOT_SIZE]
        if len(slot) < SLOT_SIZE or slot[:4] != SLOT_MAGIC:
            continue
        generation, length = struct.unpack_from("<QH", slot, 4)
        (crc,) = struct.unpack_from("<I", slot, SLOT_SIZE - 4)
        if length <= SLOT_SIZE - 18 and zlib.crc32(slot[:-4]) == crc:
            found.append((generation, index, slot[14 : 14 + length]))
    return sorted(found, reverse=True)


def segment_paths(messages_dir: Path, segment: int) -> tuple[Path, Path]:
    """A format-1 segment's .idx and .dat."""
    directory = messages_dir / "v1" / "seg" / f"{segment // 1000:06d}"
    return directory / f"{segment:09d}.idx", directory / f"{segment:09d}.dat"


def log_path(messages_dir: Path, segment: int) -> Path:
    """A format-2 segment's file."""
    return messages_dir / "v2" / "seg" / f"{segment // 1000:06d}" / f"{segment:09d}.log"


def read_head(messages_dir: Path) -> tuple[int, int]:
    """(current segment, segment capacity) from v1/HEAD (the frozen mark cleared)."""
    newest = newest_slot((messages_dir / "v1" / "HEAD").read_bytes())
    assert newest is not None, "HEAD has no valid slot"
    segment, capacity = struct.unpack("<QI", newest[1])
    return segment & ~FROZEN_BIT, capacity


@dataclass(frozen=True)
class Head2:
    capacity: int
    base: int
    current: int
    first_id: int
    swept_id: int
    v1_capacity: int


def read_head2(messages_dir: Path) -> Head2:
    newest = newest_slot((messages_dir / "v2" / "HEAD").read_bytes()[: 2 * SLOT_SIZE])
    assert newest is not None, "v2/HEAD has no valid slot"
    return Head2(*struct.unpack("<IQQQQI", newest[1]))


def audit_format1(messages_dir: Path, first_id: int = 0, stop_id: int | None = None) -> list[StoredRecord]:
    """Every committed format-1 message with an id in ``first_id .. stop_id - 1``, checked."""
    current, capacity = read_head(messages_dir)
    records: list[StoredRecord] = []
    for segment in range(first_id // capacity, current + 1):
        idx_path, dat_path = segment_paths(messages_dir, segment)
        idx, dat = idx_path.read_bytes(), dat_path.read_bytes()
        header = newest_slot(idx[: 2 * SLOT_SIZE])
        assert header is not None, f"{idx_path.name} has no valid header slot"
        count, data_end = struct.unpack("<QQ", header[1])
        assert count == capacity or segment == current, f"segment {segment} is not full but is not the last"
        expected_offset = 0
        for slot in range(count):
            offset, length, crc = struct.unpack_from("<QII", idx, 2 * SLOT_SIZE + slot * ENTRY_SIZE)
            assert offset == expected_offset, f"record {slot} of segment {segment} is not contiguous"
            magic, stored_length, stored_crc = struct.unpack_from("<4sII", dat, offset)
            payload = dat[offset + RECORD_HEADER_SIZE : offset + RECORD_HEADER_SIZE + length]
            assert (magic, stored_length, stored_crc) == (RECORD_MAGIC, length, crc), f"bad frame at {offset}"
            assert len(payload) == length and zlib.crc32(payload) == crc, f"torn record at {offset}"
            fields = json.loads(payload.decode("utf-8"))
            assert fields["id"] == segment * capacity + slot, f"record {slot} of segment {segment} has a wrong id"
            if fields["id"] >= first_id and (stop_id is None or fields["id"] < stop_id):
                records.append(StoredRecord(fields["id"], fields["text"], fields["created_at"]))
            expected_offset = offset + RECORD_HEADER_SIZE + length
        assert data_end == expected_offset, f"segment {segment}: header data end {data_end} != {expected_offset}"
    return records


def _v2_record(data: bytes, at: int) -> tuple[int, bytes, int] | None:
    """(id, payload, size) of a whole, checked format-2 record at ``at``."""
    if at + V2_FRAME_SIZE > len(data) or data[at : at + 4] != V2_MAGIC:
        return None
    message_id, length, crc = struct.unpack_from("<QII", data, at + 4)
    payload = data[at + V2_FRAME_SIZE : at + V2_FRAME_SIZE + length]
    if len(payload) != length or zlib.crc32(data[at : at + 16] + payload) != crc:
        return None
    return message_id, payload, V2_FRAME_SIZE + length


def audit_segment2(messages_dir: Path, head: Head2, segment: int) -> tuple[bool, list[StoredRecord]]:
    """(sealed, committed records) of one format-2 segment, every frame, checksum, id and index entry checked."""
    data = log_path(messages_dir, segment).read_bytes()
    header = newest_slot(data[: 2 * SLOT_SIZE])
    assert header is not None, f"segment {segment} has no valid header"
    first, capacity, sealed, _last_us = struct.unpack("<QIBQ", header[1])
    assert (first, capacity) == (head.base + segment * head.capacity, head.capacity), f"segment {segment} header"
    tails = [struct.unpack("<IQQQI", payload) for _, _, payload in _valid_slots(data[2 * SLOT_SIZE : 4 * SLOT_SIZE])]
    assert tails, f"segment {segment} has no valid tail"
    meta = 4 * SLOT_SIZE + 8 * -(-capacity // V2_BLOCK)
    start = -(-meta // 4096) * 4096
    for count, end, last_start, block_start, last_crc in tails:  # the newest, unless its last record is not all there
        at, records = start, []
        for slot in range(count):
            if slot % V2_BLOCK == 0 and slot // V2_BLOCK < (count - 1) // V2_BLOCK and slot:
                (indexed,) = struct.unpack_from("<Q", data, 4 * SLOT_SIZE + 8 * (slot // V2_BLOCK - 1) + 8)
                assert indexed == at or slot // V2_BLOCK == (count - 1) // V2_BLOCK, f"index of block {slot}"
            record = _v2_record(data, at)
            if record is None:
                break
            message_id, payload, size = record
            if slot == count - 1 and (at, at + size, struct.unpack_from("<I", data, at + 16)[0]) != (
                last_start,
                end,
                last_crc,
            ):
                break  # not the record this tail commits
            assert message_id == first + slot, f"segment {segment} slot {slot} holds id {message_id}"
            fields = json.loads(payload.decode("utf-8"))
            records.append(StoredRecord(message_id, fields["text"], fields["created_at"]))
            if slot == (count - 1) // V2_BLOCK * V2_BLOCK:
                assert at == block_start, f"segment {segment}: tail block start"
            at += size
        if len(records) == count:
            assert not sealed or count == capacity, f"sealed segment {segment} is not full"
            return bool(sealed), records
        assert len(records) == count - 1, f"segment {segment}: a record before the last one is torn"
    raise AssertionError(f"segment {segment}: no tail whose records are all there")


def audit(messages_dir: Path) -> list[StoredRecord]:
    """Every committed message that retention kept, in id order, after checking every frame, checksum and id
    of both formats (format 1 read in place below ``base``)."""
    head = read_head2(messages_dir)
    records = audit_format1(messages_dir, head.first_id, head.base) if head.first_id < head.base else []
    segment = max(0, (head.first_id - head.base) // head.capacity) if head.first_id > head.base else 0
    while True:
        sealed, found = audit_segment2(messages_dir, head, segment)
        records += [record for record in found if record.id >= head.first_id]
        if not sealed:
            break
        segment += 1
    ids = [record.id for record in records]
    assert ids == list(range(head.first_id, head.first_id + len(ids))), "ids are not dense"
    return records


def writer_loop(messages_dir: Path, name: str, ack_path: Path, capacity: int, limit: int | None = None) -> None:
    """Append ``name:0``, ``name:1``, ... and after each append returns, write ``<id> <text>`` to the ack file."""
    from inference.store.messages import MessageStore

    store = MessageStore(messages_dir, segment_capacity=capacity)
    ack = os.open(ack_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    number = 0
    while limit is None or number < limit:
        text = f"{name}:{number}"
        message = store.append(text)
        os.write(ack, f"{message.id} {text}\n".encode())  # one small write: whole or absent
        number += 1


def writer_main(argv: list[str]) -> None:
    """``writer_loop`` from command-line arguments: messages_dir name ack_path capacity [limit]."""
    messages_dir, name, ack_path, capacity, *limit = argv
    writer_loop(Path(messages_dir), name, Path(ack_path), int(capacity), int(limit[0]) if limit else None)


def spawn_writer(
    messages_dir: Path, name: str, ack_path: Path, capacity: int, limit: int | None = None
) -> subprocess.Popen[bytes]:
    """Start ``writer_loop`` in a fresh interpreter (a real separate process, as on another host)."""
    code = "import sys; from testing.store_helpers import writer_main; writer_main(sys.argv[1:])"
    args = [str(messages_dir), name, str(ack_path), str(capacity), *([] if limit is None else [str(limit)])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "inference_image")])}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, stderr=subprocess.PIPE)


def read_acks(ack_dir: Path) -> dict[str, int]:
    """text -> acknowledged id, from every ack file; a torn last line (never expected) is ignored."""
    acks: dict[str, int] = {}
    for path in ack_dir.glob("*.ack"):
        for line in path.read_text().splitlines():
            id_text, _, text = line.partition(" ")
            if text:
                assert text not in acks, f"{text} acknowledged twice"
                acks[text] = int(id_text)
    return acks


def _wait_for_first_ack(ack_path: Path, process: subprocess.Popen[bytes], deadline: float) -> None:
    while not (ack_path.exists() and ack_path.stat().st_size > 0):
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"writer exited with {process.returncode} before its first ack:\n{stderr}")
        if time.monotonic() > deadline:
            raise AssertionError("writer made no progress in time")
        time.sleep(0.005)


def kill_rounds(
    spawn: Callable[[Path], subprocess.Popen[bytes]],
    ack_dir: Path,
    rng: random.Random,
    *,
    writers: int,
    rounds: int,
    max_run_seconds: float,
    start_timeout: float = 30.0,
) -> int:
    """Rounds of ``writers`` processes started by ``spawn(ack_path)``, each SIGKILLed at a random instant
    once it has acknowledged at least one message. Returns how many were killed."""
    killed = 0
    for round_number in range(rounds):
        ack_paths = [ack_dir / f"r{round_number}w{w}.ack" for w in range(writers)]
        started = [(spawn(path), path) for path in ack_paths]
        try:
            deadline = time.monotonic() + start_timeout
            for process, ack_path in started:
                _wait_for_first_ack(ack_path, process, deadline)
            for process, _ in rng.sample(started, len(started)):
                time.sleep(rng.uniform(0, max_run_seconds / writers))
                process.kill()
                killed += 1
        finally:
            for process, _ in started:
                process.kill()
                process.wait(timeout=30)
                if process.stderr:
                    process.stderr.close()
    return killed


def kill_writers_at_random(
    messages_dir: Path,
    ack_dir: Path,
    *,
    seed: int,
    writers: int = 4,
    rounds: int = 4,
    capacity: int = 5,
    max_run_seconds: float = 0.25,
) -> dict[str, int]:
    """Rounds of ``writers`` store-writer processes appending at once, each SIGKILLed at a random instant
    once it has acknowledged at least one message. Returns every acknowledged text -> id."""
    ack_dir.mkdir(parents=True, exist_ok=True)
    kill_rounds(
        lambda path: spawn_writer(messages_dir, path.stem, path, capacity),
        ack_dir,
        random.Random(seed),
        writers=writers,
        rounds=rounds,
        max_run_seconds=max_run_seconds,
    )
    return read_acks(ack_dir)


@contextmanager
def os_failure(
    name: str, error: int, *, skip: int = 0, times: int | None = 1, when: Callable[..., bool] | None = None
) -> Iterator[list[int]]:
    """Make ``os.<name>`` raise ``OSError(error)`` on the matching calls after the first ``skip``
    (``times`` of them; None means every one). ``when(*args)`` picks which calls match. Yields a
    one-item list holding how many calls failed."""
    real = getattr(os, name)
    seen, failed = [0], [0]

    def fake(*args: Any, **kwargs: Any) -> Any:
        if when is None or when(*args):
            seen[0] += 1
            if seen[0] > skip and (times is None or failed[0] < times):
                failed[0] += 1
                raise OSError(error, os.strerror(error))
        return real(*args, **kwargs)

    setattr(os, name, fake)
    try:
        yield failed
    finally:
        setattr(os, name, real)


def opens_for_writing(path: Any, flags: int, *args: Any) -> bool:
    """A ``when`` for ``os_failure("open", ...)``: only opens that ask for write access."""
    return bool(flags & (os.O_WRONLY | os.O_RDWR))
