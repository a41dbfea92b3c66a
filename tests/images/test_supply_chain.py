"""Supply chain: what goes into the images and the MiniLM example is pinned to its content, not to a name."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from scripts.build_minilm import read_package
from scripts.dockerfile import instructions, pip_install_args
from scripts.lock_requirements import pins, wheel_hashes
from scripts.minilm_package import PACKAGE_FILES_SHA256, package_zip
from scripts.pin_base_images import DOCKER_HUB, PUBLIC_ECR, BaseImage, base_images, pinned

ROOT = Path(__file__).resolve().parents[2]


def instructions_named(dockerfile: Path, keyword: str) -> list[str]:
    return [arguments for name, arguments in instructions(dockerfile) if name == keyword]


@pytest.mark.parametrize("tampered", ["tokenizer.json", "model.safetensors", "1_Pooling/config.json"])
def test_the_minilm_package_is_refused_when_any_file_read_differs(tmp_path: Path, tampered: str) -> None:
    """A model.zip whose tokenizer (or weights, or pooling configuration) is not the pinned file is refused by
    name before the conversion uses it; the installed package passes."""
    assert set(read_package(package_zip())) >= {"tokenizer.json", "model.safetensors", "pooling.json"}
    forged = tmp_path / "model.zip"
    with zipfile.ZipFile(package_zip()) as source, zipfile.ZipFile(forged, "w") as target:
        for name in PACKAGE_FILES_SHA256:
            data = source.read(name)
            target.writestr(name, data + b" " if name == tampered else data)
    with pytest.raises(SystemExit) as refused:
        read_package(forged)
    assert f"{tampered} has sha256 " in str(refused.value)
    assert PACKAGE_FILES_SHA256[tampered] in str(refused.value)


DOCKERFILES = (ROOT / "inference_image" / "Dockerfile", ROOT / "ui_image" / "Dockerfile")
IMAGE_REQUIREMENTS = (ROOT / "inference_image" / "requirements.txt", ROOT / "ui_image" / "requirements.txt")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_every_base_image_is_pinned_by_digest(dockerfile: Path) -> None:
    """Each FROM names its tag and a sha256 digest, so a rebuild cannot pick up another image under the tag."""
    images = base_images(dockerfile.read_text())
    assert images and all(image.digest is not None and len(image.digest) == 71 for image in images), images
    assert len(instructions_named(dockerfile, "FROM")) == len(images)  # no FROM the pattern missed


def test_pinning_rewrites_each_from_to_its_tags_digest() -> None:
    """pin_base_images keeps the tag and any stage name, and knows where each image's registry is."""
    text = (
        "FROM python:3.12-slim AS base\nRUN true\nFROM --platform=linux/arm64 public.ecr.aws/lambda/python:3.12@sha256:"
        + "0" * 64
    )
    resolved = pinned(text, lambda image: "sha256:" + ("a" if image.name == "python" else "b") * 64)
    assert resolved.splitlines()[0] == "FROM python:3.12-slim@sha256:" + "a" * 64 + " AS base"
    assert (
        resolved.splitlines()[2] == "FROM --platform=linux/arm64 public.ecr.aws/lambda/python:3.12@sha256:" + "b" * 64
    )
    assert BaseImage("python", "3.12-slim", None).where() == (DOCKER_HUB, "library/python")
    assert BaseImage("public.ecr.aws/lambda/python", "3.12", None).where() == (PUBLIC_ECR, "lambda/python")


@pytest.mark.parametrize("requirements", IMAGE_REQUIREMENTS, ids=lambda path: path.parent.name)
def test_every_image_requirement_is_pinned_with_hashes_and_installed_with_require_hashes(requirements: Path) -> None:
    """Each pin is name==version with at least one --hash; the Dockerfile's pip refuses any other file."""
    text = requirements.read_text()
    locked = pins(text)
    assert locked
    blocks = re.split(r"\n(?=[A-Za-z0-9])", "\n".join(line for line in text.splitlines() if not line.startswith("#")))
    assert all("--hash=sha256:" in block for block in blocks if block.strip()), blocks
    assert "--require-hashes" in pip_install_args(requirements.parent / "Dockerfile")


def test_the_ui_images_requirements_are_the_locked_closure_of_its_top_level_pins() -> None:
    """requirements.txt holds every pin of requirements.in at its version, and more (their closure: the image
    resolves nothing at build time; the fresh-venv tests install it with --require-hashes, which fails on any
    dependency the lock lacks)."""
    top = dict(pins((ROOT / "ui_image" / "requirements.in").read_text()))
    locked = dict(pins((ROOT / "ui_image" / "requirements.txt").read_text()))
    assert top.items() <= locked.items()
    assert len(locked) > 3 * len(top)


def test_locking_hashes_the_wheels_each_target_installs_and_nothing_else() -> None:
    """For each target (CPython 3.12 x86_64 and arm64, the images; 3.11 x86_64, this repository's venv) the
    wheels that fit are hashed; Windows, macOS, musl and source files are not; no fitting wheel is an error."""
    files: list[dict[str, object]] = [
        {"filename": name, "hashes": {"sha256": name[:8]}}
        for name in [
            "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "demo-1.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "demo-1.0-cp311-cp311-manylinux_2_28_x86_64.whl",
            "demo-1.0-cp312-cp312-win_amd64.whl",
            "demo-1.0-cp312-cp312-musllinux_1_2_x86_64.whl",
            "demo-1.0-cp312-cp312-macosx_11_0_arm64.whl",
            "demo-1.0.tar.gz",
            "demo-0.9-py3-none-any.whl",
        ]
    ]
    assert len(wheel_hashes("demo", "1.0", files)) == 3
    assert wheel_hashes("demo", "0.9", files) == ["demo-0.9"]
    with pytest.raises(SystemExit, match=r"no wheel for CPython 3\.11 x86_64"):
        wheel_hashes("demo", "1.0", files[:2])


def test_make_pins_pip_itself() -> None:
    """The Makefile installs one pip version (`pip==X.Y`), never `--upgrade pip`."""
    makefile = (ROOT / "Makefile").read_text()
    assert "--upgrade pip" not in makefile
    version = re.search(r"^PIP_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert version and re.fullmatch(r"\d+(\.\d+)+", version.group(1))
    assert "pip==$(PIP_VERSION)" in makefile
