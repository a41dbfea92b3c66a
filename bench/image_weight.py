"""Benchmark 6, image weight: the installed size of the inference image's runtime dependencies
(inference_image/requirements.txt, installed as its Dockerfile does) in a fresh virtualenv, the five biggest
packages, and what importing the handler costs there (``python -X importtime``), grouped by top-level package.

    python -m bench.image_weight [--importtime-runs N]

Needs PyPI (pip's cache makes reruns quick). boto3 is not counted: the Lambda base image ships it."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from bench.measure import median
from bench.report import REPO, ms, publish, table
from bench.workload import handler_package
from scripts.dockerfile import pip_install_args

DOCKERFILE = REPO / "inference_image" / "Dockerfile"
TOP = 5
# Per installed distribution: the bytes of the files its RECORD lists.
SIZES = """
import importlib.metadata as metadata, json
sizes = {}
for dist in metadata.distributions():
    total = sum(path.locate().stat().st_size for path in dist.files or [] if path.locate().is_file())
    sizes[dist.metadata["Name"]] = total
print(json.dumps(sizes))
"""
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def fresh_venv(folder: Path) -> Path:
    """A new virtualenv holding what the Dockerfile's `pip install` installs (same flags) and nothing else (no
    pip, no setuptools: the installing pip is this interpreter's); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=300)
    python = folder / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *pip_install_args(DOCKERFILE),
        ],
        check=True,
        timeout=900,
    )
    return python


def site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Path(out.strip())


def du_bytes(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def import_profile(python: Path, statement: str, folder: Path) -> tuple[float, dict[str, float]]:
    """Total import time of ``statement`` (sum of self times, s) and self time per top-level package, with the
    handler's byte-compiled package from ``folder``."""
    env = {**os.environ, "PYTHONPATH": str(folder), "DATA_DIR": str(folder / "data"), "PYTHONDONTWRITEBYTECODE": "1"}
    stderr = subprocess.run(
        [str(python), "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    ).stderr
    by_package: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        found = IMPORT_LINE.match(line)
        if found:
            by_package[found.group(4).split(".")[0]] += int(found.group(1)) / 1e6
    return sum(by_package.values()), dict(by_package)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--importtime-runs", type=int, default=5, help="importtime runs, median kept (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-image-") as folder:
        python = fresh_venv(Path(folder) / "venv")
        site = site_packages(python)
        total = du_bytes(site)
        sizes = json.loads(
            subprocess.run([str(python), "-c", SIZES], capture_output=True, text=True, check=True).stdout
        )
        package = handler_package(Path(folder) / "package", byte_compiled=True)
        profiles = {
            statement: [import_profile(python, statement, package) for _ in range(args.importtime_runs)]
            for statement in ("import inference.api.handler", "import numpy, onnxruntime")
        }
    biggest = sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:TOP]
    handler_runs = profiles["import inference.api.handler"]
    handler_total = median([run[0] for run in handler_runs])
    packages = {name for _, per in handler_runs for name in per}
    by_package = {name: median([per.get(name, 0.0) for _, per in handler_runs]) for name in packages}
    heaviest = sorted(by_package.items(), key=lambda item: item[1], reverse=True)[:8]
    model_stack = median([run[0] for run in profiles["import numpy, onnxruntime"]])
    body = "\n\n".join(
        [
            f"A fresh virtualenv with `inference_image/requirements.txt` only, installed as the Dockerfile does "
            f"(`--no-deps`): site-packages is **{total / 2**20:.0f} MiB** = {total / 1e6:.0f} MB (`du -sb`; the "
            f"target is < 200 MB), in {len(sizes)} distributions.",
            table(
                ["package (top 5)", "installed MiB", "share"],
                [[name, f"{size / 2**20:.1f}", f"{size / total:.0%}"] for name, size in biggest],
            ),
            "`python -X importtime -c 'import inference.api.handler'` in that venv "
            "(the handler's package byte-compiled), "
            f"median of {args.importtime_runs}: **{ms(handler_total)} ms** of imports (the sum of self times, "
            "importtime's own overhead included). numpy + onnxruntime are not imported "
            f"then; they load with the first model, and importing them alone takes {ms(model_stack)} ms.",
            table(
                ["top-level package", "self time ms", "share"],
                [[name, ms(seconds), f"{seconds / handler_total:.0%}"] for name, seconds in heaviest],
            ),
        ]
    )
    publish("image_weight", "6. Image weight", body)


if __name__ == "__main__":
    main()
