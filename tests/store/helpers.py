"""Reusable helpers for store tests (also meant for the reliability suite):

- ``audit``: an independent reader of on-disk format 1, written from docs/STORAGE.md rather than
  from inference/store/messages.py, so it checks that the code writes what the document says;
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

REPO_ROOT = Path(__file__).resolve().parents[2]

# Format 1, as docs/STORAGE.md describes it.
SLOT_SIZE = 256
SLOT_MAGIC = b"SLT1"
ENTRY_SIZE = 16
RECORD_HEADER_SIZE = 12
RECORD_MAGIC = b"MSG1"


@dataclass(frozen=True)
class StoredRecord:
    id: int
    text: str
    created_at: str


def newest_slot(region: bytes) -> tuple[int, bytes] | None:
    """(slot index, payload) of the valid slot with the higher generation in a two-slot region."""
    best: tuple[int, int, bytes] | None = None
    for index in (0, 1):
        slot = region[index * SLOT_SIZE : (index + 1) * SLOT_SIZE]
        if len(slot) < SLOT_SIZE or slot[:4] != SLOT_MAGIC:
            continue
        generation, length = struct.unpack_from("<QH", slot, 4)
        (crc,) = struct.unpack_from("<I", slot, SLOT_SIZE - 4)
        if length <= SLOT_SIZE - 18 and zlib.crc32(slot[:-4]) == crc and (best is None or generation > best[0]):
            best = (generation, index, slot[14 : 14 + length])
    return None if best is None else (best[1], best[2])


def segment_paths(messages_dir: Path, segment: int) -> tuple[Path, Path]:
    directory = messages_dir / "v1" / "seg" / f"{segment // 1000:06d}"
    return directory / f"{segment:09d}.idx", directory / f"{segment:09d}.dat"


def read_head(messages_dir: Path) -> tuple[int, int]:
    """(current segment, segment capacity) from v1/HEAD."""
    newest = newest_slot((messages_dir / "v1" / "HEAD").read_bytes())
    assert newest is not None, "HEAD has no valid slot"
    segment, capacity = struct.unpack("<QI", newest[1])
    return segment, capacity


def audit(messages_dir: Path) -> list[StoredRecord]:
    """Every committed message, in id order, after checking every frame, checksum and id."""
    current, capacity = read_head(messages_dir)
    records: list[StoredRecord] = []
    for segment in range(current + 1):
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
            records.append(StoredRecord(fields["id"], fields["text"], fields["created_at"]))
            expected_offset = offset + RECORD_HEADER_SIZE + length
        assert data_end == expected_offset, f"segment {segment}: header data end {data_end} != {expected_offset}"
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
    code = "import sys; from tests.store.helpers import writer_main; writer_main(sys.argv[1:])"
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
