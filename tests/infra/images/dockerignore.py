"""A build context as Docker sees it: the files of a folder that its .dockerignore does not exclude.

The rules are those of Docker's pattern matcher (moby/patternmatcher, used by `docker build` and buildx):
patterns are relative to the context root (a leading "/" is dropped) and cleaned like a path; `*` and `?`
never cross a "/", `**` matches any number of directories; a `!` line re-includes; the last matching line
wins; a path is excluded when it or one of its parent directories is."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path


def read_patterns(context: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """(excludes, regex) per pattern line of ``context``/.dockerignore, in file order."""
    ignore_file = context / ".dockerignore"
    lines = ignore_file.read_text(encoding="utf-8").splitlines() if ignore_file.exists() else []
    patterns = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        line = posixpath.normpath(line.lstrip("!").strip()).lstrip("/")
        patterns.append((excludes, re.compile(_regex(line))))
    return patterns


def _regex(pattern: str) -> str:
    out, index = "^", 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out, index = out + "(.*/)?", index + 3
        elif pattern.startswith("**", index):
            out, index = out + ".*", index + 2
        elif char == "*":
            out, index = out + "[^/]*", index + 1
        elif char == "?":
            out, index = out + "[^/]", index + 1
        elif char == "[":
            end = pattern.index("]", index)
            out, index = out + "[" + pattern[index + 1 : end].replace("!", "^", 1) + "]", end + 1
        else:
            out, index = out + re.escape(char), index + 1
    return out + "$"


def excluded(relative: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether ``relative`` (a /-separated path) or one of its parents is excluded; the last match decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: depth + 1]) for depth in range(len(parts))]
    verdict = False
    for excludes, regex in patterns:
        if any(regex.match(candidate) for candidate in candidates):
            verdict = excludes
    return verdict


def build_context(context: Path) -> list[str]:
    """The files Docker would send for ``context``, as sorted /-separated relative paths."""
    patterns = read_patterns(context)
    files = (path.relative_to(context).as_posix() for path in context.rglob("*") if path.is_file())
    return sorted(relative for relative in files if not excluded(relative, patterns))
