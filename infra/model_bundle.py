"""The model directory that `pulumi up` publishes: its files, name, version and one content hash.

Read before any resource exists, so a missing or malformed directory fails the program early with a
message naming `modelDir`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from inference.models.metadata import METADATA_FILE, MODEL_FILE, is_valid_name
from infra.validation import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REQUIRED_FILES = (MODEL_FILE, METADATA_FILE)


@dataclass(frozen=True)
class ModelFile:
    name: str
    path: str  # as the program passes it to Pulumi: relative to the project when modelDir is
    sha256: str


@dataclass(frozen=True)
class ModelBundle:
    name: str
    version: str
    files: tuple[ModelFile, ...]
    content_sha256: str  # changes exactly when some file's name or bytes change

    @property
    def s3_prefix(self) -> str:
        return f"models/{self.name}/{self.version}/"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_model_bundle(model_dir: str, root: Path = PROJECT_ROOT) -> ModelBundle:
    """The bundle in `model_dir` (relative to `root` unless absolute): every visible file at its top level."""
    directory = root / model_dir
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise ConfigError(
            "modelDir", model_dir, f"a directory holding {' and '.join(REQUIRED_FILES)} (run `make model`)"
        )
    try:
        metadata = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(
            "modelDir", model_dir, f"a directory whose metadata.json is a JSON object ({error})"
        ) from None
    if not isinstance(metadata, dict):
        raise ConfigError("modelDir", model_dir, "a directory whose metadata.json is a JSON object")
    files = tuple(
        ModelFile(name=path.name, path=str(Path(model_dir) / path.name), sha256=_sha256(path))
        for path in sorted(directory.iterdir())
        if path.is_file() and not path.name.startswith(".")
    )
    content_sha256 = hashlib.sha256("".join(f"{item.name}\0{item.sha256}\n" for item in files).encode()).hexdigest()
    name = str(metadata.get("name") or directory.name)
    # Without a declared version the content decides it, so new bytes never overwrite a served version.
    version = str(metadata.get("version") or f"sha-{content_sha256[:12]}")
    for field, value in (("name", name), ("version", version)):
        if not is_valid_name(value):
            raise ConfigError(
                "modelDir", model_dir, f"a model whose {METADATA_FILE} {field} is a plain name, not {value!r}"
            )
    return ModelBundle(name=name, version=version, files=files, content_sha256=content_sha256)
