"""The model registry: which versions exist under ``$DATA_DIR/models``, which one each model serves,
and a bounded cache of loaded sessions. Layout and formats: docs/MODELS.md.

**One truth across workers.** Which version a model serves is derived from the file system alone, so every
worker (Lambda execution environment, local worker process) reaches the same answer and reports it alike in
``GET /models`` and ``/health``: LATEST's version if it is intact, else the newest intact version before it, else
the newest intact one. Intact means complete, every file as published (``inference.models.integrity``: cheap
when the publish record vouches for the files, hashed otherwise) and, once a worker has tried, loadable by ONNX
Runtime. A LATEST that is not intact (a file damaged after publishing) is reported with its reason, in the listing
and as a degraded ``/health``, logged, and counted in the ``latest_unavailable`` metric, whatever is served
meanwhile. An answer's ``version`` is always the version that ran.

Version directories are immutable once renamed into place (see ``inference.models.publishing``), so a loaded
session and a parsed metadata file stay valid for the life of the process. The choice of version is re-checked
at most every ``refresh_seconds``: LATEST, the version listing, and the sizes and times of the chosen files."""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.errors import BadRequest, ModelUnavailable, NotFound
from inference.models.integrity import damage, record_checksum, signature
from inference.models.json_bounds import JsonBound, check_within
from inference.models.metadata import (
    METADATA_FILE,
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

MetricSink = Callable[[str, float, str, str], None]  # (metric, value: milliseconds or a count, model, version)
LATEST_UNAVAILABLE_METRIC = "latest_unavailable"  # a count: LATEST could not be served when the choice was made


def natural_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders "2" before "10" and "v1.9" before "v1.10"."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", version) if part)


def _subdirectories(folder: Path) -> list[str]:
    """Entries that could be model names or versions: temporary ``.tmp-*`` folders never qualify."""
    with os.scandir(folder) as entries:
        return [entry.name for entry in entries if is_valid_name(entry.name) and entry.is_dir()]


@dataclass(frozen=True)
class Choice:
    """What the file system says about one model, the same in every worker."""

    latest: str | None  # the version LATEST names, if any
    serving: str | None  # the version requests get, None when no version can be served
    versions: list[str]  # complete versions, newest first, less those found unavailable
    unavailable: dict[str, str] = field(default_factory=dict)  # version -> why it cannot be served

    @property
    def latest_problem(self) -> str | None:
        return self.unavailable.get(self.latest) if self.latest is not None else None


@dataclass(frozen=True)
class _Serving:
    version: str
    checked_at: float


@dataclass(frozen=True)
class _Verdict:
    signature: tuple[tuple[str, int, int], ...]
    problem: str | None


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
        # Versions ONNX Runtime could not load here though their files are intact (checked once: they cannot heal).
        self._broken: dict[tuple[str, str], str] = {}
        self._verdicts: dict[tuple[str, str], _Verdict] = {}  # the file check, by the files' sizes and times
        self._reported: set[tuple[str, str, str]] = set()  # LATEST problems already logged
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
                names = self._names()
                return {"default_model": self._default_model, "models": [self._describe(name) for name in names]}
            except OSError as error:
                raise ModelUnavailable(f"the models folder cannot be read: {error.strerror or error}") from error

    def status(self) -> dict[str, Any]:
        """The models' part of /health: the same in every worker but for ``loaded`` (this worker's sessions)."""
        with self._lock:
            choices = {name: self._choose(name) for name in self._names()}
            default = choices.get(self._default_model)
            problems = [
                {"model": name, "version": choice.latest, "reason": choice.latest_problem, "serving": choice.serving}
                for name, choice in choices.items()
                if choice.latest_problem is not None
            ]
            return {
                "ok": default is not None and default.serving is not None and not problems,
                "default_model": self._default_model,
                "default_versions": len(default.versions) if default else 0,
                "serving": {name: choice.serving for name, choice in choices.items()},
                "problems": problems,
                "loaded": [{"name": name, "version": version} for name, version in self._sessions],
            }

    def serving_version(self, name: str) -> str:
        """The version ``name`` serves, as ``GET /models`` reports it (nothing is loaded): NotFound for an unknown
        model, ModelUnavailable when no version can be served."""
        with self._lock:
            choice = self._choose(check_name(name))
        if choice.serving is None:
            raise ModelUnavailable(f"model {name!r} has no complete, loadable version")
        return choice.serving

    def check_predict_body(self, name: str | None, body: bytes) -> None:
        """Refuse, unparsed, a JSON predict body that holds more lists, strings or values than a batch of this
        model's inputs can (any of its versions, since the body may pin one): parsing it would cost many times
        what an honest request costs. NotFound for an unknown model, as predict answers."""
        name = check_name(self._default_model if name is None else name)
        with self._lock:
            bounds = [
                JsonBound.for_inputs(metadata, self._batch_limit(metadata))
                for version in self._complete_versions(name)
                if (metadata := self._version_metadata(name, version)) is not None
            ]
        if bounds:
            # The body's object: its keys and the small fields beside "inputs" (version, encoding_format).
            bound = functools.reduce(JsonBound.union, bounds).plus(containers=1, strings=6, values=6)
            check_within(body, bound, "the request body", f"a batch for model {name!r}")

    def _batch_limit(self, metadata: ModelMetadata) -> int:
        own = metadata.text.max_batch if metadata.text is not None else None
        return min(self._max_batch, own or self._max_batch)

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
            state is not None
            and (name, state.version) in self._sessions
            and now - state.checked_at < self._refresh_seconds
        ):
            return self._loaded(name, state.version)
        while True:
            choice = self._choose(name, report=True)
            if choice.serving is None:
                detail = next(iter(choice.unavailable.values()), None)
                raise ModelUnavailable(
                    f"model {name!r} has no complete, loadable version" + (f": {detail}" if detail else "")
                )
            try:
                model = self._loaded(name, choice.serving)
            except ModelUnavailable:
                if (name, choice.serving) in self._broken:
                    continue  # now known not to load: choose again without it
                raise  # a read error: the next request tries again
            if state is None or state.version != choice.serving:
                logger.info("serving model %s version %s (was %s)", name, choice.serving, state and state.version)
            self._serving[name] = _Serving(choice.serving, now)
            return model

    def _choose(self, name: str, *, report: bool = False) -> Choice:
        """LATEST's version if it is intact, else the newest intact version before it, else the newest intact one;
        with ``report``, a LATEST that cannot be served is logged (once) and counted."""
        name_dir = self._name_dir(name)
        try:
            latest = read_latest(name_dir)
            complete = self._complete_versions(name)
        except OSError as error:
            raise ModelUnavailable(f"model {name!r} cannot be read: {error.strerror or error}") from error
        unavailable: dict[str, str] = {}
        if latest is not None and latest not in complete:
            unavailable[latest] = self._incomplete_reason(name, latest)
        if latest is None:
            candidates = complete
        else:
            older = [version for version in complete if natural_key(version) < natural_key(latest)]
            candidates = [latest, *older, *(version for version in complete if version not in older)]
        serving = None
        for version in dict.fromkeys(candidates):
            if version in unavailable:
                continue
            problem = self._problem(name, version)
            if problem is None:
                serving = version
                break
            unavailable[version] = problem
        choice = Choice(latest, serving, [v for v in complete if v not in unavailable], unavailable)
        if report and choice.latest_problem is not None:
            self._report_latest(name, choice)
        return choice

    def _report_latest(self, name: str, choice: Choice) -> None:
        key = (name, str(choice.latest), str(choice.latest_problem))
        if key not in self._reported:
            self._reported.add(key)
            logger.error(
                "model %s: LATEST names version %s, which cannot be served (%s); serving %s instead",
                name,
                choice.latest,
                choice.latest_problem,
                choice.serving or "nothing",
            )
        self._metric(LATEST_UNAVAILABLE_METRIC, 1, name, str(choice.latest))

    def _problem(self, name: str, version: str) -> str | None:
        """Why a complete version cannot be served (damaged files, or ONNX Runtime could not load it here), or None.
        The file check is redone only when a file's size or time changes."""
        key = (name, version)
        if key in self._broken:
            return self._broken[key]
        metadata = self._metadata[key]
        version_dir = self._models_dir / name / version
        try:
            current = signature(version_dir, metadata)
        except OSError as error:
            return f"a file of version {version!r} cannot be read: {error.strerror or error}"
        verdict = self._verdicts.get(key)
        if verdict is None or verdict.signature != current:
            try:
                problems = damage(version_dir, metadata)
            except OSError as error:
                return f"a file of version {version!r} cannot be read: {error.strerror or error}"
            problem = f"version {version!r} is damaged: {'; '.join(problems)}" if problems else None
            verdict = self._verdicts[key] = _Verdict(current, problem)
        return verdict.problem

    def _pinned_model(self, name: str, version: str) -> LoadedModel:
        if not (self._name_dir(name) / version).is_dir():
            raise NotFound(f"model {name!r} has no version {version!r}", "version_not_found")
        return self._loaded(name, version)

    def _name_dir(self, name: str) -> Path:
        name_dir = self._models_dir / name
        if not name_dir.is_dir():
            raise NotFound(f"unknown model {name!r}", "model_not_found")
        return name_dir

    def _names(self) -> list[str]:
        return sorted(_subdirectories(self._models_dir)) if self._models_dir.is_dir() else []

    # --- what is on disk ----------------------------------------------------------------------

    def _complete_versions(self, name: str) -> list[str]:
        """Versions, newest first, whose metadata parses and whose listed files have their declared sizes."""
        versions = _subdirectories(self._name_dir(name))
        complete = (version for version in versions if self._version_metadata(name, version))
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

    def _incomplete_reason(self, name: str, version: str) -> str:
        """Why a version LATEST names is not complete, in words."""
        version_dir = self._models_dir / name / version
        if not version_dir.is_dir():
            return f"there is no version {version!r} in {version_dir.parent}"
        try:
            metadata = ModelMetadata.read(version_dir)
        except FileNotFoundError:
            return f"version {version!r} has no {METADATA_FILE}"
        except MetadataError as error:
            return f"the {METADATA_FILE} of version {version!r} is invalid: {error}"
        except OSError as error:
            return f"the {METADATA_FILE} of version {version!r} cannot be read: {error.strerror or error}"
        for file, entry in metadata.files.items():
            try:
                size = (version_dir / file).stat().st_size
            except OSError:
                return f"version {version!r} lacks {file}, which its metadata lists"
            if size != entry.size:
                return f"{file} of version {version!r} has {size} bytes, but its metadata says {entry.size}"
        return f"version {version!r} is incomplete"

    def _describe(self, name: str) -> dict[str, Any]:
        choice = self._choose(name)
        serving = choice.serving
        metadata = self._metadata.get((name, serving)) if serving else None
        return {
            "name": name,
            "versions": choice.versions,
            "latest": choice.latest,
            "serving": serving,
            "unavailable": [{"version": version, "reason": reason} for version, reason in choice.unavailable.items()],
            "content_sha256": record_checksum(self._models_dir / name / serving) if serving else None,
            "task": metadata.task if metadata else None,
            "input": metadata.describe_input() if metadata else None,
            "dimension": metadata.embedding.dimension if metadata and metadata.embedding else None,
            "labels": list(metadata.labels) if metadata and metadata.labels else None,
            "description": metadata.description if metadata else "",
            "samples": list(metadata.samples) if metadata else [],
        }

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
