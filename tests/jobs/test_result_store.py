"""Objects written once from a stream of chunks (how the worker assembles a result): in parts past PART_BYTES,
first writer wins, nothing half-written left behind, against moto's S3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inference.jobs.store import PART_BYTES
from tests.jobs.conftest import JobStack, MakeStack

KEY = "jobs/f00/result.json"


def _chunks(total: int, size: int = 3_000_000, fill: bytes = b"a") -> Iterator[bytes]:
    for start in range(0, total, size):
        yield fill * min(size, total - start)


def _pending_uploads(stack: JobStack) -> list[object]:
    found: list[object] = stack.s3.list_multipart_uploads(Bucket=stack.settings.bucket).get("Uploads", [])
    return found


@pytest.mark.parametrize("total", [1000, 2 * PART_BYTES + 1_234_567], ids=["one-put", "three-parts"])
def test_a_streamed_object_is_written_whole_once_with_its_metadata(make_stack: MakeStack, total: int) -> None:
    """The chunks' concatenation, its metadata; a second writer is refused (False) and changes nothing."""
    stack = make_stack()
    assert stack.store.put_once_from(KEY, _chunks(total), {"finished-at": "2026-01-01T00:00:00.000Z"})
    stored = stack.s3.get_object(Bucket=stack.settings.bucket, Key=KEY)
    assert stored["Body"].read() == b"a" * total
    assert stored["Metadata"] == {"finished-at": "2026-01-01T00:00:00.000Z"}
    assert not stack.store.put_once_from(KEY, _chunks(total, fill=b"b"), {})
    assert stack.s3.get_object(Bucket=stack.settings.bucket, Key=KEY)["Body"].read() == b"a" * total
    assert _pending_uploads(stack) == []  # the loser's parts are aborted


def test_a_stream_that_fails_midway_leaves_neither_object_nor_parts(make_stack: MakeStack) -> None:
    """The error reaches the caller; the parts already sent are aborted and no object appears."""
    stack = make_stack()

    def failing() -> Iterator[bytes]:
        yield from _chunks(2 * PART_BYTES)
        raise RuntimeError("a shard's outputs are missing")

    with pytest.raises(RuntimeError, match="missing"):
        stack.store.put_once_from(KEY, failing(), {})
    assert stack.store.head(KEY) is None
    assert _pending_uploads(stack) == []
