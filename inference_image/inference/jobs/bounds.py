"""How much JSON a job's inputs may hold, counted on the raw bytes before they are parsed.

``json.loads`` builds a Python object for every value: a legal 20 MB upload of ``[[[]],…]`` is eight million
lists, about 800 MB, in a function of 1,024. A model's metadata says how many lists (and objects), strings and
values a job of at most ``max_inputs`` inputs can hold; a body with more is refused unparsed, so that parsing
any accepted body costs about what an honest job of that size costs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from inference.errors import BadRequest
from inference.models.metadata import ModelMetadata

# A JSON string once its escaped backslashes and quotes are gone (see JsonCounts.of).
_STRING = re.compile(rb'"[^"]*"')


@dataclass(frozen=True)
class JsonBound:
    containers: int  # lists and objects
    strings: int
    values: int  # every value: containers, strings, numbers, true, false, null

    @classmethod
    def for_job(cls, metadata: ModelMetadata, max_inputs: int) -> JsonBound:
        """The most a list of ``max_inputs`` inputs to this model can hold: texts for a text model, else one
        nested list of numbers per input, in the deepest shape it accepts."""
        if metadata.text is not None:
            return cls(containers=1, strings=max_inputs, values=1 + max_inputs)
        if metadata.input is None:
            return cls(containers=1, strings=0, values=1)
        spec = metadata.input
        lists = max(_lists_in(shape) for shape in (spec.row_shape, *spec.also_accepts))
        numbers = math.prod(spec.row_shape)
        return cls(containers=1 + max_inputs * lists, strings=0, values=1 + max_inputs * (lists + numbers))


def _lists_in(shape: tuple[int, ...]) -> int:
    """The lists of one nested list of ``shape``: (a, b, c) is 1 list of a lists of b lists of c numbers."""
    return sum(math.prod(shape[:depth]) for depth in range(len(shape)))


@dataclass(frozen=True)
class JsonCounts:
    containers: int
    strings: int
    values: int  # an upper bound: commas + containers + 1

    @classmethod
    def of(cls, body: bytes) -> JsonCounts:
        """Counted without parsing: brackets and commas outside strings, in linear time (a regular expression
        that follows escapes takes seconds on 20 MB of backslashes). In a string a backslash escapes the next
        byte, so dropping backslash pairs, then escaped quotes, leaves exactly the quotes that delimit strings.
        Costs up to two copies of ``body``."""
        unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
        outside_strings, strings = _STRING.subn(b"0", unescaped)
        del unescaped
        containers = outside_strings.count(b"[") + outside_strings.count(b"{")
        return cls(containers, strings, outside_strings.count(b",") + containers + 1)


def check_within(body: bytes, bound: JsonBound, what: str, why: str) -> None:
    """BadRequest unless ``body`` holds at most what ``bound`` allows; ``what`` names the body, ``why`` the bound."""
    counts = JsonCounts.of(body)
    for name, found, allowed in (
        ("lists and objects", counts.containers, bound.containers),
        ("strings", counts.strings, bound.strings),
        ("values", counts.values, bound.values),
    ):
        if found > allowed:
            raise BadRequest(
                f"{what} holds {'up to ' if name == 'values' else ''}{found:,} {name}; {why} holds at most {allowed:,}",
                "invalid_input",
            )
