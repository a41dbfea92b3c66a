"""Reading the model folders that `pulumi up` publishes (config modelDirs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.config.checks import ConfigError
from infra.config.model_dirs import PROJECT_ROOT, read_model_bundle, read_model_bundles
from tests.models.factory import DIGITS_DIR, minilm_dir, tiny_model_dir


def test_bundle_lists_visible_files_with_name_version_and_prefix(tmp_path: Path) -> None:
    """Name and version come from metadata.json; hidden files are skipped; the S3 prefix is models/<name>/<version>/."""
    directory = tiny_model_dir(tmp_path / "digits", name="digits", version="3")
    (directory / ".DS_Store").write_bytes(b"")
    (directory / "samples.json").write_text("[]")
    bundle = read_model_bundle(str(directory))
    assert (bundle.name, bundle.version, bundle.s3_prefix) == ("digits", "3", "models/digits/3/")
    assert [item.name for item in bundle.files] == ["metadata.json", "model.onnx", "samples.json"]
    assert all(Path(item.path).is_file() for item in bundle.files)


def test_relative_model_dir_is_resolved_against_the_project_but_passed_on_relative(tmp_path: Path) -> None:
    """A relative folder is read under the project root and handed to Pulumi as a project-relative path."""
    tiny_model_dir(tmp_path / "models" / "tiny")
    bundle = read_model_bundle("models/tiny", root=tmp_path)
    assert [item.path for item in bundle.files] == ["models/tiny/metadata.json", "models/tiny/model.onnx"]
    assert Path(__file__).resolve().parents[3] == PROJECT_ROOT


def test_content_hash_changes_exactly_when_content_changes(tmp_path: Path) -> None:
    """Same bytes, same hash (so the publisher is not invoked again); one changed byte, a new hash."""
    directory = tiny_model_dir(tmp_path / "tiny")
    (directory / "notes.txt").write_text("a")
    first = read_model_bundle(str(directory)).content_sha256
    assert read_model_bundle(str(directory)).content_sha256 == first
    (directory / "notes.txt").write_text("b")
    assert read_model_bundle(str(directory)).content_sha256 != first


def test_the_example_folders_are_read_in_order(tmp_path: Path) -> None:
    """The default list, digits then MiniLM (with its tokenizer), reads as two bundles, the first the default."""
    bundles = read_model_bundles((str(DIGITS_DIR), str(minilm_dir())))
    assert [bundle.name for bundle in bundles] == ["digits", "minilm"]
    assert "tokenizer.json" in [item.name for item in bundles[1].files]


def _change_metadata(directory: Path, **changes: object) -> None:
    metadata = json.loads((directory / "metadata.json").read_text())
    metadata.update(changes)
    (directory / "metadata.json").write_text(json.dumps(metadata))


@pytest.mark.parametrize(
    ("folder", "setup", "fragment"),
    [
        ("minilm", lambda d: None, "holding model.onnx and metadata.json (run `make minilm`)"),
        ("digits", lambda d: None, "(run `make model`)"),
        ("mine", lambda d: None, "(build the model there first: `efs-models init` makes a model folder)"),
        ("mine", lambda d: _change_metadata(tiny_model_dir(d), name="a/b"), "metadata.json is invalid"),
        ("mine", lambda d: _change_metadata(tiny_model_dir(d), format_version=None), "format_version"),
        ("mine", lambda d: (tiny_model_dir(d), (d / "metadata.json").write_text("{")), "not valid JSON"),
        ("mine", lambda d: (tiny_model_dir(d), (d / "model.onnx").write_bytes(b"other")), "does not match"),
    ],
)
def test_bad_model_folder_fails_naming_model_dirs(tmp_path: Path, folder: str, setup: object, fragment: str) -> None:
    """A missing folder, invalid metadata or a file that fails its checksum is one ConfigError naming
    modelDirs and the folder, with the command that builds it where there is one."""
    directory = tmp_path / folder
    assert callable(setup)
    setup(directory)
    with pytest.raises(ConfigError, match=f"Invalid config modelDirs='{directory}'") as raised:
        read_model_bundles((str(directory),))
    assert fragment in str(raised.value)


def test_a_metadata_listing_a_missing_tokenizer_fails(tmp_path: Path) -> None:
    """Every file the metadata lists must be in the folder (the MiniLM folder without its tokenizer fails)."""
    directory = tmp_path / "minilm"
    directory.mkdir()
    for name in ("model.onnx", "metadata.json"):
        (directory / name).symlink_to(minilm_dir() / name)
    with pytest.raises(ConfigError, match=r"tokenizer\.json is missing, but the version lists it"):
        read_model_bundles((str(directory),))


def test_an_empty_list_or_two_folders_of_one_model_fail(tmp_path: Path) -> None:
    """modelDirs needs at least one folder, and each model once."""
    with pytest.raises(ConfigError, match="one or more model folders"):
        read_model_bundles(())
    first, second = tiny_model_dir(tmp_path / "a" / "tiny"), tiny_model_dir(tmp_path / "b" / "tiny", variant="b")
    with pytest.raises(ConfigError, match="two hold tiny"):
        read_model_bundles((str(first), str(second)))


def test_a_folder_efs_models_check_refuses_fails_with_its_problems_listed(tmp_path: Path) -> None:
    """The checks of `efs-models check` run before any resource: a graph that disagrees with its metadata in two
    ways fails the program with both problems listed, and the command that checks the folder."""
    directory = tiny_model_dir(tmp_path / "tiny")
    _change_metadata(directory, outputs=["label", "probabilities", "scores"])
    metadata = json.loads((directory / "metadata.json").read_text())
    metadata["input"]["dtype"] = "float64"
    (directory / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ConfigError) as raised:
        read_model_bundles((str(directory),))
    message = str(raised.value)
    assert f"a model folder that passes `efs-models check {directory}`" in message
    assert "\n  - input 'x' is tensor(float) in the graph, but the metadata says float64" in message
    assert "\n  - the model lacks the outputs ['scores'] named in its metadata" in message


def test_a_folder_named_unlike_its_model_fails(tmp_path: Path) -> None:
    """modelDirs folders are named as their models: `flowers` holding `tiny` is refused with the way out."""
    directory = tiny_model_dir(tmp_path / "flowers")
    with pytest.raises(ConfigError, match="rename the folder to 'tiny'"):
        read_model_bundles((str(directory),))


def test_the_content_checksum_is_the_publishers(tmp_path: Path) -> None:
    """The bundle's checksum is the one the publisher checks the downloaded files against (metadata.json included)."""
    from inference.models.integrity import folder_content_sha256

    directory = tiny_model_dir(tmp_path / "tiny")
    assert read_model_bundle(str(directory)).content_sha256 == folder_content_sha256(directory)
