"""Supply chain: what goes into the images and the MiniLM example is pinned to its content, not to a name."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from scripts.build_minilm import read_package
from scripts.minilm_package import PACKAGE_FILES_SHA256, package_zip


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
