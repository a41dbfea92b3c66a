"""Both images' build contexts, as Docker would send them, hold no Python caches at any depth (else the digest
differs between machines and an unchanged `pulumi up` redeploys), and still hold every source file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testing.pulumi_mocks import ROOT
from tests.infra.images.dockerignore import build_context, excluded, read_patterns

CACHE_FILES = ("__pycache__/app.cpython-312.pyc", "pkg/__pycache__/deep.cpython-312.pyc", "pkg/sub/stray.pyc")


def planted_copy(image: str, tmp_path: Path) -> Path:
    """A copy of the image folder (sources and .dockerignore) with caches planted at the root and deeper."""
    copy = tmp_path / image
    shutil.copytree(ROOT / image, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for relative in CACHE_FILES:
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        (copy / relative).write_bytes(b"cache")
    return copy


@pytest.mark.parametrize("image", ["inference_image", "ui_image"])
def test_build_context_has_no_python_caches_at_any_depth(image: str, tmp_path: Path) -> None:
    """No __pycache__ folder or .pyc file is sent, however deep; every source file and the Dockerfile are."""
    context = build_context(planted_copy(image, tmp_path))
    assert not [path for path in context if "__pycache__" in path or path.endswith(".pyc")], context
    sources = sorted(
        path.relative_to(ROOT / image).as_posix()
        for path in (ROOT / image).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )
    assert sources == [path for path in context if not path.startswith("pkg/")]
    assert "Dockerfile" in context and "requirements.txt" in context


def test_root_only_patterns_would_let_nested_caches_through(tmp_path: Path) -> None:
    """The matcher follows Docker: `__pycache__/` and `*.pyc` match only at the root (the bug this guards against)."""
    (tmp_path / ".dockerignore").write_text("__pycache__/\n*.pyc\n")
    patterns = read_patterns(tmp_path)
    assert excluded("__pycache__/a.pyc", patterns) and excluded("top.pyc", patterns)
    assert not excluded("pkg/__pycache__/a.cpython-312.pyc", patterns)
    assert not excluded("pkg/sub/stray.pyc", patterns)


def test_matcher_handles_reinclusion_and_double_stars(tmp_path: Path) -> None:
    """`!` re-includes, the last matching line wins, `**` spans directories and `*` does not."""
    (tmp_path / ".dockerignore").write_text("docs/*\n!docs/keep.md\n/build/**/*.o\n")
    patterns = read_patterns(tmp_path)
    assert excluded("docs/a.md", patterns) and not excluded("docs/keep.md", patterns)
    assert excluded("docs/sub/a.md", patterns)  # through its parent docs/sub, which docs/* matches
    assert excluded("build/x/y/z.o", patterns) and excluded("build/z.o", patterns)
    assert not excluded("src/build/z.o", patterns)
