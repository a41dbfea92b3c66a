"""The peer for benchmark 7: sentence-transformers (torch, CPU) embedding the same sentences. Runs only in the
optional reference environment (`make minilm-reference` creates it), called by ``bench.minilm``:

    .venv-reference/bin/python bench/minilm_peer.py SENTENCES_JSON --threads N --seconds S

Prints ``RESULT {"sentences_per_second": ..., "ms_per_batch": [...]}``. Standard library + the peer only."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))  # no project in this environment
from minilm_package import package_zip  # type: ignore[import-not-found]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sentences", type=Path, help="a JSON list: one batch of sentences")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    batch = json.loads(args.sentences.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(package_zip()) as archive:
            archive.extractall(folder)
        model = SentenceTransformer(folder, device="cpu")
        with torch.inference_mode():
            for _ in range(2):  # warm-up
                model.encode(batch, batch_size=len(batch))
            timings: list[float] = []
            deadline = time.perf_counter() + args.seconds
            while time.perf_counter() < deadline or len(timings) < 3:
                started = time.perf_counter()
                model.encode(batch, batch_size=len(batch))
                timings.append(time.perf_counter() - started)
    result = {"sentences_per_second": len(batch) * len(timings) / sum(timings), "ms_per_batch": timings}
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
