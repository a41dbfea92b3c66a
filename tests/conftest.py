"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest

from testing.lambda_context import FakeLambdaContext


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
