"""Benchmark 8, concurrent writers: appends per second with 1, 4 and 8 writer processes on one store (each
append durable, one fsync), and the kill audit: 8 writers x 150 messages with 3 of them SIGKILLed mid-write.

    python -m bench.concurrency [--seconds 3] [--dir PATH]...

Each writer is a fresh process (as each Lambda instance is) running ``MessageStore.append`` in a loop; all
start together at a set instant and stop after ``--seconds``. ``--dir`` adds a folder to measure on (e.g. an
NFS mount); the local disk (the temp folder) is always measured. The kill audit checks every acknowledged
message against the store through the independent reader of testing/store_helpers.py."""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import REPO, publish, table, target_line
from testing.store_helpers import audit, read_acks, spawn_writer

WRITERS = (1, 4, 8)
KILL_WRITERS, KILL_MESSAGES, KILLED = 8, 150, 3

PROBE = """
import sys, time
from pathlib import Path
from inference.store.messages import MessageStore
store = MessageStore(Path(sys.argv[1]))
start, seconds = float(sys.argv[2]), float(sys.argv[3])
store.count()  # the first open, off the clock
while time.time() < start:
    time.sleep(0.001)
done = 0
while time.time() < start + seconds:
    store.append(f"{sys.argv[4]}:{done}")
    done += 1
print(done)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "inference_image")])}


def appends_per_second(base: Path, writers: int, seconds: float) -> float:
    """Total appends per second of ``writers`` processes on a fresh store under ``base``."""
    from inference.store.messages import MessageStore

    with tempfile.TemporaryDirectory(prefix="bench-writers-", dir=base) as folder:
        messages_dir = Path(folder) / "messages"
        MessageStore(messages_dir)
        start = time.time() + 2.0 + 0.3 * writers  # after every interpreter has started and opened the store
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", PROBE, str(messages_dir), str(start), str(seconds), f"w{n}"],
                env=_env(),
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(writers)
        ]
        total = 0
        for process in processes:
            out, _ = process.communicate(timeout=120 + seconds)
            if process.returncode != 0:
                raise SystemExit(f"a writer failed with {process.returncode}")
            total += int(out.strip())
        stored = len(audit(messages_dir))
        if stored != total:
            raise SystemExit(f"{total} appends acknowledged but {stored} stored")
    return total / seconds


def kill_audit(base: Path, seed: int) -> dict[str, int]:
    """8 writers of 150 messages each, 3 killed at random instants once they have acknowledged something."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="bench-kill-", dir=base) as folder:
        messages_dir, ack_dir = Path(folder) / "messages", Path(folder) / "acks"
        ack_dir.mkdir()
        processes = [
            spawn_writer(messages_dir, f"w{n}", ack_dir / f"w{n}.ack", 10_000, KILL_MESSAGES)
            for n in range(KILL_WRITERS)
        ]
        deadline = time.monotonic() + 60
        while not all((ack_dir / f"w{n}.ack").exists() for n in range(KILL_WRITERS)):  # all of them writing
            if time.monotonic() > deadline:
                raise SystemExit("the writers made no progress")
            time.sleep(0.002)
        victims: list[subprocess.Popen[bytes]] = []
        while len(victims) < KILLED:
            time.sleep(rng.uniform(0, 0.05))
            running = [process for process in processes if process.poll() is None and process not in victims]
            if not running:
                raise SystemExit("every writer finished before the kills: raise KILL_MESSAGES")
            victims.append(rng.choice(running))
            victims[-1].kill()
        for process in processes:
            process.wait(timeout=300)
            if process.stderr:
                process.stderr.close()
        acks = read_acks(ack_dir)
        torn = 0
        try:
            records = audit(messages_dir)
        except AssertionError:
            torn, records = 1, []
        stored: dict[str, list[int]] = {}
        for record in records:
            stored.setdefault(record.text, []).append(record.id)
        lost = sum(1 for text, acked_id in acks.items() if stored.get(text) != [acked_id])
        duplicated = sum(1 for ids in stored.values() if len(ids) > 1)
        return {
            "acknowledged": len(acks),
            "stored": len(records),
            "lost": lost,
            "duplicated": duplicated,
            "torn": torn,
            "killed": sum(1 for victim in victims if victim.returncode == -9),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per case (default 3)")
    parser.add_argument("--dir", action="append", default=[], help="another folder to measure on (e.g. NFS)")
    args = parser.parse_args()
    media = {"local disk": Path(tempfile.gettempdir())} | {f"{path}": Path(path) for path in args.dir}
    rows = []
    for medium, base in media.items():
        rates = {writers: appends_per_second(base, writers, args.seconds) for writers in WRITERS}
        rows.append([medium, *(f"{rates[w]:.0f}" for w in WRITERS), f"{rates[8] / rates[1]:.2f}x"])
        print(f"{medium}: {rates}", flush=True)
    seed = random.randrange(2**32)
    kill = kill_audit(Path(tempfile.gettempdir()), seed)
    clean = kill["lost"] == kill["duplicated"] == kill["torn"] == 0 and kill["killed"] == KILLED
    body = "\n\n".join(
        [
            f"Appends per second, all writers together, each a fresh process appending for {args.seconds:g} s; every "
            "append is durable (one fsync) and the store is audited afterwards (every acknowledged append stored "
            "once). Writers serialise on the current segment's lock (one append at a time, store-wide); the machine "
            "is shared with other engineers' jobs, so compare the columns of one row, not runs.",
            table(["medium", *(f"{w} writer{'s' if w > 1 else ''}" for w in WRITERS), "8 vs 1"], rows),
            f"Kill audit (local disk, seed {seed}): {KILL_WRITERS} writers x {KILL_MESSAGES} messages, {KILLED} "
            f"SIGKILLed at random instants mid-write: {kill['acknowledged']} acknowledged, {kill['stored']} stored, "
            f"{kill['lost']} lost, {kill['duplicated']} duplicated, {kill['torn']} torn.",
            target_line("kill audit: 0 lost, 0 duplicated, 0 torn", clean, f"{kill}"),
        ]
    )
    publish("concurrency", "8. Concurrent writers", body)


if __name__ == "__main__":
    main()
