"""`efs-models`: bring your own ONNX model, from a file to a served, checked version.

    efs-models init SRC --name NAME [--out DIR] [--labels a,b,c] [--tokenizer tokenizer.json] [--pooling mean|cls]
                    [--softmax] [--image-preset imagenet] ...      describe a model: a folder ready to publish
    efs-models check DIR [--name NAME]                            every check publishing runs, and one run
    efs-models publish DIR --data-dir .local/data                 publish to the local stack (`make dev`)
    efs-models publish DIR --stack dev                            ... or to a deployed stack
    efs-models list (--data-dir D | --stack S)                    models, LATEST and what is served
    efs-models rollback NAME VERSION (--data-dir D | --stack S)   point LATEST back at a published version

Problems are listed all at once, in plain words, and the exit status is 1 (2 for bad flags); never a traceback
(set EFS_MODELS_DEBUG=1 to see one for an unexpected error)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from efs_models.describe import (
    DEFAULT_MODELS_DIR,
    IMAGE_PRESETS,
    InitOptions,
    UsageProblems,
    describe,
    preflight_problems,
    write_folder,
)
from inference.models.metadata import (
    IMAGE_MODES,
    KINDS,
    METADATA_FILE,
    POOLINGS,
    TASKS,
    ModelMetadata,
    ModelProblems,
    is_valid_name,
    name_problem,
)

PROG = "efs-models"


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    command = args.command or "help"
    try:
        if command == "help":
            parser.print_help(out)
            return 0
        args.unknown = [f"unknown argument {item!r} (see {PROG} {command} --help)" for item in unknown]
        args.unknown += _empty_flags(args.command_parser, args)
        return int(_COMMANDS[command](args, out))
    except UsageProblems as problems:
        _print_problems(f"{PROG} {command}", problems.problems, sys.stderr)
        return 2
    except ModelProblems as problems:
        _print_problems(f"{PROG} {command}", problems.problems, sys.stderr)
        return 1
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        _print_problems(f"{PROG} {command}", [f"{error.strerror or error}{where}"], sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # boto3's and others': said in one line, the traceback on request
        if os.environ.get("EFS_MODELS_DEBUG"):
            traceback.print_exc()
        _print_problems(f"{PROG} {command}", [f"{type(error).__name__}: {error}"], sys.stderr)
        return 1


def _print_problems(what: str, problems: Sequence[str], stream: TextIO) -> None:
    count = len(problems)
    print(f"{what}: {count} problem{'s' * (count != 1)}:", file=stream)
    for problem in problems:
        print(f"  - {problem}", file=stream)


# --- flags: read as text, then checked together so that every bad one is named at once ------------------------

_MAY_BE_EMPTY = ("stack",)  # `--stack ""` is `--stack`: the current stack


def _empty_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The flags given as "" (an unset shell variable, say), each of which would silently mean its default."""
    return [
        f"{action.option_strings[-1]} is empty: give {action.help}, or leave the flag out"
        for action in parser._actions
        if action.option_strings and action.dest not in _MAY_BE_EMPTY and getattr(args, action.dest, None) == ""
    ]


class _Flags:
    def __init__(self, args: argparse.Namespace) -> None:
        self.problems: list[str] = list(args.unknown)

    def required(self, value: str | None, flag: str, meaning: str) -> str:
        if not value:
            self.problems.append(f"missing {flag}: {meaning}")
            return ""
        return value

    def name(self, value: str | None, flag: str) -> str:
        """A model name or version, when given (an empty one is said by ``_empty_flags`` or ``required``)."""
        problem = name_problem(value, flag) if value else None
        if problem:
            self.problems.append(problem)
        return value or ""

    def integer(self, value: str | None, flag: str) -> int | None:
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number <= 0:
            self.problems.append(f"{flag} must be a positive whole number, got {value!r}")
            return None
        return number

    def choice(self, value: str | None, flag: str, allowed: Sequence[str]) -> str | None:
        if value is not None and value not in allowed:
            self.problems.append(f"{flag} must be one of {', '.join(allowed)}, got {value!r}")
            return None
        return value

    def words(self, value: str | None, flag: str) -> list[str] | None:
        if value is None:
            return None
        items = [item.strip() for item in value.split(",")]
        if not all(items):
            self.problems.append(f"{flag} must be a comma-separated list without empty items, got {value!r}")
            return None
        return items

    def size(self, value: str | None, flag: str) -> tuple[int, int] | None:
        numbers = self.numbers(value, flag, 2)
        if numbers is None:
            return None
        if not all(number.is_integer() and number > 0 for number in numbers):
            self.problems.append(f"{flag} must be WIDTHxHEIGHT in whole pixels, got {value!r}")
            return None
        return int(numbers[0]), int(numbers[1])

    def value_range(self, value: str | None, flag: str) -> tuple[float, float] | None:
        numbers = self.numbers(value, flag, 2)
        if numbers is None:
            return None
        low, high = numbers
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            self.problems.append(f"{flag} must be LOW,HIGH with finite LOW <= HIGH, got {value!r}")
            return None
        return low, high

    def numbers(self, value: str | None, flag: str, count: int) -> tuple[float, ...] | None:
        if value is None:
            return None
        try:
            numbers = tuple(float(item) for item in value.lower().replace("x", ",").split(","))
        except ValueError:
            numbers = ()
        if len(numbers) != count:
            self.problems.append(f"{flag} must be {count} numbers, got {value!r}")
            return None
        return numbers

    def done(self) -> None:
        if self.problems:
            raise UsageProblems(self.problems)


# --- commands ----------------------------------------------------------------------------------------------------


def _init(args: argparse.Namespace, out: TextIO) -> int:
    flags = _Flags(args)
    source = flags.required(args.source, "SRC", "the .onnx file, or a folder holding it")
    name = flags.required(args.name, "--name", "the model's name, as requests will use it, e.g. iris")
    # A folder named as the model is what publish, `make dev MODEL_DIRS=` and modelDirs take without --name.
    folder = args.out
    if folder is None:
        folder = str(Path(DEFAULT_MODELS_DIR) / name) if is_valid_name(name) else ""
    size = flags.size(args.image_size, "--image-size")
    value_range = flags.value_range(args.range, "--range")
    options = InitOptions(
        name=name,
        out=Path(folder) if folder else None,
        version=args.version if args.version is not None else "1",
        description=args.description,
        task=flags.choice(args.task, "--task", TASKS),
        kind=flags.choice(args.kind, "--kind", KINDS),
        labels=flags.words(args.labels, "--labels"),
        softmax=args.softmax,
        output=args.output,
        tokenizer=Path(args.tokenizer) if args.tokenizer else None,
        pooling=flags.choice(args.pooling, "--pooling", POOLINGS),
        normalize=args.normalize,
        max_tokens=flags.integer(args.max_tokens, "--max-tokens"),
        max_text_bytes=flags.integer(args.max_text_bytes, "--max-text-bytes"),
        max_batch=flags.integer(args.max_batch, "--max-batch"),
        image_preset=flags.choice(args.image_preset, "--image-preset", tuple(IMAGE_PRESETS)),
        image_size=size,
        image_mode=flags.choice(args.image_mode, "--image-mode", tuple(IMAGE_MODES)),
        value_range=value_range,
        samples=Path(args.samples) if args.samples else None,
        force=args.force,
        out_by_default=args.out is None,
    )
    flags.problems.extend(preflight_problems(source, options))
    draft = None
    if source and Path(source).exists():
        # What the graph is decides which flags apply: read it even when some flags are wrong, to list them all.
        try:
            draft = describe(Path(source), options)
        except ModelProblems as problems:
            if not flags.problems:
                raise
            flags.problems.extend(problem for problem in problems.problems if problem not in flags.problems)
    flags.done()
    assert draft is not None and options.out is not None  # flags.done() raised otherwise
    written = write_folder(draft, options.out, force=options.force)
    default = f" (the default --out: {DEFAULT_MODELS_DIR}/NAME)" if options.out_by_default else ""
    print(f"Wrote {written}/{default} ({', '.join(sorted(draft.files))}, {METADATA_FILE}).", file=out)
    _say("Inferred", draft.inferred, out)
    _say("Assumed (check these; flags change them)", draft.assumed, out)
    try:
        _check_and_report(written, out)
    except ModelProblems as problems:
        raise ModelProblems([f"{written} is written but does not pass the checks:", *problems.problems]) from None
    # publish takes a folder's own name as the model's: one named otherwise needs the model's name said.
    named = f" --name {name}" if written.resolve().name != name else ""
    print(f"Next: {PROG} publish {written}{named} --data-dir .local/data   (or --stack STACK)", file=out)
    return 0


def _check(args: argparse.Namespace, out: TextIO) -> int:
    flags = _Flags(args)
    folder = Path(flags.required(args.folder, "DIR", "the model folder to check"))
    flags.name(args.name, "--name")
    flags.done()
    metadata = _check_and_report(folder, out)
    from inference.models.checks import publish_name

    name = publish_name(folder, metadata, args.name, name_flag="--name")
    print(f"Ready to publish as {name} version {metadata.version}.", file=out)
    return 0


def _publish(args: argparse.Namespace, out: TextIO) -> int:
    flags = _Flags(args)
    folder = Path(flags.required(args.folder, "DIR", "the model folder to publish"))
    flags.name(args.name, "--name")
    flags.name(args.version, "--version")
    target = _target(args, flags)
    flags.done()
    from inference.models.checks import publish_name

    metadata = _check_and_report(folder, out)
    name = publish_name(folder, metadata, args.name, name_flag="--name")
    version = args.version if args.version is not None else metadata.version
    started = time.perf_counter()
    where = target.publish(folder, name, version)
    seconds = time.perf_counter() - started
    print(f"Published {name} version {version} to {target.where} in {seconds:.1f} s: {where}", file=out)
    print(f"LATEST of {name} is {version}; it is served within MODEL_REFRESH_SECONDS (5 s by default).", file=out)
    return 0


def _list(args: argparse.Namespace, out: TextIO) -> int:
    flags = _Flags(args)
    target = _target(args, flags)
    flags.done()
    summaries = target.summaries()
    if args.json:
        print(json.dumps([summary.__dict__ for summary in summaries], indent=1), file=out)
        return 0
    if not summaries:
        print(f"No models in {target.where}.", file=out)
        return 0
    rows = [("MODEL", "LATEST", "SERVING", "VERSIONS")] + [
        (s.name, s.latest or "-", s.serving or ("?" if s.serving is None and s.latest else "-"), " ".join(s.versions))
        for s in summaries
    ]
    widths = [max(len(row[index]) for row in rows) for index in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3], file=out)
    for summary in summaries:
        for problem in summary.problems:
            print(f"{summary.name}: {problem}", file=out)
    return 0


def _rollback(args: argparse.Namespace, out: TextIO) -> int:
    flags = _Flags(args)
    name = flags.name(flags.required(args.name, "NAME", "the model to roll back"), "NAME")
    version = flags.name(flags.required(args.version, "VERSION", "the published version to serve again"), "VERSION")
    target = _target(args, flags)
    flags.done()
    where = target.rollback(name, version)
    print(f"LATEST of {name} is {version} again ({where}); served within MODEL_REFRESH_SECONDS.", file=out)
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "init": _init,
    "check": _check,
    "publish": _publish,
    "list": _list,
    "rollback": _rollback,
}


def _check_and_report(folder: Path, out: TextIO) -> ModelMetadata:
    """Run every publish check on the folder and say what it found; ModelProblems otherwise."""
    from inference.models.checks import check_version_dir

    report = check_version_dir(folder)
    metadata = report.metadata
    kind = metadata.kind if metadata.kind != "tensor" else "tensor input"
    print(
        f"Checked {metadata.name} version {metadata.version} ({metadata.task}, {kind}): loaded in "
        f"{report.load_ms:.0f} ms, ran {len(report.probe_inputs)} probe input(s) in {report.probe_ms:.0f} ms.",
        file=out,
    )
    if report.probe_outputs:
        print(f"  First answer: {_shortened(report.probe_outputs[0])}", file=out)
    return metadata


def _shortened(value: Any, limit: int = 240) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def _say(heading: str, lines: list[str], out: TextIO) -> None:
    if lines:
        print(f"{heading}:", file=out)
        for line in lines:
            print(f"  - {line}", file=out)


def _target(args: argparse.Namespace, flags: _Flags) -> Any:
    from efs_models.targets import LocalModels, StackModels

    remote = args.stack is not None or args.bucket or args.function or args.region
    if args.data_dir and remote:
        flags.problems.append(
            "give either --data-dir (the local stack) or a stack (--stack, --bucket/--function, --region)"
        )
        return None
    if args.data_dir:
        data_dir = Path(args.data_dir)
        if not data_dir.is_dir():
            # Publishing into a folder nothing serves would say "Published" and serve nothing: a typo, most likely.
            what = "is not a folder" if data_dir.exists() else "does not exist"
            flags.problems.append(
                f"--data-dir {data_dir} {what}: give the local stack's data folder (.local/data, which `make dev` "
                "creates when it starts)"
            )
            return None
        return LocalModels(data_dir)
    if not remote:
        flags.problems.append("missing --data-dir D (the local stack's, e.g. .local/data) or --stack STACK")
        return None
    if flags.problems:
        return None
    from efs_models.stack import clients, stack_address

    address = stack_address(args.stack or None, args.bucket, args.function, args.region)
    s3, lambda_client = clients(address)
    return StackModels(s3, lambda_client, address.bucket, address.function)


# --- the parser ----------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    init = commands.add_parser("init", help="describe an ONNX model: a model folder ready to publish")
    init.add_argument("source", nargs="?", metavar="SRC", help="the .onnx file, or a folder holding it")
    init.add_argument("--name", help="the model's name, as requests use it")
    init.add_argument("--out", help=f"the model folder to write (default: {DEFAULT_MODELS_DIR}/NAME)")
    init.add_argument("--version", help="the version to write (default 1)")
    init.add_argument("--description", help="one line for people (the UI shows it)")
    init.add_argument("--labels", help="a classifier's class names in the order of its probabilities: a,b,c")
    init.add_argument(
        "--softmax", action="store_true", help="the classifier outputs scores (logits), not probabilities"
    )
    init.add_argument("--output", help="the output to use: a classifier's probabilities, or the vectors")
    init.add_argument("--tokenizer", help="a text model's tokenizer.json (default: the one beside the model)")
    init.add_argument("--pooling", help=f"an embedding's pooling: {', '.join(POOLINGS)}")
    init.add_argument("--normalize", action=argparse.BooleanOptionalAction, help="scale vectors to length 1")
    init.add_argument("--max-tokens", help="the longest token sequence a text model takes")
    init.add_argument("--max-text-bytes", help="the longest text accepted, in UTF-8 bytes (default 16384)")
    init.add_argument("--max-batch", help="texts per request, if fewer than the server's limit")
    init.add_argument("--image-preset", help=f"an image model's preprocessing: {', '.join(IMAGE_PRESETS)}")
    init.add_argument("--image-size", help="the pictures' WIDTHxHEIGHT, where the graph leaves it open")
    init.add_argument("--image-mode", help="L (grayscale) or RGB")
    init.add_argument("--range", help="the values a tensor input takes: LOW,HIGH")
    init.add_argument("--task", help=f"override the task: {', '.join(TASKS)}")
    init.add_argument("--kind", help=f"override the kind of input: {', '.join(KINDS)}")
    init.add_argument("--samples", help="a JSON file of sample inputs (or {label, input} objects) for the UI")
    init.add_argument("--force", action="store_true", help="replace the model folder at --out")

    check = commands.add_parser("check", help="run every check publishing runs, and the model once")
    check.add_argument("folder", nargs="?", metavar="DIR")
    check.add_argument("--name", help="the name to publish under, if not the folder's")

    publish = commands.add_parser("publish", help="check, then publish to the local stack or a deployed stack")
    publish.add_argument("folder", nargs="?", metavar="DIR")
    publish.add_argument(
        "--name", help="the name to publish under (default: the metadata's, which the folder's must match)"
    )
    publish.add_argument("--version", help="the version to publish as (default: the metadata's)")
    _target_flags(publish)

    listing = commands.add_parser("list", help="the published models, their LATEST and what is served")
    listing.add_argument("--json", action="store_true", help="as JSON")
    _target_flags(listing)

    rollback = commands.add_parser("rollback", help="point LATEST back at a published version")
    rollback.add_argument("name", nargs="?", metavar="NAME")
    rollback.add_argument("version", nargs="?", metavar="VERSION")
    _target_flags(rollback)
    for command in (init, check, publish, listing, rollback):
        command.set_defaults(command_parser=command)
    return parser


def _target_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="the local stack's data folder (make dev's: .local/data)")
    parser.add_argument("--stack", nargs="?", const="", help="a deployed stack (its outputs, by the Pulumi CLI)")
    parser.add_argument("--bucket", help="the stack's model bucket (pulumi stack output model_bucket)")
    parser.add_argument("--function", help="its publisher function (pulumi stack output model_publisher_function)")
    parser.add_argument("--region", help="its AWS region")


if __name__ == "__main__":
    sys.exit(main())
