"""The accepting side of jobs, run by the function outside the VPC: hand out upload URLs, check and
queue a job, report a job's state. It never touches EFS: model checks read the model bucket.

States: ``queued`` (accepted, no shard started), ``running``, ``succeeded``, ``failed``. A job is
split into shards of ``shard_size`` inputs, each its own queue message, so several workers share one
big job; progress counts the inputs of finished shards."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from inference.errors import BadRequest, NotFound, PayloadTooLarge, ServiceError
from inference.jobs.catalog import ModelCatalog
from inference.jobs.layout import FINISHED_AT_METADATA, JobKeys, is_valid_id, new_id, upload_key
from inference.jobs.messages import ShardMessage
from inference.jobs.settings import JobSettings
from inference.jobs.store import JobStore, ObjectChanged, StoredObject
from inference.models.inputs import InputChecker
from inference.models.json_bounds import JsonBound, check_within
from inference.models.metadata import ModelMetadata
from inference.models.request_fields import check_fields, version_name
from inference.models.text import checked_texts

UPLOAD_CONTENT_TYPE = "application/json"
JOB_FIELDS = ("model", "version", "inputs", "inputs_upload")
# The first byte of a JSON document, past a UTF-8 byte-order mark (some editors write one) and white space.
_FIRST_JSON_BYTE = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*(.?)", re.DOTALL)
_SEND_BATCH = 10  # SQS SendMessageBatch's limit
_PARALLEL_PUTS = 8
# A shard's last attempt that has said nothing for this long past the worker's timeout has died with its worker.
_STALE_GRACE_SECONDS = 60


class QueueUnavailable(ServiceError):
    status = 503
    default_code = "queue_unavailable"


class Conflict(ServiceError):
    status = 409
    default_code = "conflict"


@dataclass(frozen=True)
class JobRequest:
    """What job.json holds: everything a worker needs besides the inputs."""

    job_id: str
    model: str
    version: str
    total: int
    shard_size: int
    created_at: str

    @property
    def shards(self) -> int:
        return math.ceil(self.total / self.shard_size)

    def shard_range(self, shard: int) -> range:
        return range(shard * self.shard_size, min(self.total, (shard + 1) * self.shard_size))

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "model": self.model,
            "version": self.version,
            "total": self.total,
            "shard_size": self.shard_size,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRequest:
        return cls(
            job_id=str(data["job_id"]),
            model=str(data["model"]),
            version=str(data["version"]),
            total=int(data["total"]),
            shard_size=int(data["shard_size"]),
            created_at=str(data["created_at"]),
        )


def read_request(store: JobStore, job_id: str) -> JobRequest | None:
    data = store.get_json(JobKeys(job_id).request)
    return None if data is None else JobRequest.from_dict(data)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class JobService:
    def __init__(
        self,
        settings: JobSettings,
        store: JobStore,
        sqs: Any,
        catalog: ModelCatalog,
        *,
        default_model: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._store = store
        self._sqs = sqs
        self._catalog = catalog
        self._default_model = default_model
        self._clock = clock

    def check_inline_body(self, body: bytes) -> None:
        """Refuse, unparsed, a submit body holding more lists or strings than ``max_inputs`` inputs of any model
        can: the model is named inside the body, so its own bound cannot apply yet (an upload's does)."""
        limit = self._settings.max_inputs
        bound = JsonBound.for_any_inputs(limit, len(body)).plus(containers=1, strings=8, values=8)
        check_within(body, bound, "the request body", f"a job of at most {limit:,} inputs sent inline (upload them)")

    # --- uploads ------------------------------------------------------------------------------

    def create_upload(self) -> dict[str, Any]:
        """A presigned POST for one new object, for inputs too large for a request body: S3 itself refuses
        a body over ``max_upload_bytes``."""
        upload_id = new_id()
        expires_in = self._settings.url_expiry_seconds
        max_bytes = self._settings.max_upload_bytes
        form = self._store.presigned_post(upload_key(upload_id), expires_in, UPLOAD_CONTENT_TYPE, max_bytes)
        return {
            "upload_id": upload_id,
            "url": form.url,
            "method": "POST",
            "fields": form.fields,
            "expires_in": expires_in,
            "max_bytes": max_bytes,
            "submit": {"inputs_upload": upload_id},
        }

    # --- submit -------------------------------------------------------------------------------

    @staticmethod
    def _check_inputs(metadata: ModelMetadata, inputs: object, limit: int) -> None:
        """BadRequest naming the first bad input, by the rules the worker's model applies: texts for a text
        model, else the model's tensor (an image model's jobs take its tensor, not encoded images)."""
        if metadata.text is not None:
            checked_texts(inputs, limit, metadata.text.max_text_bytes)
        elif metadata.input is not None:
            InputChecker(metadata.input).batch(inputs, limit)
        else:
            raise BadRequest(f"model {metadata.name!r} takes no input a job can carry", "invalid_input")

    def submit(self, request: dict[str, Any]) -> dict[str, Any]:
        """Check the request against the model, store its inputs by shard, queue every shard."""
        check_fields(request, JOB_FIELDS, "a job body")
        version = version_name(request.get("version"))
        model = request.get("model", self._default_model)
        has_inputs, has_upload = "inputs" in request, "inputs_upload" in request
        if has_inputs == has_upload:
            raise BadRequest(
                'send either "inputs" (a list of inputs) or "inputs_upload" (an upload id from POST /jobs/uploads)',
                "invalid_input",
            )
        metadata = self._catalog.metadata(model, version)
        limit = self._settings.max_inputs
        inputs = request["inputs"] if has_inputs else self._uploaded_inputs(request["inputs_upload"], metadata)
        if isinstance(inputs, list) and len(inputs) > limit:
            raise BadRequest(f'"inputs" holds {len(inputs)} inputs; a job takes at most {limit}', "too_many_inputs")
        self._check_inputs(metadata, inputs, limit)
        assert isinstance(inputs, list)  # the check passed
        job = JobRequest(
            job_id=new_id(),
            model=str(model),
            version=metadata.version,
            total=len(inputs),
            shard_size=self._settings.shard_size,
            created_at=iso(self._clock()),
        )
        self._store_inputs(job, inputs)
        self._store.put_json_once(JobKeys(job.job_id).request, job.to_dict())
        self._enqueue(job)
        return self._accepted(job)

    def _uploaded_inputs(self, upload_id: object, metadata: ModelMetadata) -> object:
        """The upload's JSON, read as HEAD measured it and parsed only if its structure fits a job of this model."""
        if not is_valid_id(upload_id):
            raise BadRequest('"inputs_upload" must be an upload id from POST /jobs/uploads', "invalid_upload")
        key = upload_key(str(upload_id))
        head = self._store.head(key)
        if head is None:
            raise BadRequest(
                f"upload {upload_id} holds nothing: it was never uploaded, or it expired "
                f"(upload URLs last {self._settings.url_expiry_seconds} s); POST the inputs to its URL first",
                "upload_not_found",
            )
        if head.size > self._settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"upload {upload_id} holds {head.size} bytes; at most {self._settings.max_upload_bytes} are accepted",
                "upload_too_large",
            )
        try:
            body = self._store.read_measured(key, head)
        except ObjectChanged:
            raise Conflict(f"upload {upload_id} changed while it was read: submit it again", "upload_changed") from None
        opening = _first_json_byte(body)
        if opening != b"[":  # judged before counting, whose verdict would not say this
            around = ', not an object around it such as {"inputs": [...]}' if opening == b"{" else ""
            raise BadRequest(
                f"upload {upload_id} is not a JSON list: upload the list of inputs itself, [input, ...]{around}",
                "invalid_input",
            )
        limit = self._settings.max_inputs
        why = f"a job of model {metadata.name!r} (at most {limit:,} inputs)"
        check_within(body, JsonBound.for_inputs(metadata, limit), f"upload {upload_id}", why)
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise BadRequest(f"upload {upload_id} is not JSON (a list of inputs): {error}", "invalid_json") from None

    def _store_inputs(self, job: JobRequest, inputs: list[Any]) -> None:
        keys = JobKeys(job.job_id)

        def put_shard(shard: int) -> None:
            part = inputs[job.shard_range(shard).start : job.shard_range(shard).stop]
            self._store.put_json_once(keys.inputs(shard), part)

        with ThreadPoolExecutor(min(_PARALLEL_PUTS, job.shards)) as pool:
            list(pool.map(put_shard, range(job.shards)))

    def _enqueue(self, job: JobRequest) -> None:
        messages = [ShardMessage(job.job_id, shard) for shard in range(job.shards)]
        for start in range(0, len(messages), _SEND_BATCH):
            batch = messages[start : start + _SEND_BATCH]
            entries = [{"Id": str(message.shard), "MessageBody": message.to_body()} for message in batch]
            try:
                response = self._sqs.send_message_batch(QueueUrl=self._settings.queue_url, Entries=entries)
                if response.get("Failed"):  # one retry of what SQS could not take
                    retry = [entry for entry in entries if entry["Id"] in {f["Id"] for f in response["Failed"]}]
                    response = self._sqs.send_message_batch(QueueUrl=self._settings.queue_url, Entries=retry)
                    if response.get("Failed"):
                        raise QueueUnavailable(f"the queue refused shards: {response['Failed'][0].get('Message')}")
            except Exception as error:
                # Shards already queued will find the job failed and do nothing; none runs half a job.
                reason = error.message if isinstance(error, ServiceError) else f"the queue failed: {error}"
                self._store.put_json_once(
                    JobKeys(job.job_id).failed,
                    {
                        "code": "not_queued",
                        "message": f"the job could not be queued: {reason}",
                        "at": iso(self._clock()),
                    },
                )
                raise QueueUnavailable(f"the job could not be queued, try again: {reason}") from error

    def _accepted(self, job: JobRequest) -> dict[str, Any]:
        return {
            "job_id": job.job_id,
            "status": "queued",
            "status_url": f"/jobs/{job.job_id}",
            "model": job.model,
            "version": job.version,
            "progress": {"done": 0, "total": job.total},
            "created_at": job.created_at,
            "expires_at": self._expires_at(job),
        }

    def _expires_at(self, job: JobRequest) -> str:
        return iso(_parse_iso(job.created_at) + timedelta(days=self._settings.retention_days))

    # --- status -------------------------------------------------------------------------------

    def describe(self, job_id: str) -> dict[str, Any]:
        job = read_request(self._store, job_id) if is_valid_id(job_id) else None
        if job is None:
            raise NotFound(
                f"no job {job_id[:64]!r}: unknown, or expired (jobs are kept {self._settings.retention_days} days)",
                "job_not_found",
            )
        keys = JobKeys(job_id)
        objects = list(self._store.list(keys.prefix))
        by_key = {item.key: item for item in objects}
        finished = {shard for item in objects if (shard := keys.outputs_shard(item.key)) is not None}
        attempts: dict[int, list[tuple[int, StoredObject]]] = {}
        for item in objects:
            found = keys.attempt_of(item.key)
            if found is not None:
                attempts.setdefault(found[0], []).append((found[1], item))
        view = self._accepted(job)
        view["progress"] = {"done": sum(len(job.shard_range(shard)) for shard in finished), "total": job.total}
        view["retries"] = sum(len(tries) - 1 for tries in attempts.values())
        if attempts:
            view["status"] = "running"
        if keys.started in by_key:
            started = self._store.get_json(keys.started) or {}
            view["started_at"] = _not_before(str(started.get("at", "")), job.created_at)
        result, failed = by_key.get(keys.result), by_key.get(keys.failed)
        if result is not None:
            answer = {**view, **self._succeeded(keys)}
        else:
            failure = self._store.get_json(keys.failed) if failed is not None else None
            failure = failure or self._dead_last_attempt(attempts, finished)
            if failure is None:
                return view
            error = {key: value for key, value in failure.items() if key != "at"}  # code, message (, dead_letter)
            answer = {**view, "status": "failed", "finished_at": str(failure.get("at", "")), "error": error}
        answer["finished_at"] = _not_before(answer["finished_at"], answer.get("started_at", job.created_at))
        return answer

    def _succeeded(self, keys: JobKeys) -> dict[str, Any]:
        head = self._store.head(keys.result)
        if head is None:  # expired between the listing and now
            raise NotFound(f"no job {keys.job_id!r}: expired", "job_not_found")
        finished_at = head.metadata.get(FINISHED_AT_METADATA) or iso(head.last_modified)
        answer: dict[str, Any] = {"status": "succeeded", "finished_at": finished_at, "result_bytes": head.size}
        if head.size <= self._settings.inline_result_bytes:
            answer["result"] = self._store.get_json(keys.result)
        else:
            expires_in = self._settings.url_expiry_seconds
            answer["result_url"] = self._store.presigned_get(keys.result, expires_in, f"{keys.job_id}.json")
            answer["result_url_expires_in"] = expires_in
        return answer

    def _dead_last_attempt(
        self, attempts: dict[int, list[tuple[int, StoredObject]]], finished: set[int]
    ) -> dict[str, str] | None:
        """The failure of a shard whose last allowed attempt ended without a word: its worker crashed or
        timed out (nobody is left to record it: it failed at the latest when its timeout ran out), or recorded
        an error but not the job's failure."""
        limit = self._settings.max_attempts
        timeout = timedelta(seconds=self._settings.worker_timeout_seconds)
        stale_before = self._clock() - timeout - timedelta(seconds=_STALE_GRACE_SECONDS)
        for shard, tries in sorted(attempts.items()):
            attempt, item = max(tries, key=lambda pair: pair[0])
            if shard in finished or attempt < limit:
                continue
            if item.size:
                recorded = self._store.get_json(item.key) or {}
                return {
                    "code": "attempts_exhausted",
                    "message": str(recorded.get("message", "unknown error")),
                    "at": str(recorded.get("at") or iso(item.last_modified)),
                }
            if item.last_modified < stale_before:
                return {
                    "code": "attempts_exhausted",
                    "message": f"shard {shard}: attempt {attempt} of {limit} stopped without finishing "
                    f"(the worker crashed or ran past its {self._settings.worker_timeout_seconds} s timeout)",
                    "at": iso(item.last_modified + timeout),
                }
        return None


def _first_json_byte(body: bytes) -> bytes:
    """The byte a JSON document opens with (empty if there is none), found without copying the body."""
    found = _FIRST_JSON_BYTE.match(body)
    return found.group(1) if found else b""


def _not_before(moment: str, earlier: str) -> str:
    """``moment`` (ISO text, as ``iso`` writes it, so that text order is time order), never before ``earlier``:
    the times come from the clocks of different functions, which may differ by a few milliseconds."""
    return max(moment, earlier)
