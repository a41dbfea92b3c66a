"""Stand-ins for the ONNX files users bring, built offline and without torch, for docs/MODELS.md's worked examples,
the tests of `efs-models` and its benchmark (a real export of each kind, not the metadata's idea of one):

    python -m scripts.example_exports image-classifier --out stand-ins/pets.onnx [--fixed-batch]
    python -m scripts.example_exports sentence-embedding --out stand-ins/embedder
    python -m scripts.example_exports text-classifier --out stand-ins/sentiment

- a scikit-learn classifier of the iris flowers, exported by skl2onnx with its default options (ZipMap) unless
  asked otherwise (``iris_classifier``, for the tests and the benchmark; the docs train their own);
- an image classifier as torchvision models are exported: ``pixel_values`` float32 [batch, 3, 224, 224] (NCHW,
  ImageNet-normalised RGB) through a convolution to ``logits`` [batch, 5]; ``--fixed-batch`` gives it torch's
  default export, a batch dimension fixed at 1;
- a sentence embedding as a Hugging Face export folder: a small BERT encoder (``scripts/bert_onnx.py``, random
  weights) with ``input_ids``, ``attention_mask``, ``token_type_ids`` and ``last_hidden_state``, its WordPiece
  ``tokenizer.json``, and sentence-transformers' files saying: CLS pooling, normalised, at most 64 tokens;
- a text classifier as a Hugging Face sequence-classification export folder: the same encoder with a head on the
  CLS token giving ``logits`` [batch, 3], the tokenizer, and ``config.json`` with ``id2label``.

Every file is byte-identical from run to run (fixed seeds)."""

from __future__ import annotations

import argparse
import json
import string
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from scripts.bert_onnx import OPSET, BertConfig, build_bert_graph

IMAGE_LABELS = ("cat", "dog", "bird", "fish", "horse")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
TINY_BERT = BertConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64, layer_norm_eps=1e-12)
MAX_POSITIONS = 64
_WORDS = [
    "the",
    "a",
    "an",
    "is",
    "are",
    "was",
    "were",
    "be",
    "to",
    "of",
    "and",
    "in",
    "on",
    "for",
    "with",
    "that",
    "this",
    "it",
    "as",
    "at",
    "by",
    "from",
    "or",
    "not",
    "but",
    "good",
    "bad",
    "great",
    "awful",
    "movie",
    "film",
    "food",
    "service",
    "day",
    "night",
    "man",
    "woman",
    "child",
    "dog",
    "cat",
    "eats",
    "eating",
    "plays",
    "playing",
    "music",
    "love",
    "hate",
    "very",
    "really",
    "quite",
    "fine",
    "okay",
    "terrible",
    "wonderful",
    "happy",
    "sad",
]


IRIS_SPECIES = ("setosa", "versicolor", "virginica")


def iris_classifier(*, string_classes: bool = False, zipmap: bool = True) -> bytes:
    """A logistic regression of scikit-learn's iris data, classes 0..2 (or the species' names), as skl2onnx exports
    it: one map of class to probability per input by default (ZipMap), a [batch, 3] tensor with ``zipmap=False``."""
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, target = load_iris(return_X_y=True)
    classes = np.array(IRIS_SPECIES)[target] if string_classes else target
    estimator = LogisticRegression(max_iter=1000).fit(features, classes)
    options = None if zipmap else {id(estimator): {"zipmap": False}}
    return bytes(to_onnx(estimator, features[:1].astype(np.float32), options=options).SerializeToString())


def image_classifier(fixed_batch: bool = False) -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    batch: int | str = 1 if fixed_batch else "batch"
    initializers = [
        numpy_helper.from_array(rng.normal(0, 0.02, (8, 3, 8, 8)).astype(np.float32), "conv.weight"),
        numpy_helper.from_array(rng.normal(0, 0.1, (8,)).astype(np.float32), "conv.bias"),
        numpy_helper.from_array(rng.normal(0, 2.0, (8, len(IMAGE_LABELS))).astype(np.float32), "head.weight"),
        numpy_helper.from_array(rng.normal(0, 0.1, (len(IMAGE_LABELS),)).astype(np.float32), "head.bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["pixel_values", "conv.weight", "conv.bias"], ["features"], strides=[8, 8]),
        helper.make_node("Relu", ["features"], ["activated"]),
        helper.make_node("GlobalAveragePool", ["activated"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Gemm", ["flat", "head.weight", "head.bias"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "pets-classifier",
        inputs=[helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [batch, 3, 224, 224])],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, len(IMAGE_LABELS)])],
        initializer=initializers,
    )
    return _model(graph, "pytorch-like stand-in")


def tokenizer_json() -> str:
    """A lowercasing WordPiece tokenizer, as BERT's, over a small vocabulary."""
    from tokenizers import BertWordPieceTokenizer

    pieces = [*string.ascii_lowercase, *string.digits, *string.punctuation]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *pieces, *(f"##{piece}" for piece in pieces), *_WORDS]
    tokenizer = BertWordPieceTokenizer({token: index for index, token in enumerate(dict.fromkeys(vocab))})
    return str(tokenizer.to_str())


def _vocab_size() -> int:
    return len(json.loads(tokenizer_json())["model"]["vocab"])


def _bert(seed: int) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    h, i = TINY_BERT.hidden_size, TINY_BERT.intermediate_size
    shapes = {
        "embeddings.word_embeddings.weight": (_vocab_size(), h),
        "embeddings.position_embeddings.weight": (MAX_POSITIONS, h),
        "embeddings.token_type_embeddings.weight": (2, h),
    }
    for layer in range(TINY_BERT.num_layers):
        prefix = f"encoder.layer.{layer}"
        for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            shapes[f"{prefix}.{name}.weight"] = (h, h)
        shapes[f"{prefix}.intermediate.dense.weight"] = (i, h)
        shapes[f"{prefix}.output.dense.weight"] = (h, i)
    weights = {name: rng.normal(0, 0.2, shape).astype(np.float32) for name, shape in shapes.items()}
    for name, shape in list(shapes.items()):
        if name.endswith(".weight") and "embeddings." not in name:
            weights[name.replace(".weight", ".bias")] = rng.normal(0, 0.02, shape[0]).astype(np.float32)
    norms = ["embeddings.LayerNorm"] + [
        f"encoder.layer.{layer}.{part}.LayerNorm"
        for layer in range(TINY_BERT.num_layers)
        for part in ("attention.output", "output")
    ]
    for norm in norms:
        weights[f"{norm}.weight"] = np.ones(h, dtype=np.float32)
        weights[f"{norm}.bias"] = np.zeros(h, dtype=np.float32)
    return build_bert_graph(weights, TINY_BERT, "tiny-bert")


def sentence_embedding() -> onnx.ModelProto:
    return _bert(11)


def text_classifier() -> onnx.ModelProto:
    """The encoder plus a head on the first ([CLS]) token: ``logits`` [batch, 3]."""
    model = _bert(13)
    rng = np.random.default_rng(17)
    graph = model.graph
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(0, dtype=np.int64), "cls_index"),
            numpy_helper.from_array(
                rng.normal(0, 1.0, (TINY_BERT.hidden_size, len(SENTIMENT_LABELS))).astype(np.float32), "head.weight"
            ),
            numpy_helper.from_array(rng.normal(0, 0.1, (len(SENTIMENT_LABELS),)).astype(np.float32), "head.bias"),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("Gather", ["last_hidden_state", "cls_index"], ["cls"], axis=1),
            helper.make_node("MatMul", ["cls", "head.weight"], ["head"]),
            helper.make_node("Add", ["head", "head.bias"], ["logits"]),
        ]
    )
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(SENTIMENT_LABELS)]))
    onnx.checker.check_model(model, full_check=True)
    return model


def _model(graph: onnx.GraphProto, producer: str) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=producer)
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def write_sentence_embedding(folder: Path) -> Path:
    """A sentence-transformers export folder: model.onnx, tokenizer.json and the configs that say how to pool."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(sentence_embedding().SerializeToString())
    (folder / "tokenizer.json").write_text(tokenizer_json())
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": TINY_BERT.hidden_size, "pooling_mode_cls_token": True})
    )
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": MAX_POSITIONS}))
    return folder


def write_text_classifier(folder: Path) -> Path:
    """A Hugging Face sequence-classification export folder: model.onnx, tokenizer.json, config.json."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(text_classifier().SerializeToString())
    (folder / "tokenizer.json").write_text(tokenizer_json())
    config = {
        "model_type": "bert",
        "max_position_embeddings": MAX_POSITIONS,
        "id2label": {str(index): label for index, label in enumerate(SENTIMENT_LABELS)},
    }
    (folder / "config.json").write_text(json.dumps(config, indent=1))
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.example_exports", description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("image-classifier", "sentence-embedding", "text-classifier"))
    parser.add_argument("--out", type=Path, required=True, help="the .onnx file (image) or the folder (text) to write")
    parser.add_argument("--fixed-batch", action="store_true", help="image: a batch dimension fixed at 1")
    args = parser.parse_args(argv)
    if args.kind == "image-classifier":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(image_classifier(args.fixed_batch).SerializeToString())
    elif args.kind == "sentence-embedding":
        write_sentence_embedding(args.out)
    else:
        write_text_classifier(args.out)
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
