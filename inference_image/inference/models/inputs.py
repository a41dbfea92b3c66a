"""Checks a request's ``inputs`` against a model's input description before the model runs.

``validate_inputs`` is the one definition of the rules and of their messages: plain Python, about a
microsecond per number. ``InputChecker.batch`` reaches the same verdict on the usual request with a few
C-level passes and numpy, and hands anything it is unsure of (a bad element, a batch mixing shapes, numbers
too large for float64 to compare exactly) to ``validate_inputs``, which then accepts it or names the first
bad element. numpy is imported on the first call, so importing this module stays cheap."""

from __future__ import annotations

import math
import sys
from itertools import chain
from typing import Any

from inference.errors import BadRequest
from inference.models.metadata import InputSpec

# What each dtype can hold; a declared range narrows it further.
_DTYPE_LIMITS = {
    "float32": (-3.4028234663852886e38, 3.4028234663852886e38),
    "float64": (-sys.float_info.max, sys.float_info.max),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}
# Ints up to this size are exact in float64 and no larger int rounds into it (2**53 + 1 becomes 2**53), so
# comparisons on a float64 array within these bounds agree with the exact comparisons of validate_inputs.
_EXACT_IN_FLOAT64 = 2.0**53 - 1
# Exact types: bool (an int subclass) and any other subclass are left to validate_inputs.
_NUMBER_TYPES = frozenset((int, float))
_LIST_TYPE = frozenset((list,))
# Where a batch too large for one request can go instead.
TO_JOBS = " (send more in several requests, or as one async job: POST /jobs, on stacks with jobs)"


def validate_inputs(inputs: object, spec: InputSpec, max_batch: int) -> list[list[float]]:
    """The batch as one flat, row-major list of numbers per input, or BadRequest naming the first bad element."""
    return _RowChecker(spec).rows(inputs, max_batch)


class InputChecker:
    """Turns requests into input arrays for one model; built once per loaded model."""

    def __init__(self, spec: InputSpec) -> None:
        self.spec = spec
        self._precise = _RowChecker(spec)
        self._low = float(max(self._precise.low, -_EXACT_IN_FLOAT64))
        self._high = float(min(self._precise.high, _EXACT_IN_FLOAT64))
        self._integral = spec.dtype.startswith("int")

    def batch(self, inputs: object, max_batch: int) -> Any:
        """The batch as an array of the model's dtype shaped ``[N, *row_shape]``, or BadRequest naming the
        first bad element: the verdict of ``validate_inputs``."""
        import numpy as np

        values = self.fast_values(inputs, max_batch)
        if values is None:
            values = np.asarray(self._precise.rows(inputs, max_batch), dtype=self.spec.dtype)
        return values.astype(self.spec.dtype, copy=False).reshape(-1, *self.spec.row_shape)

    def check_batch_size(self, inputs: object, max_batch: int) -> None:
        """BadRequest unless ``inputs`` is a list of 1 to ``max_batch`` inputs."""
        self._precise.check_batch(inputs, max_batch)

    def row(self, row: object, path: str) -> list[float]:
        """One input (at ``path`` in the request) as a flat, row-major list, or BadRequest naming its bad element."""
        return self._precise.flat_row(row, path)

    def fast_values(self, inputs: object, max_batch: int) -> Any | None:
        """All the batch's numbers, row-major, as one float64 array, if the batch certainly passes
        ``validate_inputs``; None when unsure."""
        import numpy as np

        if type(inputs) is not list or not 0 < len(inputs) <= max_batch:
            return None
        numbers = self._uniform_leaves(inputs)
        if numbers is None or not set(map(type, numbers)) <= _NUMBER_TYPES:
            return None
        try:
            values = np.fromiter(numbers, dtype=np.float64, count=len(numbers))
        except OverflowError:  # an int beyond float64
            return None
        # The bounds are finite, so this also refuses NaN (every comparison is false) and infinities.
        if not (self._low <= values.min() and values.max() <= self._high):
            return None
        if self._integral and not np.array_equal(np.trunc(values), values):
            return None
        return values

    def _uniform_leaves(self, inputs: list[Any]) -> list[Any] | None:
        """The leaves of a batch whose rows all have the shape the first row claims (then each row claims it
        too, as claims go by depth and length), else None. set(map(...)) checks a whole level in C."""
        shape = self._precise.claimed_shape(inputs[0])
        if shape is None:
            return None
        level = inputs
        for size in shape:
            if set(map(type, level)) != _LIST_TYPE or set(map(len, level)) != {size}:
                return None
            level = list(chain.from_iterable(level))
        return level


class _RowChecker:
    def __init__(self, spec: InputSpec) -> None:
        self.shapes = (spec.row_shape, *spec.also_accepts)
        self.dtype = spec.dtype
        self.low, self.high = _DTYPE_LIMITS[spec.dtype]
        if spec.value_range is not None:
            self.low, self.high = max(self.low, spec.value_range[0]), min(self.high, spec.value_range[1])

    def rows(self, inputs: object, max_batch: int) -> list[list[float]]:
        self.check_batch(inputs, max_batch)
        assert isinstance(inputs, list)
        return [self.flat_row(row, f"inputs[{index}]") for index, row in enumerate(inputs)]

    def check_batch(self, inputs: object, max_batch: int) -> None:
        if not isinstance(inputs, list):
            raise _invalid(f'"inputs" must be a list of inputs (a batch), got {json_kind(inputs)}')
        if not inputs:
            raise _invalid('"inputs" is empty: send at least one input')
        if len(inputs) > max_batch:
            raise _invalid(f'"inputs" holds {len(inputs)} inputs; at most {max_batch} are allowed per request{TO_JOBS}')

    def flat_row(self, row: object, path: str) -> list[float]:
        shape = self.claimed_shape(row)
        if shape is None:
            accepted = " or ".join(_describe(shape) for shape in self.shapes)
            raise _invalid(f"{path} must be {accepted}, got {json_kind(row)}{_length(row)}")
        flat: list[float] = []
        self._flatten(row, shape, path, flat)
        return flat

    def claimed_shape(self, row: object) -> tuple[int, ...] | None:
        """The accepted shape this row claims to have, told apart by nesting depth and outer length."""
        depth, probe = 0, row
        while isinstance(probe, list):
            depth += 1
            probe = probe[0] if probe else None
        for shape in self.shapes:
            if len(shape) == depth and isinstance(row, list) and len(row) == shape[0]:
                return shape
        return None

    def _flatten(self, value: object, shape: tuple[int, ...], path: str, out: list[float]) -> None:
        if not isinstance(value, list) or len(value) != shape[0]:
            raise _invalid(f"{path} must be {_describe(shape)}, got {json_kind(value)}{_length(value)}")
        if len(shape) > 1:
            for index, item in enumerate(value):
                self._flatten(item, shape[1:], f"{path}[{index}]", out)
            return
        for index, number in enumerate(value):
            out.append(self._number(number, f"{path}[{index}]"))

    def _number(self, number: object, path: str) -> float:
        # bool is an int in Python, but JSON true/false is never a valid pixel: a client bug.
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise _invalid(f"{path} must be a number, got {json_kind(number)}")
        if isinstance(number, float) and not math.isfinite(number):
            raise _invalid(f"{path} must be a finite number, got {number}")
        if not self.low <= number <= self.high:
            raise _invalid(f"{path} = {number} is outside the accepted range [{self.low:g}, {self.high:g}]")
        if self.dtype.startswith("int") and number != int(number):
            raise _invalid(f"{path} must be a whole number for {self.dtype} input, got {number}")
        return number


def _describe(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"a list of {shape[0]} numbers"
    return f"a nested {'x'.join(map(str, shape))} list of numbers"


def _length(value: object) -> str:
    return f" of length {len(value)}" if isinstance(value, list) else ""


def json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _invalid(message: str) -> BadRequest:
    return BadRequest(message, "invalid_input")
