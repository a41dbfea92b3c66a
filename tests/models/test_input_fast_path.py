"""The fast input path (``InputChecker.batch``) reaches exactly the verdict of ``validate_inputs``: the same
array for every input it accepts, the same 400 message for every input it refuses."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.errors import BadRequest
from inference.models.inputs import InputChecker, validate_inputs
from inference.models.metadata import InputSpec

MAX_BATCH = 3
SPECS = {
    "digits-like": InputSpec("x", "float32", (4,), value_range=(0, 16), also_accepts=((2, 2),)),
    "float32 limits": InputSpec("x", "float32", (2,)),
    "float64 limits": InputSpec("x", "float64", (3,)),
    "int64 limits": InputSpec("x", "int64", (3,)),
    "int32 range": InputSpec("x", "int32", (2, 2), value_range=(-5, 5), also_accepts=((4,),)),
    # (2, 2, 3) has the same depth and first size as (2, 3, 2), which is listed first and so claims such rows.
    "look-alike shapes": InputSpec("x", "float32", (2, 3, 2), also_accepts=((2, 2, 3), (12,))),
}
WRONG_SHAPES = [(3,), (5,), (4, 1), (1, 4), (2,), (2, 2, 1)]
# Around the limits of float64's exact integers, of int32 and int64: where float64 comparisons could go wrong.
EXACTNESS_EDGES = [
    2**53 - 1,
    2**53,
    2**53 + 1,
    -(2**53) - 1,
    2.0**53,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    9.223372036854776e18,
    10**400,
]
OTHER_EDGES = [
    -0.0,
    0.5,
    2.5,
    -4.5,
    16.0,
    16.5,
    2**24 + 1,
    3.4028234663852886e38,
    3.4028235677973366e38,
    1e39,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
]
WHOLE = st.integers(0, 5) | st.integers(0, 5).map(float)
FRACTIONS = st.floats(0, 5)
NOT_A_NUMBER = (
    st.booleans()
    | st.none()
    | st.text(max_size=2)
    | st.lists(WHOLE, max_size=2)
    | st.tuples(WHOLE)
    | st.dictionaries(st.text(max_size=1), WHOLE, max_size=1)
)
# What replaces an element of an otherwise valid batch: edge numbers most often.
EDGES = st.sampled_from(EXACTNESS_EDGES) | st.sampled_from(OTHER_EDGES)
REPLACEMENTS = st.one_of(EDGES, EDGES, FRACTIONS, st.integers(), st.floats(), NOT_A_NUMBER)
KINDS = ("valid", "one replaced", "two replaced", "mixed shapes", "wrong shape", "a tuple", "not a batch")


def nested(shape: tuple[int, ...], leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    items = leaves if len(shape) == 1 else nested(shape[1:], leaves)
    return st.lists(items, min_size=shape[0], max_size=shape[0])


def walk(draw: st.DrawFn, rows: list[Any], max_depth: int) -> tuple[list[Any], int]:
    """A random element of ``rows`` at most ``max_depth`` lists down, as (its list, its index)."""
    holder, index = rows, draw(st.integers(0, len(rows) - 1))
    for _ in range(max_depth):
        if not isinstance(holder[index], list) or not holder[index]:
            break
        holder = holder[index]
        index = draw(st.integers(0, len(holder) - 1))
    return holder, index


@st.composite
def batches(draw: st.DrawFn, spec: InputSpec) -> object:
    """A batch of one of KINDS: valid numbers in accepted shapes, then changed as the kind says."""
    kind = draw(st.sampled_from(KINDS))
    accepted = [spec.row_shape, *spec.also_accepts]
    shapes = st.sampled_from(WRONG_SHAPES if kind == "wrong shape" else accepted)
    if kind == "mixed shapes":
        shapes = st.sampled_from(accepted + WRONG_SHAPES)
    numbers = WHOLE | FRACTIONS if spec.dtype.startswith("float") else WHOLE
    first = draw(shapes)
    size = draw(st.integers(1, MAX_BATCH))
    rows = [draw(nested(draw(shapes) if kind == "mixed shapes" else first, numbers)) for _ in range(size)]
    if kind.endswith("replaced"):
        for _ in range(1 if kind == "one replaced" else 2):
            holder, index = walk(draw, rows, max_depth=4)
            holder[index] = draw(REPLACEMENTS)
    elif kind == "a tuple":  # refused, although numpy would take it as a sequence
        holder, index = walk(draw, rows, max_depth=draw(st.integers(0, 2)))
        if isinstance(holder[index], list):
            holder[index] = tuple(holder[index])
    elif kind == "not a batch":
        return draw(st.sampled_from([[], rows * (MAX_BATCH + 1)]) | REPLACEMENTS)
    return rows


def verdict_of_the_rules(inputs: object, spec: InputSpec) -> Any:
    """What predict got before the fast path: validate_inputs, then numpy on the checked numbers."""
    try:
        rows = validate_inputs(inputs, spec, MAX_BATCH)
    except BadRequest as error:
        return (error.code, error.message)
    return np.asarray(rows, dtype=spec.dtype).reshape(len(rows), *spec.row_shape)


def verdict_of_the_fast_path(inputs: object, spec: InputSpec) -> Any:
    try:
        return InputChecker(spec).batch(inputs, MAX_BATCH)
    except BadRequest as error:
        return (error.code, error.message)


def assert_same_verdict(inputs: object, spec: InputSpec) -> None:
    expected, actual = verdict_of_the_rules(inputs, spec), verdict_of_the_fast_path(inputs, spec)
    if isinstance(expected, tuple):
        assert actual == expected
    else:
        assert isinstance(actual, np.ndarray), actual
        assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape)
        assert np.array_equal(actual, expected)


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
@settings(max_examples=300, deadline=None, database=None)
@given(data=st.data())
def test_fast_path_and_rules_agree_on_generated_inputs(spec: InputSpec, data: st.DataObject) -> None:
    """On generated batches (valid, mis-shaped, mixed, non-numbers, NaN, infinities, huge ints) both paths agree."""
    assert_same_verdict(data.draw(batches(spec)), spec)


DIGITS = SPECS["digits-like"]
INT64 = SPECS["int64 limits"]


@pytest.mark.parametrize(
    ("spec", "inputs"),
    [
        (DIGITS, [[0.0, 1.5, 16.0, 3.25]]),
        (DIGITS, [[0, 1, 16, 3], [2, 2, 2, 2], [1.0, 2, 3.5, 4]]),
        (DIGITS, [[[0, 1], [2, 16.0]], [[1, 1], [1, 1]]]),
        (INT64, [[1, 2.0, -3], [2**53 - 1, -(2**53 - 1), 0]]),
        (SPECS["float32 limits"], [[2**24 + 1, 0.1]]),
    ],
)
def test_ordinary_batches_take_the_fast_path(spec: InputSpec, inputs: object) -> None:
    """Uniformly shaped batches of in-range ints and floats are accepted without the pure-Python rules."""
    assert InputChecker(spec).fast_values(inputs, MAX_BATCH) is not None
    assert_same_verdict(inputs, spec)


@pytest.mark.parametrize(
    ("spec", "inputs"),
    [
        (DIGITS, [[0, 1, True, 3]]),
        (DIGITS, [[0, 1, None, 3]]),
        (DIGITS, [[0, 1, "2", 3]]),
        (DIGITS, [[0, 1, math.nan, 3]]),
        (DIGITS, [[0, 1, math.inf, 3]]),
        (DIGITS, [[0, 1, 16.5, 3]]),
        (DIGITS, [[0, 1, 2, [3]]]),
        (DIGITS, [(0, 1, 2, 3)]),
        (DIGITS, [[0, 1, 2, 3], [[0, 1], [2, 3]]]),  # valid, but mixed shapes
        (DIGITS, [[0, 1, 2, 3]] * (MAX_BATCH + 1)),
        (INT64, [[2**53, 0, 0]]),  # valid, but beyond float64's exact integers
        (INT64, [[2**63, 0, 0]]),
        (INT64, [[10**400, 0, 0]]),
        (INT64, [[1.5, 0, 0]]),
        (SPECS["look-alike shapes"], [[[[1, 2, 3], [4, 5, 6]], [[1, 2, 3], [4, 5, 6]]]]),
    ],
)
def test_the_fast_path_leaves_doubtful_batches_to_the_rules(spec: InputSpec, inputs: object) -> None:
    """Anything bad or unusual makes the fast path step aside; the rules then accept it or name the bad element."""
    assert InputChecker(spec).fast_values(inputs, MAX_BATCH) is None
    assert_same_verdict(inputs, spec)
