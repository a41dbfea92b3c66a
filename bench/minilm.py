"""Benchmark 9, the MiniLM text model: where a request's time goes, throughput against sentence-transformers,
the cold model load and a worker's memory, and what a million sentences cost on Lambda.

    python -m bench.minilm [--requests N] [--seconds S] [--cold-runs N]

Needs models/minilm (`make minilm`); the peer runs in .venv-reference (`make minilm-reference`) and is
skipped, saying so, without it. The fused variant (ONNX Runtime's transformer fusions) is built into a
temporary folder and measured beside the plain one. Contenders are interleaved in rounds, and every
comparison is a ratio within this run."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.measure import median, timed
from bench.report import REPO, ms, publish, ratio, table, target_line
from testing.api_events import json_event
from testing.lambda_context import FakeLambdaContext

MINILM = REPO / "models" / "minilm"
REFERENCE = REPO / "scripts" / "minilm_reference.json"
PEER_PYTHON = REPO / ".venv-reference" / "bin" / "python"
BATCHES = (1, 8, 32)
KINDS = ("session.run", "tokenise", "registry", "handler", "handler only")
ROUNDS = 5
TARGET_OVERHEAD = 0.05  # handler above the registry path, and tokenisation, each as a share of the model's time
TARGET_THROUGHPUT = 1.5  # x sentence-transformers at batch 32
TARGET_COLD_S = 1.0
TARGET_RSS_MB = 450
# Lambda prices (us-east-1 / eu-central-1, 2026): per GB-second, and per request.
PRICES = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
PRICE_PER_REQUEST = 0.20 / 1e6
FULL_VCPU_MB = 1769  # Lambda gives one vCPU at 1,769 MB, and CPU share in proportion to memory
MEMORY_SIZES = (1024, 1769, 3008)

COLD_PROBE = """
import json, os, resource, sys, time
started = time.perf_counter()
os.environ["DATA_DIR"] = sys.argv[1]
os.environ["DEFAULT_MODEL"] = "minilm"
from inference.api import handler
from testing.api_events import json_event
from testing.lambda_context import FakeLambdaContext
response = handler.lambda_handler(json_event("POST", "/predict", {"inputs": ["a first sentence"]}), FakeLambdaContext())
first = time.perf_counter() - started
assert response["statusCode"] == 200, response["body"]
rss_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:"))
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("RESULT " + json.dumps({"in_process_s": first, "rss_mb": rss_kb / 1024, "peak_mb": peak_kb / 1024}))
"""


def sentences(count: int) -> list[str]:
    """Everyday sentences from the reference set (its two paragraph-long ones left out), cycled."""
    pool = [text for text in json.loads(REFERENCE.read_text(encoding="utf-8"))["sentences"] if len(text) < 200]
    return [pool[index % len(pool)] for index in range(count)]


def build_fused(folder: Path) -> Path:
    out = folder / "minilm-fused"
    subprocess.run(
        [sys.executable, "-m", "scripts.build_minilm", "--optimize", "--out", str(out)], cwd=REPO, check=True
    )
    return out


def models_folder(folder: Path, variants: dict[str, Path]) -> Path:
    models = folder / "models"
    for name, source in variants.items():
        shutil.copytree(source, models / name / "1")
    return models


# --- 1. where a request's time goes ------------------------------------------------------------------------


def request_breakdown(models: Path, requests: int) -> dict[tuple[str, int], float]:
    """Median seconds per call: raw session.run on pre-tokenised input, tokenising alone, the registry path
    (tokenise + run + pool), the whole handler (event in, JSON out), and the handler's own code (the registry
    answering from a recorded answer); one intra-op thread."""
    os.environ["DATA_DIR"] = str(models.parent)
    os.environ["MODEL_THREADS"] = "1"
    from inference.api import handler

    handler.settings = handler.Settings.from_env()
    # The handler's own registry, so that all four share one session (two 90 MB sessions would evict each
    # other's weights from the CPU caches and blur the comparison).
    registry = handler.model_registry()
    registry.predict("minilm", ["warm up"])
    loaded = registry._loaded("minilm", "1")  # the same session the registry runs
    assert loaded.text is not None
    context = FakeLambdaContext()
    calls: dict[tuple[str, int], Callable[[], object]] = {}
    for batch in BATCHES:
        texts = sentences(batch)
        feeds = loaded.text.encode(texts, batch).feeds
        event = json_event("POST", "/models/minilm/predict", {"inputs": texts}, path_parameters={"name": "minilm"})
        calls[("session.run", batch)] = partial(loaded.session.run, ["last_hidden_state"], feeds)
        calls[("tokenise", batch)] = partial(loaded.text.encode, texts, batch)
        calls[("registry", batch)] = partial(registry.predict, "minilm", texts)
        calls[("handler", batch)] = partial(_handled, handler.lambda_handler, event, context)
        answer = registry.predict("minilm", texts)
        own = partial(_handler_only, registry, answer, handler.lambda_handler, event, context)
        calls[("handler only", batch)] = own
    samples: dict[tuple[str, int], list[float]] = {key: [] for key in calls}
    for call in calls.values():
        timed(call, 3)
    for _ in range(ROUNDS):
        for key, call in calls.items():
            samples[key] += timed(call, max(1, requests // ROUNDS // key[1] + 1))
    return {key: median(values) for key, values in samples.items()}


def _handler_only(
    registry: Any, answer: dict[str, Any], handler: Callable[..., dict[str, Any]], event: dict[str, Any], context: Any
) -> dict[str, Any]:
    """The handler's own code: the same request with the registry answering from a recorded answer, so that the
    handler's cost is measured directly rather than as the difference of two noisy ~4 ms medians."""

    def recorded(*args: Any, **kwargs: Any) -> dict[str, Any]:
        # so that the handler writes its EMF line
        registry._metric("inference_ms", answer["timing_ms"]["inference"], answer["model"], answer["version"])
        return answer

    registry.predict = recorded  # an instance attribute shadows the method for this call
    try:
        return _handled(handler, event, context)
    finally:
        del registry.predict


def _handled(handler: Callable[..., dict[str, Any]], event: dict[str, Any], context: Any) -> dict[str, Any]:
    with contextlib.redirect_stdout(io.StringIO()):  # the EMF metric line each /predict prints, as Lambda's stdout
        response = handler(event, context)
    if response["statusCode"] != 200:
        raise SystemExit(f"the handler answered {response['statusCode']}: {response['body']}")
    return response


# --- 2. throughput ---------------------------------------------------------------------------------------


def ours_per_second(models: Path, name: str, threads: int, seconds: float, size: int = 32) -> float:
    from inference.models.registry import ModelRegistry

    registry = ModelRegistry(models, name, threads=threads)
    batch = sentences(size)
    registry.predict(name, batch)
    timings: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(timings) < 3:
        timings += timed(lambda: registry.predict(name, batch), 1)
    return size / median(timings)


def peer_per_second(threads: int, seconds: float, folder: Path, size: int = 32) -> float | None:
    if not PEER_PYTHON.exists():
        return None
    batch_file = folder / "batch.json"
    batch_file.write_text(json.dumps(sentences(size)), encoding="utf-8")
    command = [str(PEER_PYTHON), "bench/minilm_peer.py", str(batch_file), "--threads", str(threads)]
    out = subprocess.run([*command, "--seconds", str(seconds)], cwd=REPO, capture_output=True, text=True, check=True)
    result = json.loads(next(line[7:] for line in out.stdout.splitlines() if line.startswith("RESULT ")))
    return size / median(result["ms_per_batch"])


def throughput(models: Path, seconds: float, folder: Path) -> dict[tuple[str, int], float | None]:
    """Sentences per second at batch 32: interleaved ours (plain, fused) and the peer, per thread count."""
    rates: dict[tuple[str, int], list[float]] = {}
    for _ in range(2):
        for threads in (1, 2):
            for contender in ("minilm", "minilm-fused", "sentence-transformers"):
                if contender == "sentence-transformers":
                    rate = peer_per_second(threads, seconds, folder)
                else:
                    rate = ours_per_second(models, contender, threads, seconds)
                if rate is not None:
                    rates.setdefault((contender, threads), []).append(rate)
        # Batch 1 at one thread: what each framework adds around a small run.
        rates.setdefault(("minilm", 0), []).append(ours_per_second(models, "minilm", 1, seconds / 2, size=1))
        peer = peer_per_second(1, seconds / 2, folder, size=1)
        if peer is not None:
            rates.setdefault(("sentence-transformers", 0), []).append(peer)
    found: dict[tuple[str, int], float | None] = {key: median(values) for key, values in rates.items()}
    for threads in (0, 1, 2):
        found.setdefault(("sentence-transformers", threads), None)
    return found


# --- 3. cold load and memory -----------------------------------------------------------------------------


def drop_from_page_cache(folder: Path) -> bool:
    """Ask the kernel to forget the model's cached pages (POSIX_FADV_DONTNEED works unprivileged on clean pages)."""
    try:
        for path in folder.rglob("*"):
            if path.is_file():
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
    except (AttributeError, OSError):
        return False
    return True


def cold_runs(data_dir: Path, runs: int) -> list[dict[str, float]]:
    results = []
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'inference_image'}"}
    env.pop("MODEL_THREADS", None)
    for _ in range(runs):
        dropped = drop_from_page_cache(data_dir / "models")
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", COLD_PROBE, str(data_dir)],
            check=False,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        if out.returncode != 0:
            raise SystemExit(f"cold probe failed: {out.stderr[-2000:]}")
        result = json.loads(next(line[7:] for line in out.stdout.splitlines() if line.startswith("RESULT ")))
        results.append({**result, "wall_s": wall, "dropped": float(dropped)})
    return results


# --- the report ------------------------------------------------------------------------------------------


def cost_rows(ms_per_sentence: dict[int, float], two_thread_speedup: float) -> list[list[str]]:
    """$ per million sentences from the one-vCPU time per sentence: below 1,769 MB Lambda gives a share of a
    vCPU, so time grows as 1769/memory; above it, a second vCPU helps as much as the second thread did here."""
    rows = []
    for memory in MEMORY_SIZES:
        vcpus = memory / FULL_VCPU_MB
        for batch, one_cpu_ms in ms_per_sentence.items():
            # Above one vCPU, at most the speed-up of the second thread here: only 2 cores to measure on.
            per_sentence = one_cpu_ms / (vcpus if vcpus <= 1 else min(vcpus, two_thread_speedup))
            gb_seconds = per_sentence / 1000 * memory / 1024
            costs = [gb_seconds * PRICES[arch] * 1e6 + PRICE_PER_REQUEST * 1e6 / batch for arch in ("x86_64", "arm64")]
            rows.append(
                [f"{memory} MB ({vcpus:.2f} vCPU)", str(batch), f"{per_sentence:.2f}", f"{gb_seconds * 1e6:,.0f}"]
                + [f"${cost:.2f}" for cost in costs]
            )
    return rows


def report(
    breakdown: dict[tuple[str, int], float],
    rates: dict[tuple[str, int], float | None],
    cold: list[dict[str, float]],
) -> str:
    rows = []
    for batch in BATCHES:
        raw, tok, reg, han, own = (breakdown[(kind, batch)] for kind in KINDS)
        rows.append(
            [
                str(batch),
                ms(raw),
                ms(tok),
                ms(reg),
                ms(han),
                f"{(reg - raw) / raw:.1%}",
                f"{tok / raw:.1%}",
                f"{(han - reg) / raw:.1%}",
                f"{own * 1e6:.0f} µs = {own / raw:.1%}",
                ms(raw / batch),
            ]
        )
    raw1, tok1, reg1, han1, own1 = (breakdown[(kind, 1)] for kind in KINDS)
    handler_share, tokenise_share = own1 / raw1, tok1 / raw1
    worst_tokenise = max(breakdown[("tokenise", b)] / breakdown[("session.run", b)] for b in BATCHES)

    rate_rows = []
    peer = {threads: rates.get(("sentence-transformers", threads)) for threads in (0, 1, 2)}
    for contender in ("minilm", "minilm-fused", "sentence-transformers"):
        for threads in (1, 2, 0):
            if (contender, threads) not in rates:
                continue
            rate = rates.get((contender, threads))
            base = peer[threads]
            rate_rows.append(
                [
                    contender,
                    "32" if threads else "1",
                    str(threads or 1),
                    "not run" if rate is None else f"{rate:.0f}",
                    ratio(rate, base) if rate is not None and base else "n/a",
                ]
            )
    best_ours = {t: max(rates.get(("minilm", t)) or 0, rates.get(("minilm-fused", t)) or 0) for t in (1, 2)}
    speedups = [best_ours[t] / base for t in (1, 2) if (base := peer[t])]

    wall = median([run["wall_s"] for run in cold])
    in_process = median([run["in_process_s"] for run in cold])
    rss = median([run["rss_mb"] for run in cold])
    peak = median([run["peak_mb"] for run in cold])
    dropped = all(run["dropped"] for run in cold)

    one_thread = {batch: breakdown[("registry", batch)] * 1000 / batch for batch in (1, 32)}
    plain2 = rates.get(("minilm", 2)) or 0
    plain1 = rates.get(("minilm", 1)) or 1
    speedup_2 = max(1.0, plain2 / plain1)

    lines = [
        "MiniLM (all-MiniLM-L6-v2, 384 dimensions) as built by `make minilm`. The machine is a shared 2-core VM: "
        "other engineers' jobs ran while this was measured, so absolute figures move between runs; ratios are "
        "within this run. Sentences are everyday ones from the reference set (8-20 tokens).",
        "",
        "**Per request, one intra-op thread** (median ms; shares are of the model's own time, `session.run`). "
        "`session.run` is one run of the whole batch padded to its longest text; the registry path sorts a batch "
        "by length and runs it in runs of 8, each cut to its own longest, so past a few texts it does less work "
        "than the raw run (a negative share):",
        "",
        table(
            [
                "batch",
                "session.run",
                "tokenise",
                "registry (tokenise + run + pool)",
                "handler (event → JSON)",
                "registry above run",
                "tokenise / run",
                "handler above registry",
                "handler's own code",
                "run ms / sentence",
            ],
            rows,
        ),
        "",
        target_line(
            "handler above the registry path ≤ 5 % of the model time at batch 1, as the handler's own code",
            handler_share <= TARGET_OVERHEAD,
            f"{handler_share:.1%}: {own1 * 1e6:.0f} µs, measured directly with the registry's answer recorded",
        ),
        f"The same target read end to end, as the difference of the handler's and the registry's medians: "
        f"{(han1 - reg1) / raw1:.1%} here ({'met' if han1 - reg1 <= TARGET_OVERHEAD * raw1 else 'missed'}). "
        "That difference also holds what the handler's work between runs costs the model's next run (its "
        "objects evict cached weights and activations; disabling the garbage collector changed nothing), "
        "and it moves by several points between runs on this shared machine.",
        target_line(
            "tokenisation ≤ 5 % of the model time",
            worst_tokenise <= TARGET_OVERHEAD,
            f"{tokenise_share:.1%} at batch 1, {worst_tokenise:.1%} at worst over batches 1/8/32",
        ),
        "",
        "**Throughput at batch 32, and batch 1 for scale** (sentences/s from the median batch time; the peer is "
        "sentence-transformers with torch's CPU build, in its own environment, on the same sentences, threads "
        "and CPU; ours is the registry path, tokenising and pooling included):",
        "",
        table(["contender", "batch", "threads", "sentences/s", "vs sentence-transformers"], rate_rows),
        "",
        target_line(
            "≥ 1.5x sentence-transformers",
            bool(speedups) and min(speedups) >= TARGET_THROUGHPUT,
            ", ".join(f"{s:.2f}x" for s in speedups) + " (1 and 2 threads, best of ours)"
            if speedups
            else "peer not run: `make minilm-reference` creates its environment",
        ),
        "",
        f"**Cold model load** (fresh process → first embedding through the handler, {len(cold)} runs, median; "
        + (
            "the model's pages dropped from the page cache before each run with POSIX_FADV_DONTNEED; Python's and "
            "onnxruntime's own files stay cached"
            if dropped
            else "the page cache could not be dropped: warm cache"
        )
        + "):",
        "",
        table(
            ["spawn → first embedding", "in the process", "RSS after it", "peak RSS"],
            [[f"{wall * 1000:.0f} ms", f"{in_process * 1000:.0f} ms", f"{rss:.0f} MB", f"{peak:.0f} MB"]],
        ),
        "",
        target_line("fresh process to first embedding ≤ 1.0 s", wall <= TARGET_COLD_S, f"{wall:.2f} s"),
        target_line("RSS of a worker with MiniLM loaded ≤ 450 MB", rss <= TARGET_RSS_MB, f"{rss:.0f} MB"),
        "",
        "**Cost per million sentences** (registry path, one thread: "
        f"{one_thread[1]:.2f} ms a sentence at batch 1, {one_thread[32]:.2f} at batch 32; the second thread gave "
        f"{speedup_2:.2f}x here). Lambda gives a vCPU share in proportion to memory (1 vCPU at 1,769 MB), so below "
        "1,769 MB the time is scaled up by 1769/MB; above it, by at most the two-thread speed-up measured here. "
        "Prices: $0.0000166667 (x86_64) and $0.0000133334 (arm64) per GB-s, $0.20 per million requests. What this "
        "machine cannot show: more than 2 vCPUs (3,008 MB gives 1.7), Graviton's speed (arm64 rows assume x86 "
        "times), and Lambda's actual CPU throttling at fractional vCPU.",
        "",
        table(
            ["memory", "batch", "ms / sentence", "GB-µs / sentence", "$ / M sentences x86_64", "$ / M sentences arm64"],
            cost_rows(one_thread, speedup_2),
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="timed sentences per contender and batch")
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds per throughput measurement")
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    if not (MINILM / "model.onnx").exists():
        raise SystemExit("models/minilm is missing: run `make minilm` first")
    with tempfile.TemporaryDirectory(prefix="bench-minilm-") as name:
        folder = Path(name)
        models = models_folder(folder, {"minilm": MINILM, "minilm-fused": build_fused(folder)})
        breakdown = request_breakdown(models, args.requests)
        rates = throughput(models, args.seconds, folder)
        cold = cold_runs(models.parent, args.cold_runs)
    publish("minilm", "9. MiniLM text model", report(breakdown, rates, cold))


if __name__ == "__main__":
    main()
