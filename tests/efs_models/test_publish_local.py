"""`efs-models publish`, `list` and `rollback` against the local stack's data folder: checks before LATEST moves,
immutable versions (metadata included), and rollbacks."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from inference.models.pointer import read_latest
from inference.models.registry import ModelRegistry
from scripts.smoke import samples_of
from tests.efs_models.conftest import Efs, data_dir, iris_source

REPO = Path(__file__).resolve().parents[2]


def _version(folder: Path, version: str, **changes: object) -> Path:
    """The folder's metadata with another version (and ``changes``), in place."""
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata.update(version=version, **changes)
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


def test_publish_list_and_rollback(efs: Efs, tmp_path: Path, iris_folder: Path) -> None:
    """Two versions published, listed with the served one, then rolled back; the answers follow."""
    data = data_dir(tmp_path)
    assert efs("publish", iris_folder, "--data-dir", data).code == 0
    assert efs("publish", _version(iris_folder, "2"), "--data-dir", data).code == 0
    listed = efs("list", "--data-dir", data, "--json")
    (model,) = json.loads(listed.out)
    assert (model["name"], model["latest"], model["serving"], model["versions"]) == ("iris", "2", "2", ["2", "1"])
    table = efs("list", "--data-dir", data).out.splitlines()
    assert table[0].split() == ["MODEL", "LATEST", "SERVING", "VERSIONS"]
    assert table[1].split() == ["iris", "2", "2", "2", "1"]
    rolled = efs("rollback", "iris", "1", "--data-dir", data)
    assert rolled.code == 0, rolled.err
    assert read_latest(data / "models" / "iris") == "1"
    assert ModelRegistry(data / "models", "iris").predict(None, [[5.1, 3.5, 1.4, 0.2]])["version"] == "1"
    missing = efs("rollback", "iris", "7", "--data-dir", data)
    assert missing.code == 1 and "has no version '7'" in missing.err


def test_a_broken_version_never_becomes_latest(efs: Efs, tmp_path: Path, iris_folder: Path) -> None:
    """A version whose metadata names an output the graph lacks is refused at publish: nothing lands, LATEST and
    the served version stay."""
    data = data_dir(tmp_path)
    assert efs("publish", iris_folder, "--data-dir", data).code == 0
    metadata = json.loads((iris_folder / "metadata.json").read_text())
    broken = _version(
        iris_folder, "2", graph={**metadata["graph"], "outputs": [*metadata["graph"]["outputs"], "scores"]}
    )
    ran = efs("publish", broken, "--data-dir", data)
    assert ran.code == 1
    assert any("the model lacks the outputs ['scores']" in problem for problem in ran.problems())
    assert read_latest(data / "models" / "iris") == "1"
    assert sorted(path.name for path in (data / "models" / "iris").iterdir()) == ["1", "LATEST"]


def test_the_same_version_with_other_metadata_is_refused(efs: Efs, tmp_path: Path, iris_folder: Path) -> None:
    """metadata.json is part of the version: labels reversed under the same version is refused like another model,
    and the published metadata is unchanged."""
    data = data_dir(tmp_path)
    assert efs("publish", iris_folder, "--data-dir", data).code == 0
    published = (data / "models" / "iris" / "1" / "metadata.json").read_bytes()
    _version(iris_folder, "1", labels=["virginica", "versicolor", "setosa"])
    ran = efs("publish", iris_folder, "--data-dir", data)
    assert ran.code == 1
    assert "already holds a different model (metadata.json differ)" in ran.err
    assert (data / "models" / "iris" / "1" / "metadata.json").read_bytes() == published


def test_the_name_comes_from_the_metadata_or_the_flag(efs: Efs, tmp_path: Path, iris_folder: Path) -> None:
    """A folder renamed `flowers` holding `iris` is refused without --name, with the hint to give the metadata's own
    name first; published under --name with it, either name."""
    flowers = iris_folder.rename(tmp_path / "flowers")
    data = data_dir(tmp_path)
    refused = efs("publish", flowers, "--data-dir", data)
    assert refused.code == 1
    (problem,) = refused.problems()
    assert problem.startswith(
        "the folder 'flowers' holds a model whose metadata names it 'iris': give --name iris to publish it under its "
        "own name (--name flowers would publish it as another model)"
    )
    assert efs("publish", flowers, "--data-dir", data, "--name", "iris").code == 0
    assert read_latest(data / "models" / "iris") == "1"
    assert efs("publish", flowers, "--data-dir", data, "--name", "flowers").code == 0
    assert read_latest(data / "models" / "flowers") == "1"


def _next_step(printed: str) -> list[str]:
    """The arguments of the command init prints as its next step."""
    (line,) = [line for line in printed.splitlines() if line.startswith("Next: efs-models ")]
    return shlex.split(line.removeprefix("Next: efs-models ").split("   (or")[0])


def test_the_next_step_init_prints_works(efs: Efs, tmp_path: Path) -> None:
    """init into a folder named otherwise than the model (models/wine-v3 for wine version 3) prints a publish that
    names the model, and that command, run as printed, publishes wine version 3."""
    source = iris_source(tmp_path)
    folder = tmp_path / "models" / "wine-v3"
    ran = efs("init", source, "--name", "wine", "--version", "3", "--out", folder)
    assert ran.code == 0, ran.err
    step = _next_step(ran.out)
    assert step == ["publish", str(folder), "--name", "wine", "--data-dir", ".local/data"]
    data = data_dir(tmp_path)
    published = efs(*step[:-1], data)
    assert published.code == 0, published.err
    assert read_latest(data / "models" / "wine") == "3"


def test_init_writes_to_models_name_by_default(efs: Efs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --out, init writes models/<name> (and says so), whose next step needs no --name; without --name
    either, the one problem is the missing name."""
    monkeypatch.chdir(tmp_path)
    source = iris_source(tmp_path)
    missing = efs("init", source)
    assert missing.code == 2
    assert missing.problems() == ["missing --name: the model's name, as requests will use it, e.g. iris"]
    ran = efs("init", source, "--name", "wine")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Wrote models/wine/ (the default --out: models/NAME)")
    assert (tmp_path / "models" / "wine" / "metadata.json").is_file()
    assert _next_step(ran.out) == ["publish", "models/wine", "--data-dir", ".local/data"]
    again = efs("init", source, "--name", "wine")
    assert again.problems() == [
        "--out models/wine (the default, models/NAME) exists and is not empty: give a new folder, or --force to "
        "replace it"
    ]


def test_list_says_when_latest_is_damaged(efs: Efs, tmp_path: Path, iris_folder: Path) -> None:
    """A file damaged after publishing: the listing names LATEST's problem and what is served instead."""
    data = data_dir(tmp_path)
    assert efs("publish", iris_folder, "--data-dir", data).code == 0
    assert efs("publish", _version(iris_folder, "2"), "--data-dir", data).code == 0
    (data / "models" / "iris" / "2" / "metadata.json").write_text("{}")
    (model,) = json.loads(efs("list", "--data-dir", data, "--json").out)
    assert (model["latest"], model["serving"]) == ("2", "1")
    assert any("version 2" in problem and "invalid" in problem for problem in model["problems"])


@pytest.mark.parametrize("command", [["-m", "efs_models"], ["efs-models"]])
def test_the_command_runs_as_a_module_and_as_a_console_script(command: list[str]) -> None:
    """`python -m efs_models` and the `efs-models` script that the editable install puts beside this Python."""
    if command == ["efs-models"]:
        script = Path(sys.executable).parent / "efs-models"
        assert script.is_file(), "pip install -e . (make venv) installs the efs-models console script"
        argv = [str(script), "--help"]
    else:
        argv = [sys.executable, *command, "--help"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert all(word in done.stdout for word in ("init", "check", "publish", "list", "rollback"))


def test_init_writes_the_probe_inputs_as_samples(efs: Efs, tmp_path: Path) -> None:
    """Without --samples, init writes the made-up inputs the publish checks run as unlabelled samples (within
    --range), says so, and they are published and listed, as `make smoke` reads them, and answered; a text model's
    are the probe texts; --samples replaces them."""
    source = iris_source(tmp_path)
    ran = efs("init", source, "--name", "iris", "--out", tmp_path / "iris", "--range", "0.5,8")
    assert ran.code == 0, ran.err
    assert "samples: the publish checks' 2 made-up inputs, unlabelled" in ran.out
    metadata = json.loads((tmp_path / "iris" / "metadata.json").read_text())
    assert metadata["samples"] == [{"input": [0.5] * 4}, {"input": [1.0] * 4}]
    data = data_dir(tmp_path)
    assert efs("publish", tmp_path / "iris", "--data-dir", data).code == 0
    registry = ModelRegistry(data / "models", "iris")
    (listed,) = registry.list_models()["models"]
    inputs = [sample["input"] for sample in samples_of(listed)]
    assert inputs == [[0.5] * 4, [1.0] * 4]
    assert len(registry.predict("iris", inputs)["outputs"]) == 2
    given = tmp_path / "samples.json"
    given.write_text(json.dumps([{"label": "setosa", "input": [5.1, 3.5, 1.4, 0.2]}]))
    ran = efs("init", source, "--name", "iris", "--out", tmp_path / "given", "--samples", given)
    assert ran.code == 0 and "made-up" not in ran.out
    assert json.loads((tmp_path / "given" / "metadata.json").read_text())["samples"] == json.loads(given.read_text())


def test_a_text_model_gets_the_probe_texts_and_a_large_picture_none(efs: Efs, tmp_path: Path) -> None:
    """A text model's samples are the checks' probe texts; an image model of 3x224x224 values gets none (one would
    weigh on every GET /models), and init says how to give real ones."""
    from inference.models.checks import PROBE_TEXTS
    from scripts.example_exports import IMAGE_LABELS, image_classifier, write_sentence_embedding

    ran = efs("init", write_sentence_embedding(tmp_path / "export"), "--name", "embedder", "--out", tmp_path / "e")
    assert ran.code == 0, ran.err
    samples = json.loads((tmp_path / "e" / "metadata.json").read_text())["samples"]
    assert samples == [{"input": text} for text in PROBE_TEXTS]
    pets = tmp_path / "pets.onnx"
    pets.write_bytes(image_classifier().SerializeToString())
    flags = ("--image-preset", "imagenet", "--labels", ",".join(IMAGE_LABELS), "--softmax")
    ran = efs("init", pets, "--name", "pets", "--out", tmp_path / "pets", *flags)
    assert ran.code == 0, ran.err
    assert "no samples: a made-up input of 150,528 values would weigh on every GET /models" in ran.out
    assert json.loads((tmp_path / "pets" / "metadata.json").read_text())["samples"] == []
