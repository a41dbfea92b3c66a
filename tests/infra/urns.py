"""The URN of every resource each variant registers, kept as a fixture (`tests/infra/urns.json`).

A URN is type token + name + parents. One that disappears from a variant is a delete and a create on a live
stack, so the test asserts that every recorded URN is still produced; new resources are allowed. Record
again, on purpose, only when a resource is meant to be replaced (and say so in the commit):

    .venv/bin/python -m tests.infra.urns --write [VARIANT ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tests.infra.variants import VARIANTS, VARIANTS_BY_NAME
from tests.models.factory import tiny_model_dir

FIXTURE = Path(__file__).with_name("urns.json")
# The model folders tests/infra/conftest.py gives every stack: names and versions are in the URNs.
MODEL_FOLDERS = (("digits", "a", "digits", "1"), ("second", "b", "second", "3"))  # folders named as their models


def model_dirs(root: Path) -> list[Path]:
    """The same two small model folders as tests/infra/conftest.py's `model_dirs` fixture."""
    folders = []
    for folder, variant, name, version in MODEL_FOLDERS:
        directory = tiny_model_dir(root / folder, variant=variant, name=name, version=version)
        if folder == "digits":
            (directory / "samples.json").write_text("[]")
        folders.append(directory)
    return folders


def read_fixture() -> dict[str, list[str]]:
    recorded: dict[str, list[str]] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return recorded


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="record the variants' URNs into the fixture")
    parser.add_argument("variants", nargs="*", help="only these variants (default: every one)")
    args = parser.parse_args(argv)
    recorded = read_fixture() if FIXTURE.exists() else {}
    chosen = [VARIANTS_BY_NAME[name] for name in args.variants] if args.variants else list(VARIANTS)
    with tempfile.TemporaryDirectory() as root:
        dirs = model_dirs(Path(root))
        for variant in chosen:
            try:
                urns = sorted({item.urn for item in variant.run(dirs).resources})
            except Exception as error:  # a variant today's program refuses is recorded once it runs
                print(f"{variant.name}: not recorded ({type(error).__name__}: {error})", file=sys.stderr)
                continue
            recorded[variant.name] = urns
            print(f"{variant.name}: {len(urns)} URNs")
    if args.write:
        FIXTURE.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
