"""JSON out, for the API's answers and the job bucket's objects alike: orjson, about 20x json's speed on
float-heavy values (one embedding's 384 floats: ~0.2 ms with json, 5 % of MiniLM's own batch-1 run; a
10,000-embedding job result: seconds), with json for the values orjson refuses, so that its stricter rules can
never turn an answer into an error."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of ``value``."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:  # what only json takes: a lone surrogate, an int past 64 bits
        return json.dumps(value, separators=(",", ":")).encode()  # ASCII: json escapes the rest
