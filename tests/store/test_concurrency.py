"""Many writers at once (threads, processes, processes killed with SIGKILL): every acknowledged
message is stored exactly once, ids are dense, and no record is torn."""

from __future__ import annotations

import random
import threading
from pathlib import Path

from inference.store.messages import MessageStore
from testing.store_helpers import audit, kill_writers_at_random, read_acks, spawn_writer


def _assert_each_text_once_with_dense_ids(messages_dir: Path) -> list[str]:
    records = audit(messages_dir)
    assert [record.id for record in records] == list(range(len(records)))
    texts = [record.text for record in records]
    assert len(texts) == len(set(texts)), "a message was stored twice"
    return texts


def test_threads_of_one_process_share_a_store(tmp_path: Path) -> None:
    """8 threads appending through one MessageStore get distinct dense ids and lose nothing."""
    store = MessageStore(tmp_path / "messages", segment_capacity=7)
    ids: list[int] = []

    def write(name: str) -> None:
        ids.extend(store.append(f"{name}:{number}").id for number in range(25))

    threads = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == list(range(200))
    texts = _assert_each_text_once_with_dense_ids(tmp_path / "messages")
    assert sorted(texts) == sorted(f"t{n}:{number}" for n in range(8) for number in range(25))


def test_processes_creating_and_writing_a_store_at_once(tmp_path: Path) -> None:
    """4 processes that create the same new store and append concurrently store every message once, as acked."""
    messages_dir, ack_dir = tmp_path / "messages", tmp_path / "acks"
    ack_dir.mkdir()
    writers = [spawn_writer(messages_dir, f"p{n}", ack_dir / f"p{n}.ack", capacity=7, limit=40) for n in range(4)]
    for writer in writers:
        _, stderr = writer.communicate(timeout=120)
        assert writer.returncode == 0, stderr.decode()
    acks = read_acks(ack_dir)
    assert len(acks) == 160
    records = {record.id: record.text for record in audit(messages_dir)}
    assert records == {acked_id: text for text, acked_id in acks.items()}
    # visible right away to a reader that is not one of the writers
    assert MessageStore(messages_dir).count() == 160


def test_writers_killed_at_random_instants_never_damage_the_store(tmp_path: Path) -> None:
    """After rounds of SIGKILLed writers, every acked message is there once with its id, nothing is torn,
    and appending still works."""
    seed = random.randrange(2**32)
    messages_dir = tmp_path / "messages"
    acks = kill_writers_at_random(messages_dir, tmp_path / "acks", seed=seed)
    assert acks, f"no writer acknowledged anything (seed {seed})"

    texts = _assert_each_text_once_with_dense_ids(messages_dir)
    for text, acked_id in acks.items():
        assert texts[acked_id] == text, f"acked message {text!r} is not at id {acked_id} (seed {seed})"
    # unacknowledged extras can only be the one append each killed writer had in flight
    assert len(texts) - len(acks) <= 4 * 4, f"seed {seed}"

    store = MessageStore(messages_dir)
    assert store.count() == len(texts)
    assert store.append("after the storm").id == len(texts)
    everything: list[str] = []
    before: int | None = None
    while True:
        items, before = store.page(500, before)
        everything.extend(message.text for message in items)
        if before is None:
            break
    assert everything[::-1] == [*texts, "after the storm"]
