"""Writer processes posting through the real handler are SIGKILLed at random instants: every acknowledged
message is stored exactly once under its id, no record is torn, and the store keeps working."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from inference.store.messages import MessageStore
from testing.api_events import json_event
from testing.store_helpers import REPO_ROOT, audit, kill_rounds, read_acks
from tests.reliability.conftest import ServeFrom, all_messages, body_json

WRITERS = 3
ROUNDS = 3
CAPACITY = 7  # small segments, so kills also land in segment roll-overs
MAX_RUN_SECONDS = 0.6
START_TIMEOUT = 60.0


def _spawn(data_dir: Path, ack_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "inference_image")])}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.handler_writer", str(data_dir), ack_path.stem, str(ack_path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # the handler's logs and metrics
        stderr=subprocess.PIPE,
    )


def test_handler_writers_killed_at_random_lose_and_tear_nothing(tmp_path: Path, serve_from: ServeFrom) -> None:
    """After rounds of SIGKILLed handler processes, each acked message is stored once at its id, nothing is torn,
    the API lists exactly what is on disk, and the next POST gets the next id."""
    seed = random.randrange(2**32)
    data_dir, ack_dir = tmp_path / "data", tmp_path / "acks"
    ack_dir.mkdir()
    MessageStore(data_dir / "messages", segment_capacity=CAPACITY)  # the handler keeps the recorded capacity

    killed = kill_rounds(
        lambda path: _spawn(data_dir, path),
        ack_dir,
        random.Random(seed),
        writers=WRITERS,
        rounds=ROUNDS,
        max_run_seconds=MAX_RUN_SECONDS,
        start_timeout=START_TIMEOUT,
    )

    acks = read_acks(ack_dir)  # also fails if any text was acknowledged twice
    records = audit(data_dir / "messages")  # checks every frame, checksum and id
    texts = [record.text for record in records]
    assert [record.id for record in records] == list(range(len(records))), f"seed {seed}"
    assert len(set(texts)) == len(texts), f"a message was stored twice (seed {seed})"
    for text, acked_id in acks.items():
        assert texts[acked_id] == text, f"acked {text!r} is not at id {acked_id} (seed {seed})"
    # Unacknowledged extras can only be the one append each killed writer had in flight.
    assert len(texts) - len(acks) <= killed, f"seed {seed}"

    invoke = serve_from(data_dir)
    assert all_messages(invoke) == texts
    response = invoke(json_event("POST", "/messages", {"text": "after the kills"}))
    assert response["statusCode"] == 201
    assert body_json(response)["id"] == len(texts)
