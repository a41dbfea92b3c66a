"""How much JSON a body of inputs may hold, counted on the raw bytes before they are parsed.

``json.loads`` builds a Python object for every value: a legal 20 MB upload of ``[[[]],…]`` is eight million
lists, about 800 MB, in a function of 1,024, and 6 MB of it sent to ``/predict`` some 200 MB. A model's metadata
says how many lists (and objects), strings and values a batch of its inputs can hold; a body with more is refused
unparsed, so that parsing any accepted body costs about what an honest one of that size costs. Where the model
is not known before the body is read (an inline job names it inside), ``for_any_inputs`` bounds what any model's
inputs can hold in the lists and strings that cost the most."""

from __future__ import annotations

import math
from dataclasses import dataclass

from inference.errors import BadRequest
from inference.models.metadata import ModelMetadata

_QUOTE, _BRACKET, _BRACE, _COMMA = (ord(character) for character in '"[{,')
_CHUNK_BYTES = 1 << 20
# Parsing this much costs at most a few megabytes, whatever it holds (a list takes 64 bytes for its 3 of "[],").
CHEAP_TO_PARSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class JsonBound:
    containers: int  # lists and objects
    strings: int
    values: int  # every value: containers, strings, numbers, true, false, null

    @classmethod
    def for_inputs(cls, metadata: ModelMetadata, count: int) -> JsonBound:
        """The most a list of ``count`` inputs to this model can hold: texts for a text model; otherwise one nested
        list of numbers per input, in the deepest shape it accepts, or for an image model ``{"image": base64}``."""
        if metadata.text is not None:
            return cls(containers=1, strings=count, values=1 + count)
        if metadata.input is None:
            return cls(containers=1, strings=0, values=1)
        spec = metadata.input
        lists = max(_lists_in(shape) for shape in (spec.row_shape, *spec.also_accepts))
        numbers = math.prod(spec.row_shape)
        tensors = cls(containers=1 + count * lists, strings=0, values=1 + count * (lists + numbers))
        if metadata.image is None:
            return tensors
        return tensors.union(cls(containers=1 + count, strings=2 * count, values=1 + 2 * count))

    @classmethod
    def for_any_inputs(cls, count: int, body_bytes: int) -> JsonBound:
        """At most ``count`` inputs of any model: a list or two and a string per input, as many numbers as the
        body holds (a number costs about what its bytes do; a list or a string several times more)."""
        return cls(containers=2 + 2 * count, strings=count, values=body_bytes)

    def union(self, other: JsonBound) -> JsonBound:
        """What either bound allows."""
        return JsonBound(
            max(self.containers, other.containers), max(self.strings, other.strings), max(self.values, other.values)
        )

    def plus(self, containers: int, strings: int, values: int) -> JsonBound:
        """This bound and an envelope around it: the request's object, its keys and its small fields."""
        return JsonBound(self.containers + containers, self.strings + strings, self.values + values)


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
        """Counted without parsing: brackets and commas outside strings, in linear time and a megabyte at a time
        (a regular expression that follows escapes takes seconds on 20 MB of backslashes, and one that rewrites
        each string holds a piece per string: 6 MB of ``"ab",`` took 220 MB). In a string a backslash escapes
        the next byte, so dropping backslash pairs, then escaped quotes, leaves exactly the quotes that delimit
        strings; a byte is inside a string when an odd number of quotes come before it. Costs up to two copies
        of ``body``."""
        import numpy as np

        data = np.frombuffer(body.replace(b"\\\\", b"").replace(b'\\"', b""), dtype=np.uint8)
        containers = commas = quotes = 0
        for start in range(0, len(data), _CHUNK_BYTES):
            chunk = data[start : start + _CHUNK_BYTES]
            is_quote = chunk == _QUOTE
            # 1 from a string's opening quote to the byte before its closing one, carried over from the last chunk.
            inside = np.bitwise_xor.accumulate(is_quote.view(np.uint8)) ^ (quotes & 1)
            outside = inside == 0
            containers += int(np.count_nonzero(((chunk == _BRACKET) | (chunk == _BRACE)) & outside))
            commas += int(np.count_nonzero((chunk == _COMMA) & outside))
            quotes += int(np.count_nonzero(is_quote))
        return cls(containers, quotes // 2, commas + containers + 1)


def check_within(body: bytes, bound: JsonBound, what: str, why: str) -> None:
    """BadRequest unless ``body`` holds at most what ``bound`` allows; ``what`` names the body, ``why`` the bound.
    A body of at most ``CHEAP_TO_PARSE_BYTES`` passes: it costs little to parse whatever it holds, and parsing it
    names its problems more precisely than a count can."""
    if len(body) <= CHEAP_TO_PARSE_BYTES:
        return
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
