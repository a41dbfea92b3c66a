"""Lock the images' requirements to their content (`make lock`, which needs PyPI): each pin gets the sha256 of
every wheel that one of the targets installs, so that `pip install --require-hashes` refuses any other file.

    python -m scripts.lock_requirements inference_image/requirements.txt
        the Lambda image's hand-written closure (installed with --no-deps): its pins hashed, in place
    python -m scripts.lock_requirements ui_image/requirements.in --out ui_image/requirements.txt
        the UI image's top-level pins, resolved by pip into their whole closure for every target, then hashed

The targets are the images (CPython 3.12 on Linux, x86_64 or arm64: the Lambda function and the UI tasks run
on either) and this repository's own Python (3.11, x86_64), into which the tests install each image's
requirements as its Dockerfile does. Only wheels are hashed: nothing is ever built from source in an image.
Hashes come from PyPI's simple index (PEP 691 JSON), the same metadata pip checks them against."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

INDEX = "https://pypi.org/simple"


@dataclass(frozen=True)
class Target:
    python: tuple[int, int]
    arch: str  # x86_64 or aarch64

    @property
    def platforms(self) -> list[str]:
        """manylinux tags from newest to oldest glibc, down to the legacy aliases: any glibc 2.17 to 2.34 wheel
        runs on Amazon Linux 2023 (2.34), Debian trixie (2.41) and this machine."""
        modern = [f"manylinux_2_{minor}_{self.arch}" for minor in range(34, 4, -1)]
        legacy = [f"manylinux2014_{self.arch}"] + (
            [f"manylinux2010_{self.arch}", f"manylinux1_{self.arch}"] if self.arch == "x86_64" else []
        )
        return modern + legacy

    def tags(self) -> set[Tag]:
        return set(cpython_tags(self.python, platforms=self.platforms)) | set(
            compatible_tags(self.python, platforms=self.platforms)
        )


TARGETS = (Target((3, 12), "x86_64"), Target((3, 12), "aarch64"), Target((3, 11), "x86_64"))
# name==version at the start of a line; continuation lines (`    --hash=...`) belong to the pin above them.
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")

FileList = list[dict[str, object]]  # PEP 691 "files" entries: filename, hashes, ...


def index_files(name: str) -> FileList:
    request = urllib.request.Request(
        f"{INDEX}/{canonicalize_name(name)}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        files: FileList = json.load(answer)["files"]
    return files


def wheel_hashes(name: str, version: str, files: FileList, targets: Iterable[Target] = TARGETS) -> list[str]:
    """The sha256 of each wheel of ``name==version`` that some target installs; SystemExit naming a target that
    no wheel fits (it would have to build from source)."""
    wanted = {target: target.tags() for target in targets}
    chosen: dict[str, str] = {}
    covered: set[Target] = set()
    for entry in files:
        filename = str(entry["filename"])
        if not filename.endswith(".whl") or entry.get("yanked"):
            continue
        wheel_name, wheel_version, _, wheel_tags = parse_wheel_filename(filename)
        if wheel_name != canonicalize_name(name) or str(wheel_version) != version:
            continue
        fits = {target for target, tags in wanted.items() if tags & set(wheel_tags)}
        if fits:
            covered |= fits
            chosen[filename] = str(entry["hashes"]["sha256"])  # type: ignore[index]
    missing = set(wanted) - covered
    if missing:
        shown = ", ".join(f"CPython {t.python[0]}.{t.python[1]} {t.arch}" for t in sorted(missing, key=str))
        raise SystemExit(f"{name}=={version} has no wheel for {shown} on {INDEX}")
    return [chosen[filename] for filename in sorted(chosen)]


def resolved_closure(requirements_in: Path, targets: Iterable[Target] = TARGETS) -> list[tuple[str, str]]:
    """(name, version) of everything pip installs for these top-level pins, the same on every target (else
    SystemExit naming the difference: one locked list must serve them all)."""
    closures: dict[Target, set[tuple[str, str]]] = {}
    for target in targets:
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / "report.json"
            platforms = [option for platform in target.platforms for option in ("--platform", platform)]
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                 "--disable-pip-version-check", "--report", str(report), "--only-binary=:all:", "--implementation",
                 "cp", "--python-version", f"{target.python[0]}.{target.python[1]}", *platforms,
                 "-r", str(requirements_in)],
                check=True,
            )  # fmt: skip
            installed = json.loads(report.read_text())["install"]
        closures[target] = {(item["metadata"]["name"], item["metadata"]["version"]) for item in installed}
    first = next(iter(closures.values()))
    for target, closure in closures.items():
        if closure != first:
            raise SystemExit(f"the closure differs on {target}: {sorted(closure ^ first)}")
    return sorted(first, key=lambda pin: canonicalize_name(pin[0]))


def hashed(text: str, files_of: Callable[[str], FileList]) -> str:
    """The requirements text with each name==version pin followed by its hashes (any old ones dropped);
    comments and blank lines stay where they are."""
    lines: list[str] = []
    for line in text.splitlines():
        found = _PIN.match(line)
        if found is None:
            if not line.lstrip().startswith("--hash="):
                lines.append(line)
            continue
        name, version = found.groups()
        hashes = [f"    --hash=sha256:{digest}" for digest in wheel_hashes(name, version, files_of(name))]
        lines += [f"{name}=={version} \\", *(f"{line} \\" for line in hashes[:-1]), hashes[-1]]
    return "\n".join(lines) + "\n"


def pins(text: str) -> list[tuple[str, str]]:
    return [found.groups() for found in map(_PIN.match, text.splitlines()) if found]  # type: ignore[misc]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("requirements", type=Path, help="a requirements file of name==version pins")
    parser.add_argument("--out", type=Path, default=None, help="resolve the closure and write it here")
    args = parser.parse_args(argv)
    text = args.requirements.read_text(encoding="utf-8")
    target = args.requirements
    if args.out is not None:  # the top-level pins resolved into the whole closure
        target = args.out
        closure = [f"{name}=={version}" for name, version in resolved_closure(args.requirements)]
        made = (
            f"# Made by `make lock` from {args.requirements.name}: its whole closure, each wheel hashed. Do not edit."
        )
        text = "\n".join([made, *closure])
    target.write_text(hashed(text, index_files), encoding="utf-8")
    print(f"wrote {target}: {len(pins(target.read_text()))} pins, hashed for {len(TARGETS)} targets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
