"""A volume that holds a format-1 store (built here by the format-1 code itself, testing/format1_store.py)
keeps every message, id and order under format 2: format 1 is frozen and read in place, new messages follow
it, old writers still running are stopped rather than lost, and an upgrade killed at any step is finished by
the next process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inference.errors import StorageUnavailable
from inference.store.messages import MessageStore
from testing import format1_store
from testing.store_helpers import REPO_ROOT, audit, read_acks

V1_CAPACITY = 4
V1_MESSAGES = 10  # two full format-1 segments and a partial one


def _format1_store(messages_dir: Path) -> list[format1_store.Message]:
    old = format1_store.MessageStore(messages_dir, segment_capacity=V1_CAPACITY)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [old.append(f"old {n}", now=start + timedelta(minutes=n)) for n in range(V1_MESSAGES)]


def _everything(store: MessageStore) -> list[tuple[int, str, str]]:
    """(id, text, created_at) of every message, oldest first, paging with the cursor."""
    newest_first: list[tuple[int, str, str]] = []
    before: int | None = None
    while True:
        items, before = store.page(3, before)
        newest_first += [(m.id, m.text, m.to_dict()["created_at"]) for m in items]
        if before is None:
            return newest_first[::-1]


def test_format1_messages_keep_their_ids_order_and_times(tmp_path: Path) -> None:
    """After the upgrade every format-1 message pages back unchanged, and new messages follow with the next ids."""
    messages_dir = tmp_path / "messages"
    old = _format1_store(messages_dir)
    store = MessageStore(messages_dir, segment_capacity=3)
    assert store.count() == V1_MESSAGES
    assert _everything(store) == [(m.id, m.text, m.to_dict()["created_at"]) for m in old]
    assert [store.append(f"new {n}").id for n in range(5)] == list(range(V1_MESSAGES, V1_MESSAGES + 5))
    texts = [record.text for record in audit(messages_dir)]
    assert texts == [m.text for m in old] + [f"new {n}" for n in range(5)]
    assert [m.text for m in store.tail(7)] == ["old 8", "old 9"] + [f"new {n}" for n in range(5)]
    assert store.status()["format1_messages"] == V1_MESSAGES


def test_a_format1_writer_still_running_is_stopped_not_lost(tmp_path: Path) -> None:
    """An old instance appending after the upgrade gets a 503 (storage_unavailable), and nothing it stored is lost."""
    messages_dir = tmp_path / "messages"
    _format1_store(messages_dir)
    old = format1_store.MessageStore(messages_dir)  # opened before the upgrade, as a warm old Lambda would be
    MessageStore(messages_dir)
    with pytest.raises(StorageUnavailable):
        old.append("too late")
    assert len(audit(messages_dir)) == V1_MESSAGES


_KILLING_UPGRADE = """
import os, signal, sys
from pathlib import Path
steps = [0]
def killing(real):
    def call(*args, **kwargs):
        if steps[0] == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        steps[0] += 1
        return real(*args, **kwargs)
    return call
for name in ("pwrite", "fsync", "fdatasync", "ftruncate", "mkdir"):
    setattr(os, name, killing(getattr(os, name)))
from inference.store.messages import MessageStore
MessageStore(Path(sys.argv[1]), segment_capacity=3)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "inference_image")])}


def test_an_upgrade_killed_at_any_step_is_finished_by_the_next_process(tmp_path: Path) -> None:
    """SIGKILLed before each of its writes, fsyncs and mkdirs in turn, the upgrade leaves a store that the next
    opener completes with every format-1 message at its id."""
    original = tmp_path / "original"
    old = _format1_store(original)
    expected = [(m.id, m.text) for m in old]
    step = 0
    while True:
        messages_dir = tmp_path / f"killed-at-{step}"
        shutil.copytree(original, messages_dir)
        result = subprocess.run(
            [sys.executable, "-c", _KILLING_UPGRADE, str(messages_dir), str(step)], env=_env(), check=False
        )
        store = MessageStore(messages_dir, segment_capacity=3)
        assert [(m.id, m.text) for m in store.tail(100)] == expected, f"killed at step {step}"
        assert store.append("after").id == V1_MESSAGES, f"killed at step {step}"
        assert [record.text for record in audit(messages_dir)][-1] == "after"
        if result.returncode == 0:
            break  # this run had fewer steps than ``step``: every step has been interrupted once
        assert result.returncode == -signal.SIGKILL
        step += 1
    assert step > 5


_OLD_WRITER = """
import os, sys
from pathlib import Path
from testing.format1_store import MessageStore
store = MessageStore(Path(sys.argv[1]))
ack = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
number = 0
while True:
    text = f"{sys.argv[3]}:{number}"
    message = store.append(text)
    os.write(ack, f"{message.id} {text}\\n".encode())
    number += 1
"""


def test_old_writers_racing_the_upgrade_lose_nothing(tmp_path: Path) -> None:
    """Format-1 writer processes appending while a format-2 process takes over: each acknowledged message is
    kept at its id, the old writers stop with an error, and format 2 carries on after the last of them."""
    messages_dir, ack_dir = tmp_path / "messages", tmp_path / "acks"
    ack_dir.mkdir()
    format1_store.MessageStore(messages_dir, segment_capacity=V1_CAPACITY)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _OLD_WRITER, str(messages_dir), str(ack_dir / f"w{n}.ack"), f"w{n}"],
            env=_env(),
            stderr=subprocess.PIPE,
        )
        for n in range(3)
    ]
    try:
        deadline = time.monotonic() + 60
        while sum(len(path.read_bytes()) for path in ack_dir.glob("*.ack")) < 200:
            assert time.monotonic() < deadline, "the old writers made no progress"
            time.sleep(0.01)
        store = MessageStore(messages_dir)
        for writer in writers:
            _, stderr = writer.communicate(timeout=60)
            assert writer.returncode != 0 and b"StorageUnavailable" in stderr
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()
    acks = read_acks(ack_dir)
    records = {record.id: record.text for record in audit(messages_dir)}
    assert all(records[acked_id] == text for text, acked_id in acks.items())
    assert store.append("first of format 2").id == len(records)
