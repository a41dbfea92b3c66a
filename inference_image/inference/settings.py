"""The handler's settings, read once from the environment (set by the Pulumi program on AWS and
by the local stack on a laptop). A bad value fails the cold start with a message naming the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from inference.layout import DEFAULT_DATA_DIR, DataLayout

Number = TypeVar("Number", int, float)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    max_text_bytes: int = 16 * 1024
    legacy_listing_lines: int = 1000
    default_model: str = "digits"
    model_refresh_seconds: float = 5.0
    model_cache_size: int = 4
    max_batch: int = 256
    message_retention_days: float | None = None  # None: keep messages forever
    # ONNX Runtime intra-op threads; unset: one per CPU the process may use (os.sched_getaffinity).
    model_threads: int | None = None

    @property
    def layout(self) -> DataLayout:
        return DataLayout(self.data_dir)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            data_dir=Path(env.get("DATA_DIR") or DEFAULT_DATA_DIR),
            max_text_bytes=_positive(env, "MAX_TEXT_BYTES", cls.max_text_bytes),
            legacy_listing_lines=_positive(env, "LEGACY_LISTING_LINES", cls.legacy_listing_lines),
            default_model=env.get("DEFAULT_MODEL") or cls.default_model,
            model_refresh_seconds=_positive(env, "MODEL_REFRESH_SECONDS", cls.model_refresh_seconds),
            model_cache_size=_positive(env, "MODEL_CACHE_SIZE", cls.model_cache_size),
            max_batch=_positive(env, "MAX_BATCH", cls.max_batch),
            message_retention_days=_positive(env, "MESSAGE_RETENTION_DAYS", 0.0) or None,
            model_threads=_positive(env, "MODEL_THREADS", 0) or None,
        )


def _positive(env: Mapping[str, str], key: str, default: Number) -> Number:
    """A positive number of the default's type from ``env[key]``, or the default (which may be 0) when unset."""
    raw = env.get(key)
    if raw in (None, ""):
        return default
    kind = type(default)
    try:
        value = kind(raw)
    except ValueError:
        value = kind(0)
    if not value > 0:
        noun = "integer" if kind is int else "number"
        raise ValueError(f"environment variable {key} must be a positive {noun}, got {raw!r}")
    return value
