"""Bad flags, bad graphs and bad metadata: one message listing every problem in plain words, never a traceback;
exit status 2 for flags, 1 for the model."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from tests.efs_models.conftest import Efs, data_dir, iris_source


def test_every_bad_flag_is_listed_at_once(efs: Efs, tmp_path: Path) -> None:
    """Unknown flags, missing ones, bad numbers and choices, a missing source: all in one message, status 2."""
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("something of the user's")
    out = tmp_path / "out"
    ran = efs("init", tmp_path / "missing.onnx", "--out", out, "--max-tokens", "many", "--pooling", "max", "--bogus")
    assert ran.code == 2
    problems = ran.problems()
    assert len(problems) == 6, ran.err
    assert any("unknown argument '--bogus'" in problem for problem in problems)
    assert any(problem.startswith("missing --name: the model's name") for problem in problems)
    assert any("--max-tokens must be a positive whole number, got 'many'" in problem for problem in problems)
    assert any("--pooling must be one of mean, cls, none, got 'max'" in problem for problem in problems)
    assert any("missing.onnx does not exist" in problem for problem in problems)
    assert any("exists and is not empty" in problem for problem in problems)
    assert ran.err.startswith("efs-models init: 6 problems:")


def test_publish_without_a_target_says_where_to(efs: Efs, tmp_path: Path) -> None:
    """publish needs --data-dir or a stack, and not both."""
    assert "missing --data-dir" in efs("publish", tmp_path).err
    both = efs("publish", tmp_path, "--data-dir", tmp_path, "--bucket", "b")
    assert both.code == 2 and "give either --data-dir" in both.err


def test_a_data_dir_that_does_not_exist_is_refused(efs: Efs, tmp_path: Path, iris_folder: Path) -> None:
    """A mistyped --data-dir is listed with the other problems (status 2), and nothing is created: publishing where
    nothing serves would say "Published" and serve nothing."""
    missing = tmp_path / "nonexistent" / "dir"
    ran = efs("publish", iris_folder, "--data-dir", missing, "--bogus")
    assert ran.code == 2
    problems = ran.problems()
    assert len(problems) == 2, ran.err
    assert f"--data-dir {missing} does not exist" in problems[1]
    assert "which `make dev` creates" in problems[1]
    assert not (tmp_path / "nonexistent").exists()
    for command in (["list"], ["rollback", "iris", "1"]):
        assert efs(*command, "--data-dir", missing).code == 2
    assert not (tmp_path / "nonexistent").exists()
    a_file = tmp_path / "data.txt"
    a_file.write_text("")
    assert f"--data-dir {a_file} is not a folder" in efs("publish", iris_folder, "--data-dir", a_file).err


def _flags_named(problems: list[str]) -> list[str]:
    """The flags that problems of the form "FLAG is for ..." name, in order."""
    return [problem.split()[0] for problem in problems if " is for " in problem]


def test_flags_that_do_not_apply_to_a_tabular_classifier_are_listed(efs: Efs, tmp_path: Path) -> None:
    """skl2onnx's iris classifier takes a tensor: every text, image and embedding flag given is named, with what
    init found and how to say otherwise, along with the empty --version, in one message; nothing is written."""
    tokenizer = tmp_path / "tokenizer.json"
    tokenizer.write_text("{}")
    flags = ["--pooling", "cls", "--no-normalize", "--tokenizer", tokenizer, "--max-tokens", "5"]
    flags += ["--max-text-bytes", "10", "--max-batch", "3", "--image-size", "8x8", "--image-mode", "L"]
    ran = efs("init", iris_source(tmp_path), "--name", "wine", "--out", tmp_path / "wine", "--version", "", *flags)
    assert ran.code == 2
    problems = ran.problems()
    assert "--version is empty: give the version to write (default 1), or leave the flag out" in problems
    assert _flags_named(problems) == [
        "--tokenizer",
        "--max-tokens",
        "--max-text-bytes",
        "--max-batch",
        "--image-size",
        "--image-mode",
        "--pooling",
        "--no-normalize",
    ]
    assert len(problems) == 9, ran.err
    assert (
        "--pooling is for embedding models, but this one is a tensor classifier: drop --pooling, or say --task "
        "embedding if it is one"
    ) in problems
    assert (
        "--image-size is for image models, but this one is a tensor classifier: drop --image-size, or say --kind "
        "image if it is one"
    ) in problems
    assert not (tmp_path / "wine").exists()


def test_flags_that_do_not_apply_to_text_models_are_listed(efs: Efs, tmp_path: Path) -> None:
    """A text classifier (a Hugging Face export) takes no --range, --image-preset or --pooling; a sentence embedding
    described as one (--task embedding) takes no --labels or --softmax."""
    from scripts.example_exports import write_sentence_embedding, write_text_classifier

    classifier = write_text_classifier(tmp_path / "sentiment")
    text_flags = ("--softmax", "--range", "0,1", "--image-preset", "imagenet", "--pooling", "mean")
    ran = efs("init", classifier, "--name", "sentiment", "--out", tmp_path / "out", *text_flags)
    assert ran.code == 2
    assert _flags_named(ran.problems()) == ["--image-preset", "--range", "--pooling"]
    assert "but this one is a text classifier" in ran.problems()[0]
    embedder = write_sentence_embedding(tmp_path / "embedder")
    task_flags = ("--task", "embedding", "--labels", "a,b", "--softmax")
    ran = efs("init", embedder, "--name", "embedder", "--out", tmp_path / "out", *task_flags)
    assert ran.code == 2
    assert _flags_named(ran.problems()) == ["--labels", "--softmax"]
    assert "but this one is a text embedding model: drop --labels, or say --task classification" in ran.err


def test_empty_and_invalid_names_and_versions_are_listed(efs: Efs, tmp_path: Path, iris_folder: Path) -> None:
    """An empty flag (an unset shell variable) never silently means its default, and a version that cannot be one
    is a flag problem: init, check, publish and rollback list them all, status 2."""
    data = data_dir(tmp_path)
    init = efs("init", tmp_path / "iris.onnx", "--name", "wine", "--out", tmp_path / "w", "--version", "a/b")
    assert init.code == 2
    assert init.problems() == [
        "--version \"a/b\" is not allowed: use 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit, without '..'"
    ]
    size = efs("init", tmp_path / "iris.onnx", "--name", "wine", "--out", tmp_path / "w", "--image-size", "8.5x8")
    assert "--image-size must be WIDTHxHEIGHT in whole pixels, got '8.5x8'" in size.problems()
    for value_range in ("5,1", "nan,1"):
        ran = efs("init", tmp_path / "iris.onnx", "--name", "wine", "--out", tmp_path / "w", "--range", value_range)
        assert ran.problems() == [f"--range must be LOW,HIGH with finite LOW <= HIGH, got {value_range!r}"]
    assert not (tmp_path / "w").exists()
    publish = efs("publish", iris_folder, "--data-dir", data, "--version", "", "--name", "", "--description", "x")
    assert publish.code == 2
    assert publish.problems() == [
        "unknown argument '--description' (see efs-models publish --help)",
        "unknown argument 'x' (see efs-models publish --help)",
        "--name is empty: give the name to publish under (default: the metadata's, which the folder's must match), "
        "or leave the flag out",
        "--version is empty: give the version to publish as (default: the metadata's), or leave the flag out",
    ]
    bad_version = efs("publish", iris_folder, "--data-dir", data, "--version", "../1")
    assert bad_version.code == 2 and bad_version.problems()[0].startswith('--version "../1" is not allowed')
    assert efs("check", iris_folder, "--name", "").problems() == [
        "--name is empty: give the name to publish under, if not the folder's, or leave the flag out"
    ]
    rollback = efs("rollback", "../iris", "1", "--data-dir", data, "--region", "eu-west-1")
    assert rollback.code == 2
    assert rollback.problems()[0].startswith('NAME "../iris" is not allowed')
    assert rollback.problems()[1].startswith("give either --data-dir (the local stack) or a stack")
    assert not any((data / "models").glob("*"))


def test_a_file_that_is_not_onnx_is_named(efs: Efs, tmp_path: Path) -> None:
    """Not a graph at all: one plain sentence, status 1."""
    source = tmp_path / "model.onnx"
    source.write_text("not a graph")
    ran = efs("init", source, "--name", "junk", "--out", tmp_path / "out")
    assert ran.code == 1
    (problem,) = ran.problems()
    assert "is not an ONNX model that ONNX Runtime can load" in problem


def test_a_graph_of_two_tensor_inputs_is_explained(efs: Efs, tmp_path: Path) -> None:
    """A graph init cannot describe says what it takes and what it got."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"])],
        "two-inputs",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", 3]) for name in ("a", "b")],
        [helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["n", 3])],
    )
    source = tmp_path / "add.onnx"
    source.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    ran = efs("init", source, "--name", "add", "--out", tmp_path / "out")
    assert ran.code == 2
    assert any("the graph takes 2 inputs" in problem for problem in ran.problems())


def _refused(efs: Efs, tmp_path: Path, model: onnx.ModelProto, *flags: str) -> list[str]:
    """The problems `efs-models init` lists for ``model`` with ``flags`` (it must refuse, status 2)."""
    source = tmp_path / "model.onnx"
    source.write_bytes(model.SerializeToString())
    ran = efs("init", source, "--name", "mine", "--out", tmp_path / "out", *flags)
    assert ran.code == 2, ran.out
    return ran.problems()


def test_a_text_model_without_its_tokenizer_or_length(efs: Efs, tmp_path: Path) -> None:
    """A token-input graph with no tokenizer and nothing saying its length: both said, with what to give."""
    from scripts.example_exports import sentence_embedding

    problems = _refused(efs, tmp_path, sentence_embedding())
    assert any("a text model needs its tokenizer: --tokenizer tokenizer.json" in problem for problem in problems)
    assert "missing --max-tokens: the longest token sequence the model takes, e.g. 256" in problems


def test_scores_without_softmax_are_refused(efs: Efs, tmp_path: Path) -> None:
    """Logits declared as probabilities would answer nonsense: init asks for --softmax."""
    from scripts.example_exports import image_classifier

    problems = _refused(efs, tmp_path, image_classifier(), "--image-preset", "imagenet", "--labels", "a,b")
    assert any("2 labels for the 5 probabilities of logits" in problem for problem in problems)
    assert any("holds scores (logits), not probabilities: add --softmax" in problem for problem in problems)


@pytest.mark.parametrize("zipmap", [True, False], ids=["zipmap", "probabilities-tensor"])
def test_softmax_over_probabilities_is_refused(efs: Efs, tmp_path: Path, zipmap: bool) -> None:
    """skl2onnx's classifiers give probabilities already (ZipMap's maps, or its `probabilities` tensor): softmax
    over them would answer other, wrong ones, so --softmax is refused with the hint to drop it, and nothing is
    written."""
    from scripts.example_exports import iris_classifier

    source = tmp_path / "iris.onnx"
    source.write_bytes(iris_classifier(zipmap=zipmap))
    ran = efs("init", source, "--name", "iris", "--out", tmp_path / "iris", "--softmax")
    assert ran.code == 2
    (problem,) = ran.problems()
    output = "output_probability" if zipmap else "probabilities"
    assert problem.startswith(f"--softmax: {output} is ")
    assert "already holds probabilities" in problem and "drop --softmax" in problem
    assert not (tmp_path / "iris").exists()


def test_softmax_after_a_graph_that_ends_in_softmax_is_refused(efs: Efs, tmp_path: Path) -> None:
    """Any output whose rows are probabilities on the probe run (a graph ending in Softmax) is recognised; the same
    graph's logits with --softmax are described."""
    weights = helper.make_tensor("w", TensorProto.FLOAT, [4, 3], [0.5, -1.0, 2.0, 1.5, 0.25, -0.5] * 2)
    bias = helper.make_tensor("b", TensorProto.FLOAT, [3], [0.3, -0.2, 1.1])
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["product"]),
            helper.make_node("Add", ["product", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["scores"], axis=-1),
        ],
        "softmaxed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["n", 3])],
        initializer=[weights, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    problems = _refused(efs, tmp_path, model, "--labels", "a,b,c", "--softmax")
    assert any(p.startswith("--softmax: on a probe run, each row of scores is within 0..1") for p in problems)
    graph.output[0].name = "logits"
    del graph.node[-1]
    source = tmp_path / "logits.onnx"
    source.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    ran = efs("init", source, "--name", "logits", "--out", tmp_path / "logits", "--labels", "a,b,c", "--softmax")
    assert ran.code == 0, ran.err
    assert json.loads((tmp_path / "logits" / "metadata.json").read_text())["softmax"] is True


def test_check_lists_every_problem_of_hand_written_metadata(efs: Efs, tmp_path: Path) -> None:
    """A text model's metadata missing three fields, and a second mistake elsewhere: all named, with what each
    field means, in one run."""
    folder = tmp_path / "broken"
    assert efs("init", iris_source(tmp_path), "--name", "broken", "--out", folder).code == 0
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["input"] = {"kind": "text", "tokenizer": "model.onnx", "graph_inputs": {}}
    metadata["task"] = "ranking"
    (folder / "metadata.json").write_text(json.dumps(metadata))
    ran = efs("check", folder)
    assert ran.code == 1
    problems = ran.problems()
    assert "missing field input.max_tokens: the longest token sequence the model takes, e.g. 256" in problems
    assert any(problem.startswith("missing field input.max_text_bytes: the longest text") for problem in problems)
    assert any(problem.startswith("missing field input.vocab_size") for problem in problems)
    assert any("field task must be one of classification, embedding, tensor" in problem for problem in problems)


def test_check_lists_where_graph_and_metadata_disagree(efs: Efs, tmp_path: Path) -> None:
    """Outputs the graph lacks and an input of another type: both named at once."""
    folder = tmp_path / "iris"
    assert efs("init", iris_source(tmp_path), "--name", "iris", "--out", folder).code == 0
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["graph"]["outputs"].append("scores")
    metadata["graph"]["inputs"][0]["dtype"] = "float64"
    (folder / "metadata.json").write_text(json.dumps(metadata))
    ran = efs("check", folder)
    assert ran.code == 1
    problems = ran.problems()
    assert any("input 'X' is tensor(float) in the graph, but the metadata says float64" in p for p in problems)
    assert any("the model lacks the outputs ['scores']" in problem for problem in problems)


def test_check_says_when_a_file_does_not_match(efs: Efs, tmp_path: Path) -> None:
    """A model file changed after init: its checksum is named, nothing is loaded."""
    folder = tmp_path / "iris"
    assert efs("init", iris_source(tmp_path), "--name", "iris", "--out", folder).code == 0
    model = onnx.load(str(folder / "model.onnx"))
    model.doc_string = "edited"
    (folder / "model.onnx").write_bytes(model.SerializeToString())
    ran = efs("check", folder)
    assert ran.code == 1
    assert any("model.onnx does not match the sha256 in its metadata" in problem for problem in ran.problems())


def test_check_refuses_a_folder_named_unlike_its_model(efs: Efs, tmp_path: Path) -> None:
    """A folder `flowers` whose metadata says `iris` is a mistake until a name is given."""
    folder = tmp_path / "flowers"
    assert efs("init", iris_source(tmp_path), "--name", "iris", "--out", folder).code == 0
    ran = efs("check", folder)
    assert ran.code == 1
    assert "holds a model whose metadata names it 'iris'" in ran.err
    assert efs("check", folder, "--name", "flowers").code == 0
