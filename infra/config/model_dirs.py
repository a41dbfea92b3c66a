"""The model folders that `pulumi up` publishes (config `modelDirs`): each one's files, name, version and one
content hash.

Read before any resource exists, so a missing, incomplete or invalid folder fails the program early with a
message naming `modelDirs`, the folder, and the command that builds it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from inference.models.metadata import METADATA_FILE, MODEL_FILE
from inference.models.publishing import PublishError, verify_version_dir
from infra.config.checks import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KEY = "modelDirs"
# How to build the example models that are not committed (or rebuild those that are).
BUILD_COMMANDS = {"digits": "make model", "minilm": "make minilm"}


@dataclass(frozen=True)
class ModelFile:
    name: str
    path: str  # as the program passes it to Pulumi: relative to the project when the folder is
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


def _how_to_build(model_dir: str) -> str:
    command = BUILD_COMMANDS.get(Path(model_dir).name)
    return f"run `{command}`" if command else "build the model there first"


def read_model_bundle(model_dir: str, root: Path = PROJECT_ROOT) -> ModelBundle:
    """The bundle in `model_dir` (relative to `root` unless absolute): every visible file at its top level,
    once the metadata parses and every file it lists matches its size and sha256, as publishing will check."""
    directory = root / model_dir
    if not (directory / MODEL_FILE).is_file() or not (directory / METADATA_FILE).is_file():
        raise ConfigError(
            KEY, model_dir, f"a directory holding {MODEL_FILE} and {METADATA_FILE} ({_how_to_build(model_dir)})"
        )
    try:
        metadata = verify_version_dir(directory)
    except PublishError as error:
        raise ConfigError(
            KEY, model_dir, f"a valid, complete model folder ({error}; {_how_to_build(model_dir)})"
        ) from None
    files = tuple(
        ModelFile(name=path.name, path=str(Path(model_dir) / path.name), sha256=_sha256(path))
        for path in sorted(directory.iterdir())
        if path.is_file() and not path.name.startswith(".")
    )
    content_sha256 = hashlib.sha256("".join(f"{item.name}\0{item.sha256}\n" for item in files).encode()).hexdigest()
    return ModelBundle(name=metadata.name, version=metadata.version, files=files, content_sha256=content_sha256)


def read_model_bundles(model_dirs: tuple[str, ...], root: Path = PROJECT_ROOT) -> tuple[ModelBundle, ...]:
    """Every folder's bundle, in order (the first is the default model); two folders of one model name fail."""
    if not model_dirs:
        raise ConfigError(KEY, [], "a list of one or more model folders, such as models/digits")
    bundles = tuple(read_model_bundle(model_dir, root) for model_dir in model_dirs)
    names = [bundle.name for bundle in bundles]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(KEY, list(model_dirs), f"folders of different models (two hold {', '.join(duplicates)})")
    return bundles
