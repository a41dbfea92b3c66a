"""Request inputs are checked against the model's input description before the model runs.

Every refusal is checked on both paths: ``validate_inputs`` (the rules) and ``InputChecker.batch`` (what
predict uses); test_input_fast_path.py compares the two on generated inputs."""

from __future__ import annotations

import math

import pytest

from inference.errors import BadRequest
from inference.models.inputs import InputChecker, validate_inputs
from inference.models.metadata import InputSpec

DIGITS = InputSpec(name="input", dtype="float32", row_shape=(64,), value_range=(0, 16), also_accepts=((8, 8),))
ROW = [float(i % 17) for i in range(64)]


def _error(inputs: object, spec: InputSpec = DIGITS, max_batch: int = 4) -> str:
    with pytest.raises(BadRequest) as caught:
        validate_inputs(inputs, spec, max_batch)
    with pytest.raises(BadRequest) as caught_on_predict_path:
        InputChecker(spec).batch(inputs, max_batch)
    assert caught.value.code == caught_on_predict_path.value.code == "invalid_input"
    assert caught.value.message == caught_on_predict_path.value.message
    return caught.value.message


def test_flat_rows_pass_through() -> None:
    """A batch of flat 64-number rows comes back as the same numbers."""
    assert validate_inputs([ROW, [0] * 64], DIGITS, 4) == [ROW, [0] * 64]


def test_an_8x8_image_is_flattened_row_major() -> None:
    """A row given in an accepted alternative shape is flattened row-major to the model's shape."""
    image = [ROW[row * 8 : row * 8 + 8] for row in range(8)]
    assert validate_inputs([image, ROW], DIGITS, 4) == [ROW, ROW]


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"a": 1}, '"inputs" must be a list'),
        ("1,2,3", '"inputs" must be a list'),
        (None, '"inputs" must be a list'),
        ([], '"inputs" is empty'),
        ([ROW] * 5, "at most 4"),
        ([ROW[:63]], "inputs[0] must be a list of 64 numbers or a nested 8x8 list of numbers, got a list of length 63"),
        ([[*ROW, 1]], "inputs[0] must be a list of 64 numbers"),
        ([ROW, 5], "inputs[1] must be a list of 64 numbers"),
        ([[ROW]], "inputs[0] must be a list of 64 numbers"),
        ([[ROW[:8]] * 7 + [ROW[:7]]], "inputs[0][7] must be a list of 8 numbers, got a list of length 7"),
        ([[ROW[:8]] * 7 + [[ROW[:8]]]], "inputs[0][7] must be a list of 8 numbers"),
        ([[*ROW[:10], "3", *ROW[11:]]], "inputs[0][10] must be a number, got a string"),
        ([[*ROW[:10], True, *ROW[11:]]], "inputs[0][10] must be a number, got a boolean"),
        ([[*ROW[:10], None, *ROW[11:]]], "inputs[0][10] must be a number, got null"),
        ([[*ROW[:10], {}, *ROW[11:]]], "inputs[0][10] must be a number, got an object"),
        ([ROW, [*ROW[:63], math.nan]], "inputs[1][63] must be a finite number, got nan"),
        ([[math.inf, *ROW[1:]]], "inputs[0][0] must be a finite number, got inf"),
        ([[-1, *ROW[1:]]], "inputs[0][0] = -1 is outside the accepted range [0, 16]"),
        ([[*ROW[:5], 16.5, *ROW[6:]]], "inputs[0][5] = 16.5 is outside the accepted range [0, 16]"),
    ],
)
def test_bad_inputs_name_the_offending_element(inputs: object, expected: str) -> None:
    """Every kind of bad input is a 400 invalid_input whose message points at the first bad element."""
    assert expected in _error(inputs)


def test_without_a_declared_range_the_dtype_limits_apply() -> None:
    """With no range, numbers must still fit the dtype: 1e39 does not fit a float32."""
    spec = InputSpec(name="x", dtype="float32", row_shape=(2,))
    assert validate_inputs([[-1e30, 1e30]], spec, 1) == [[-1e30, 1e30]]
    assert "outside the accepted range" in _error([[1e39, 0]], spec)
    assert "outside the accepted range" in _error([[10**400, 0]], spec)


def test_integer_inputs_must_be_whole_numbers() -> None:
    """An int64 input refuses fractions but takes integral floats."""
    spec = InputSpec(name="ids", dtype="int64", row_shape=(3,))
    assert validate_inputs([[1, 2.0, -3]], spec, 1) == [[1, 2.0, -3]]
    assert "inputs[0][1] must be a whole number" in _error([[1, 2.5, 3]], spec)
    assert "outside the accepted range" in _error([[2**63, 0, 0]], spec)
