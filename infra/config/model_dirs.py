"""The model folders that `pulumi up` publishes (config `modelDirs`): each one's files, name, version and content
checksum.

Read before any resource exists, and checked exactly as `efs-models check` checks a folder (the metadata, every
file's checksum, ONNX Runtime loading the graph, the graph against the metadata, a probe run, the folder named as
its model): a folder it refuses fails the program with the same problems listed, naming `modelDirs`, the folder,
and the command that builds it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from inference.models.bucket_layout import version_prefix
from inference.models.checks import check_version_dir, publish_name
from inference.models.integrity import content_sha256, file_sha256, plain_files
from inference.models.metadata import METADATA_FILE, MODEL_FILE, MetadataError, ModelProblems
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
    content_sha256: str  # the version's content checksum: changes exactly when some file's name or bytes change

    @property
    def s3_prefix(self) -> str:
        return version_prefix(self.name, self.version)


def _how_to_build(model_dir: str) -> str:
    command = BUILD_COMMANDS.get(Path(model_dir).name)
    return f"run `{command}`" if command else "build the model there first: `efs-models init` makes a model folder"


def read_model_bundle(model_dir: str, root: Path = PROJECT_ROOT) -> ModelBundle:
    """The bundle in `model_dir` (relative to `root` unless absolute): its plain files, once the folder passes
    every check `efs-models check` runs."""
    directory = root / model_dir
    if not (directory / MODEL_FILE).is_file() or not (directory / METADATA_FILE).is_file():
        raise ConfigError(
            KEY, model_dir, f"a directory holding {MODEL_FILE} and {METADATA_FILE} ({_how_to_build(model_dir)})"
        )
    files = tuple(
        ModelFile(name=path.name, path=str(Path(model_dir) / path.name), sha256=file_sha256(path))
        for path in plain_files(directory)
    )
    checksum = content_sha256((item.name, item.sha256) for item in files)
    name, version = _checked(str(directory.resolve()), checksum, model_dir)
    return ModelBundle(name=name, version=version, files=files, content_sha256=checksum)


@functools.cache
def _checked(directory: str, checksum: str, model_dir: str) -> tuple[str, str]:
    """The folder's model name and version once it passes the checks; the same folder content is checked once per
    process (the tests run the program many times)."""
    problems: list[str] = []
    try:
        metadata = check_version_dir(Path(directory)).metadata
        return publish_name(Path(directory), metadata), metadata.version
    except MetadataError as error:
        problems = [f"{METADATA_FILE} is invalid: {problem}" for problem in error.problems]
    except ModelProblems as error:
        problems = list(error.problems)
    listed = "".join(f"\n  - {problem}" for problem in problems)
    raise ConfigError(
        KEY,
        model_dir,
        f"a model folder that passes `efs-models check {model_dir}` ({_how_to_build(model_dir)}):{listed}\n ",
    )


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
