"""Checks a request's ``inputs`` against a model's input description before the model runs.
Plain Python, so a bad request is refused without touching numpy or the model."""

from __future__ import annotations

import math
import sys

from inference.errors import BadRequest
from inference.model_metadata import InputSpec

# What each dtype can hold; a declared range narrows it further.
_DTYPE_LIMITS = {
    "float32": (-3.4028234663852886e38, 3.4028234663852886e38),
    "float64": (-sys.float_info.max, sys.float_info.max),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}


def validate_inputs(inputs: object, spec: InputSpec, max_batch: int) -> list[list[float]]:
    """The batch as one flat, row-major list of numbers per input, or BadRequest naming the first bad element."""
    if not isinstance(inputs, list):
        raise _invalid(f'"inputs" must be a list of inputs (a batch), got {_json_kind(inputs)}')
    if not inputs:
        raise _invalid('"inputs" is empty: send at least one input')
    if len(inputs) > max_batch:
        raise _invalid(f'"inputs" holds {len(inputs)} inputs; at most {max_batch} are allowed per request')
    checker = _RowChecker(spec)
    return [checker.flat_row(row, f"inputs[{index}]") for index, row in enumerate(inputs)]


class _RowChecker:
    def __init__(self, spec: InputSpec) -> None:
        self.shapes = (spec.row_shape, *spec.also_accepts)
        self.dtype = spec.dtype
        self.low, self.high = _DTYPE_LIMITS[spec.dtype]
        if spec.value_range is not None:
            self.low, self.high = max(self.low, spec.value_range[0]), min(self.high, spec.value_range[1])

    def flat_row(self, row: object, path: str) -> list[float]:
        shape = self._claimed_shape(row)
        if shape is None:
            accepted = " or ".join(_describe(shape) for shape in self.shapes)
            raise _invalid(f"{path} must be {accepted}, got {_json_kind(row)}{_length(row)}")
        flat: list[float] = []
        self._flatten(row, shape, path, flat)
        return flat

    def _claimed_shape(self, row: object) -> tuple[int, ...] | None:
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
            raise _invalid(f"{path} must be {_describe(shape)}, got {_json_kind(value)}{_length(value)}")
        if len(shape) > 1:
            for index, item in enumerate(value):
                self._flatten(item, shape[1:], f"{path}[{index}]", out)
            return
        for index, number in enumerate(value):
            out.append(self._number(number, f"{path}[{index}]"))

    def _number(self, number: object, path: str) -> float:
        # bool is an int in Python, but JSON true/false is never a valid pixel: a client bug.
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise _invalid(f"{path} must be a number, got {_json_kind(number)}")
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


def _json_kind(value: object) -> str:
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
