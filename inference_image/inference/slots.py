"""A small record that can be replaced in place without ever being seen half-written: two
checksummed slots, written in turn ("ping-pong"). A reader takes the valid slot with the higher
generation, so a torn or interrupted write leaves the previous record in force. No rename is
involved, which matters on NFS (EFS), where other clients may cache a directory's entries.

Region layout (``REGION_SIZE`` bytes at a caller-chosen offset): two slots of ``SLOT_SIZE`` bytes,
each, little-endian::

    magic b"SLT1" | generation u64 | payload length u16 | payload | zero padding | crc32 u32

The crc covers every byte of the slot before it. All-zero or torn slots fail the check.
Writers must be serialised by the caller (a file lock); readers need no lock.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

SLOT_SIZE = 256
REGION_SIZE = 2 * SLOT_SIZE

_MAGIC = b"SLT1"
_PREFIX = struct.Struct("<4sQH")  # magic, generation, payload length
_CRC = struct.Struct("<I")
MAX_PAYLOAD = SLOT_SIZE - _PREFIX.size - _CRC.size


def read_slots(path: Path) -> bytes | None:
    """The newest valid payload in the file at ``path`` (region at offset 0), or None if the file
    is missing or holds no valid slot yet."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        return read_slots_fd(fd)
    finally:
        os.close(fd)


def read_slots_fd(fd: int, offset: int = 0) -> bytes | None:
    """The newest valid payload of the region at ``offset`` in ``fd``, or None if neither slot is valid."""
    newest = _newest(os.pread(fd, REGION_SIZE, offset))
    return None if newest is None else newest[2]


def write_slot(fd: int, payload: bytes, offset: int = 0) -> None:
    """Make ``payload`` the region's newest record, durably (fsync'd) before returning.

    Writes the slot that does not hold the current record, with the next generation. If the write
    or the fsync fails, the slot's previous bytes are put back (best effort) so that the current
    record stays in force, and the error is raised.
    """
    region = os.pread(fd, REGION_SIZE, offset).ljust(REGION_SIZE, b"\0")
    index, slot = next_slot(region, payload)
    at = offset + index * SLOT_SIZE
    previous = region[index * SLOT_SIZE : (index + 1) * SLOT_SIZE]
    try:
        pwrite_all(fd, slot, at)
        os.fsync(fd)
    except OSError:
        try:
            pwrite_all(fd, previous, at)
            os.fsync(fd)
        except OSError:
            pass  # the first error is the one to report; a torn slot is ignored by readers anyway
        raise


def next_slot(region: bytes, payload: bytes, *, replace_newest: bool = False) -> tuple[int, bytes]:
    """(slot index, slot bytes) of the write that makes ``payload`` the newest record of ``region`` (as read
    under the writers' lock): the slot that does not hold the current record, with the next generation; or,
    with ``replace_newest``, the newest slot itself (for a caller that found the newest record void and
    must keep the other). No I/O, so a caller can fold the write into one it makes anyway."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"slot payload is {len(payload)} bytes, at most {MAX_PAYLOAD} fit")
    newest = _newest(region)
    if newest is None:
        return 0, _encode(1, payload)
    index = newest[0] if replace_newest else 1 - newest[0]
    return index, _encode(newest[1] + 1, payload)


def both_payloads(region: bytes) -> tuple[bytes | None, bytes | None]:
    """(newest, other) valid payloads of a region: the other is the record the newest replaced, for a
    reader that finds what the newest one commits to is not (yet) all there."""
    decoded = [_decode(region[index * SLOT_SIZE : (index + 1) * SLOT_SIZE]) for index in (0, 1)]
    valid = sorted((item for item in decoded if item is not None), key=lambda item: item[0], reverse=True)
    return (valid[0][1] if valid else None), (valid[1][1] if len(valid) > 1 else None)


def _encode(generation: int, payload: bytes) -> bytes:
    body = _PREFIX.pack(_MAGIC, generation, len(payload)) + payload
    body = body.ljust(SLOT_SIZE - _CRC.size, b"\0")
    return body + _CRC.pack(zlib.crc32(body))


def _decode(slot: bytes) -> tuple[int, bytes] | None:
    """(generation, payload) of a valid slot, else None."""
    if len(slot) != SLOT_SIZE:
        return None
    body, (crc,) = slot[: -_CRC.size], _CRC.unpack(slot[-_CRC.size :])
    magic, generation, length = _PREFIX.unpack_from(body)
    if magic != _MAGIC or length > MAX_PAYLOAD or zlib.crc32(body) != crc:
        return None
    return generation, body[_PREFIX.size : _PREFIX.size + length]


def _newest(region: bytes) -> tuple[int, int, bytes] | None:
    """(slot index, generation, payload) of the valid slot with the higher generation."""
    best: tuple[int, int, bytes] | None = None
    for index in (0, 1):
        decoded = _decode(region[index * SLOT_SIZE : (index + 1) * SLOT_SIZE])
        if decoded is not None and (best is None or decoded[0] > best[1]):
            best = (index, *decoded)
    return best


def pwrite_all(fd: int, data: bytes, offset: int) -> None:
    """Write all of ``data`` at ``offset``: pwrite may write less than asked (e.g. as the disk fills up)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written
