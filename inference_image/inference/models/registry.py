"""The model registry: which versions exist under ``$DATA_DIR/models``, which one each model serves,
and a bounded cache of loaded sessions. Layout and formats: docs/MODELS.md.

Version directories are immutable once renamed into place (see ``inference.models.publishing``), so a loaded
session and a parsed metadata file stay valid for the life of the process. Only the choice of version
changes: it is re-checked at most every ``refresh_seconds`` by reading the small LATEST file."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.errors import BadRequest, ModelUnavailable, NotFound
from inference.models.metadata import (
    MetadataError,
    ModelMetadata,
    check_name,
    check_version,
    is_valid_name,
)
from inference.models.outputs import ENCODING_FLOAT
from inference.models.pointer import read_latest
from inference.models.runtime import LoadedModel, ModelLoadError, load_model
from inference.settings import Settings

logger = logging.getLogger(__name__)

MetricSink = Callable[[str, float, str, str], None]  # (metric, milliseconds, model, version)


def natural_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders "2" before "10" and "v1.9" before "v1.10"."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", version) if part)


def _subdirectories(folder: Path) -> list[str]:
    """Entries that could be model names or versions: temporary ``.tmp-*`` folders never qualify."""
    with os.scandir(folder) as entries:
        return [entry.name for entry in entries if is_valid_name(entry.name) and entry.is_dir()]


@dataclass(frozen=True)
class _Serving:
    version: str
    checked_at: float


class ModelRegistry:
    def __init__(
        self,
        models_dir: Path,
        default_model: str,
        *,
        refresh_seconds: float = 5.0,
        cache_size: int = 4,
        max_batch: int = 256,
        clock: Callable[[], float] = time.monotonic,
        on_metric: MetricSink | None = None,
        threads: int | None = None,
    ) -> None:
        if cache_size < 1 or max_batch < 1:
            raise ValueError("cache_size and max_batch must be at least 1")
        self._models_dir = Path(models_dir)
        self._default_model = default_model
        self._refresh_seconds = refresh_seconds
        self._cache_size = cache_size
        self._max_batch = max_batch
        self._clock = clock
        self._on_metric = on_metric
        self._threads = threads  # ONNX Runtime intra-op threads; None: one per CPU this process may use
        # Loading happens under this lock (one load at a time); inference runs outside it.
        self._lock = threading.RLock()
        self._sessions: OrderedDict[tuple[str, str], LoadedModel] = OrderedDict()
        self._metadata: dict[tuple[str, str], ModelMetadata] = {}
        self._broken: dict[tuple[str, str], str] = {}  # versions found corrupt, with the reason
        self._serving: dict[str, _Serving] = {}

    @classmethod
    def from_settings(cls, settings: Settings, on_metric: MetricSink | None = None) -> ModelRegistry:
        """The registry every function builds from its environment: the API's and the job worker's alike."""
        return cls(
            settings.layout.models_dir,
            default_model=settings.default_model,
            refresh_seconds=settings.model_refresh_seconds,
            cache_size=settings.model_cache_size,
            max_batch=settings.max_batch,
            on_metric=on_metric,
            threads=settings.model_threads,
        )

    def predict(
        self, name: str | None, inputs: object, version: str | None = None, *, encoding_format: str = ENCODING_FLOAT
    ) -> dict[str, Any]:
        started = time.perf_counter()
        name = check_name(self._default_model if name is None else name)
        with self._lock:
            model = self._serving_model(name) if version is None else self._pinned_model(name, check_version(version))
        if encoding_format != ENCODING_FLOAT and model.dimension is None:
            raise BadRequest(
                f'"encoding_format" applies to embedding models; model {name!r} is a {model.metadata.task} model',
                "invalid_encoding_format",
            )
        preparing = time.perf_counter()  # after any model load, which "total" includes
        batch = model.prepare(inputs, self._max_batch)
        preprocessing_ms = (time.perf_counter() - preparing) * 1000
        outputs, inference_ms = model.run(batch, encoding_format)
        self._metric("inference_ms", inference_ms, name, model.version)
        answer: dict[str, Any] = {"model": name, "version": model.version, "outputs": outputs}
        if model.dimension is not None:
            answer.update(dimension=model.dimension, encoding_format=encoding_format)
        answer["timing_ms"] = {
            "preprocessing": preprocessing_ms,
            "inference": inference_ms,
            "total": (time.perf_counter() - started) * 1000,
        }
        return answer

    def list_models(self) -> dict[str, Any]:
        with self._lock:
            try:
                names = sorted(_subdirectories(self._models_dir)) if self._models_dir.is_dir() else []
                return {"default_model": self._default_model, "models": [self._describe(name) for name in names]}
            except OSError as error:
                raise ModelUnavailable(f"the models folder cannot be read: {error.strerror or error}") from error

    def status(self) -> dict[str, Any]:
        with self._lock:
            try:
                default_versions = self._complete_versions(self._default_model)
            except NotFound:
                default_versions = []
            return {
                "ok": bool(default_versions),
                "default_model": self._default_model,
                "default_versions": len(default_versions),
                "serving": {name: state.version for name, state in self._serving.items()},
                "loaded": [{"name": name, "version": version} for name, version in self._sessions],
            }

    def predict_outputs(self, name: str, version: str, inputs: list[Any]) -> list[Any]:
        """The outputs for any number of inputs to one version, predicted in batches of that model's own
        limit: a job's shard holds more inputs than one request may (MiniLM takes 128 texts a batch)."""
        with self._lock:
            model = self._pinned_model(check_name(name), check_version(version))
        limit = model.max_batch(self._max_batch)
        outputs: list[Any] = []
        for start in range(0, len(inputs), limit):
            outputs.extend(self.predict(name, inputs[start : start + limit], version=version)["outputs"])
        return outputs

    # --- choosing a version -------------------------------------------------------------------

    def _serving_model(self, name: str) -> LoadedModel:
        state = self._serving.get(name)
        now = self._clock()
        if (
            state is None
            or (name, state.version) not in self._sessions
            or now - state.checked_at >= self._refresh_seconds
        ):
            # Recorded only once a version loads, so requests for unknown names leave no trace.
            state = _Serving(self._refresh(name, state.version if state else None), now)
            self._serving[name] = state
        return self._loaded(name, state.version)

    def _refresh(self, name: str, current: str | None) -> str:
        """LATEST's version if it loads, else the current one, else the newest that loads."""
        name_dir = self._name_dir(name)
        try:
            pointer = read_latest(name_dir)
            if pointer is not None and pointer == current and (name, pointer) in self._sessions:
                return current  # the usual case: one small file read
            newest = self._complete_versions(name)
        except OSError as error:
            raise ModelUnavailable(f"model {name!r} cannot be read: {error.strerror or error}") from error
        candidates = dict.fromkeys(v for v in (pointer, current, *newest) if v is not None)
        failures: list[str] = []
        for version in candidates:
            try:
                self._loaded(name, version)
            except ModelUnavailable as error:
                failures.append(error.message)  # already logged where it was found
                continue
            if version != current:
                logger.info("serving model %s version %s (was %s)", name, version, current)
            return version
        detail = f": {failures[0]}" if failures else ""
        raise ModelUnavailable(f"model {name!r} has no complete, loadable version{detail}")

    def _pinned_model(self, name: str, version: str) -> LoadedModel:
        if not (self._name_dir(name) / version).is_dir():
            raise NotFound(f"model {name!r} has no version {version!r}", "version_not_found")
        return self._loaded(name, version)

    def _name_dir(self, name: str) -> Path:
        name_dir = self._models_dir / name
        if not name_dir.is_dir():
            raise NotFound(f"unknown model {name!r}", "model_not_found")
        return name_dir

    # --- what is on disk ----------------------------------------------------------------------

    def _complete_versions(self, name: str) -> list[str]:
        """Versions, newest first, whose metadata parses and whose model file has the declared size, less
        those found corrupt when loaded (the sha256 is checked then: too costly for every listing)."""
        versions = _subdirectories(self._name_dir(name))
        complete = (v for v in versions if (name, v) not in self._broken and self._version_metadata(name, v))
        return sorted(complete, key=natural_key, reverse=True)

    def _version_metadata(self, name: str, version: str) -> ModelMetadata | None:
        key = (name, version)
        if key not in self._metadata:
            version_dir = self._models_dir / name / version
            try:
                metadata = ModelMetadata.read(version_dir)
                complete = all(
                    (version_dir / file).stat().st_size == entry.size for file, entry in metadata.files.items()
                )
            except (OSError, MetadataError) as error:
                logger.debug("skipping %s: %s", version_dir, error)
                return None
            if not complete:
                return None
            self._metadata[key] = metadata  # only complete versions: an incomplete one is re-checked next time
        return self._metadata[key]

    def _describe(self, name: str) -> dict[str, Any]:
        versions = self._complete_versions(name)
        serving = self._serving_version(name, versions)
        metadata = self._version_metadata(name, serving) if serving else None
        return {
            "name": name,
            "versions": versions,
            "serving": serving,
            "task": metadata.task if metadata else None,
            "input": metadata.describe_input() if metadata else None,
            "dimension": metadata.embedding.dimension if metadata and metadata.embedding else None,
            "labels": list(metadata.labels) if metadata and metadata.labels else None,
            "description": metadata.description if metadata else "",
            "samples": list(metadata.samples) if metadata else [],
        }

    def _serving_version(self, name: str, versions: list[str]) -> str | None:
        """The version being served, or for a model not used yet, the one that would be (without loading it)."""
        state = self._serving.get(name)
        if state is not None:
            return state.version
        pointer = read_latest(self._models_dir / name)
        if pointer in versions:
            return pointer
        return versions[0] if versions else None

    # --- loaded sessions ----------------------------------------------------------------------

    def _loaded(self, name: str, version: str) -> LoadedModel:
        key = (name, version)
        model = self._sessions.get(key)
        if model is not None:
            self._sessions.move_to_end(key)
            return model
        if key in self._broken:
            raise ModelUnavailable(self._broken[key])
        started = time.perf_counter()
        try:
            model = load_model(self._models_dir / name / version, name, version, self._threads)
        except (MetadataError, ModelLoadError) as error:
            # Versions never change once published, so a corrupt one stays corrupt: skip it from now on.
            self._broken[key] = f"model {name!r} version {version!r} is corrupt and is not served: {error}"
            logger.warning(self._broken[key])
            raise ModelUnavailable(self._broken[key]) from error
        except OSError as error:
            message = f"model {name!r} version {version!r} cannot be read: {error.strerror or error}"
            logger.warning(message)
            raise ModelUnavailable(message) from error
        self._metric("model_load_ms", (time.perf_counter() - started) * 1000, name, version)
        self._sessions[key] = model
        while len(self._sessions) > self._cache_size:
            evicted, _ = self._sessions.popitem(last=False)
            logger.info("evicted model %s version %s from the session cache", *evicted)
        return model

    def _metric(self, name: str, value_ms: float, model: str, version: str) -> None:
        if self._on_metric is not None:
            self._on_metric(name, value_ms, model, version)
