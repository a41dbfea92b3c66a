"""Importing the model modules stays cheap: numpy, onnxruntime and boto3 load only when first needed."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import inference.models.registry, inference.models.publishing, inference.models.publisher
heavy = sorted(name for name in ("numpy", "onnxruntime", "boto3", "botocore") if name in sys.modules)
print(",".join(heavy))
"""


def test_model_modules_import_no_heavy_dependencies() -> None:
    """Importing the registry, publishing and the publisher pulls in neither numpy, onnxruntime nor boto3."""
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""
