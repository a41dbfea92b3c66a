"""Uploads and presigned URLs: signed for the bucket's region as a virtual host, a POST form whose policy caps
the size, and a submit that reads only what HEAD measured, refuses a missing or swapped upload as a 4xx naming
it, and never parses a structure no job of the model can have."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.stub import Stubber

from inference.errors import BadRequest
from inference.jobs.catalog import S3ModelCatalog
from inference.jobs.layout import JOBS_PREFIX, upload_key
from inference.jobs.service import Conflict, JobService
from inference.jobs.settings import JobSettings
from inference.jobs.store import JobStore, ObjectHead, s3_client
from inference.models.json_bounds import CHEAP_TO_PARSE_BYTES
from tests.jobs.conftest import MakeStack
from tests.jobs.helpers import digit_batch, post_upload

BUCKET = "efs-inference-prod-jobs-0a1b2c3d"
REGIONS = ("us-east-1", "eu-central-1", "ap-east-1")  # the old global default, a usual one, an opt-in one


@pytest.fixture
def aws_region(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A function's environment on AWS: a region and credentials, no local endpoint."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    yield


@pytest.fixture
def aws_job_service(aws_region: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The jobs function's own service (inference.api.jobs), built from its environment for one region."""
    from inference.api import jobs

    def build(region: str) -> JobService:
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        monkeypatch.setenv("AWS_REGION", region)
        monkeypatch.setenv("JOBS_BUCKET", BUCKET)
        jobs.job_service.cache_clear()
        return jobs.job_service()

    yield build
    jobs.job_service.cache_clear()


@pytest.mark.parametrize("region", REGIONS)
def test_the_jobs_function_presigns_for_the_buckets_regional_virtual_host(aws_job_service: Any, region: str) -> None:
    """Upload forms and result downloads name <bucket>.s3.<region>.amazonaws.com and carry a SigV4 signature for
    that region: the global host answers a young bucket with a 307 that breaks the signature."""
    service = aws_job_service(region)
    host = f"{BUCKET}.s3.{region}.amazonaws.com"
    upload = service.create_upload()
    assert urlsplit(upload["url"]).netloc == host
    assert upload["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert f"/{region}/s3/aws4_request" in upload["fields"]["x-amz-credential"]
    download = urlsplit(service._store.presigned_get("jobs/x/result.json", 60, "x.json"))
    assert download.netloc == host
    assert f"/{region}/s3/aws4_request" in parse_qs(download.query)["X-Amz-Credential"][0]


def test_the_upload_form_lets_s3_refuse_any_other_key_type_or_size(aws_job_service: Any) -> None:
    """The POST policy binds the one key, the JSON content type and 1 to jobsMaxUploadBytes bytes, and expires."""
    service = aws_job_service("eu-central-1")
    before = datetime.now(UTC)
    upload = service.create_upload()
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"key": upload_key(upload["upload_id"])} in conditions
    assert {"Content-Type": "application/json"} in conditions
    assert ["content-length-range", 1, JobSettings(bucket="-").max_upload_bytes] in conditions
    assert upload["max_bytes"] == JobSettings(bucket="-").max_upload_bytes
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 0 < (expires - before).total_seconds() <= upload["expires_in"] + 1
    assert upload["method"] == "POST" and upload["submit"] == {"inputs_upload": upload["upload_id"]}


def _upload(service: JobService, body: bytes) -> str:
    upload = service.create_upload()
    assert post_upload(upload, body) == 204
    return str(upload["upload_id"])


def test_an_upload_never_sent_or_expired_is_a_400_naming_it(make_stack: MakeStack) -> None:
    """upload_not_found, with the upload's id in the message, whether it never came or the lifecycle removed it."""
    stack = make_stack()
    service = stack.service()
    never = service.create_upload()["upload_id"]
    expired = _upload(service, json.dumps(digit_batch(3)).encode())
    stack.s3.delete_object(Bucket=stack.settings.bucket, Key=upload_key(expired))  # what the lifecycle rule does
    for upload_id in (never, expired):
        with pytest.raises(BadRequest) as raised:
            service.submit({"inputs_upload": upload_id})
        assert raised.value.code == "upload_not_found"
        assert upload_id in raised.value.message
    assert list(stack.store.list(JOBS_PREFIX)) == []


def test_a_head_refused_for_want_of_list_permission_is_a_400_too(make_stack: MakeStack) -> None:
    """Without s3:ListBucket S3 answers HEAD on a missing key with 403, not 404: still upload_not_found, not a 500."""
    stack = make_stack()
    s3 = s3_client()
    stubber = Stubber(s3)
    stubber.add_client_error("head_object", service_error_code="403", service_message="Forbidden", http_status_code=403)
    catalog = S3ModelCatalog(stack.s3, stack.settings.model_bucket)
    service = JobService(
        stack.settings, JobStore(s3, stack.settings.bucket), stack.sqs, catalog, default_model="digits"
    )
    with stubber, pytest.raises(BadRequest) as raised:
        service.submit({"inputs_upload": "a" * 32})
    assert raised.value.code == "upload_not_found"
    assert "a" * 32 in raised.value.message


class _SwappingStore(JobStore):
    """A store whose upload is replaced by a larger one right after its HEAD, as a second POST to the form would."""

    def __init__(self, stack: Any, upload: dict[str, Any], swapped_in: bytes) -> None:
        super().__init__(stack.s3, stack.settings.bucket)
        self._upload, self._swapped_in = upload, swapped_in

    def head(self, key: str) -> ObjectHead | None:
        measured = super().head(key)
        post_upload(self._upload, self._swapped_in)
        return measured


def test_an_upload_swapped_after_its_head_is_never_read(make_stack: MakeStack) -> None:
    """The read is bound to the ETag HEAD saw: a body swapped in between is a 409 naming the upload, unread."""
    stack = make_stack()
    service = stack.service()
    upload = service.create_upload()
    post_upload(upload, json.dumps(digit_batch(2)).encode())
    store = _SwappingStore(stack, upload, json.dumps(digit_batch(200)).encode())
    catalog = S3ModelCatalog(stack.s3, stack.settings.model_bucket)
    swapping = JobService(stack.settings, store, stack.sqs, catalog, default_model="digits")
    with pytest.raises(Conflict) as raised:
        swapping.submit(upload["submit"])
    assert raised.value.status == 409 and raised.value.code == "upload_changed"
    assert upload["upload_id"] in raised.value.message
    assert list(stack.store.list(JOBS_PREFIX)) == []


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (b"[" + b"[[]]," * 200_000 + b"[[]]]", "400,003 lists and objects"),  # [[[]],...]: 2 lists per input
        # Each over the 64 KiB that are parsed whatever they hold (CHEAP_TO_PARSE_BYTES):
        (b"[" + b'"ab",' * 20_000 + b'"ab"]', "20,001 strings"),  # strings, for a model of numbers
        (b"[" + b"0," * 40_000 + b"0]", "up to 40,002 values"),  # a job of 100 inputs of 8x8 holds 7,301
    ],
    ids=["nested-empty-lists", "strings", "numbers"],
)
def test_an_upload_holding_more_structure_than_a_job_can_is_refused_unparsed(
    make_stack: MakeStack, body: bytes, refused: str
) -> None:
    """Counted on the raw bytes against what jobsMaxInputs inputs of the model can hold, before json.loads."""
    stack = make_stack(max_inputs=100)
    service = stack.service()
    upload_id = _upload(service, body)
    with pytest.raises(BadRequest) as raised:
        service.submit({"inputs_upload": upload_id})
    assert raised.value.code == "invalid_input"
    assert f"upload {upload_id} holds {refused}" in raised.value.message
    assert "'digits' (at most 100 inputs)" in raised.value.message


@pytest.mark.parametrize(
    ("body", "around"),
    [
        (b'{"inputs": [[0, 1, 2]]}', True),
        (b'\xef\xbb\xbf \n {"model": "digits", "inputs": []}', True),
        (b'"[[0, 1]]"', False),
        (b"  ", False),
    ],
    ids=["object", "object-after-a-byte-order-mark", "string", "white-space"],
)
def test_an_upload_that_is_not_a_list_is_told_to_be_one(make_stack: MakeStack, body: bytes, around: bool) -> None:
    """An upload holding an object such as an inline job's body is a 400 saying to upload the list of inputs
    itself, not a count of strings a job cannot hold."""
    stack = make_stack()
    service = stack.service()
    upload_id = _upload(service, body)
    with pytest.raises(BadRequest) as raised:
        service.submit({"inputs_upload": upload_id})
    assert raised.value.code == "invalid_input"
    message = f"upload {upload_id} is not a JSON list: upload the list of inputs itself, [input, ...]"
    assert raised.value.message == message + (', not an object around it such as {"inputs": [...]}' if around else "")
    assert list(stack.store.list(JOBS_PREFIX)) == []


def test_an_inline_body_holding_more_structure_than_any_job_can_is_refused_unparsed(
    make_stack: MakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model is named inside the body, so an inline body is bounded by what jobsMaxInputs inputs of any model
    hold (a list or two and a string each) before it is parsed; an honest inline job of that size passes."""
    stack = make_stack(max_inputs=1000)
    service = stack.service()
    hostile = b'{"model": "digits", "inputs": [' + b"[[]]," * 100_000 + b"[[]]]}"
    with pytest.raises(BadRequest) as raised:
        service.check_inline_body(hostile)
    assert raised.value.code == "invalid_input" and "200,004 lists and objects" in raised.value.message
    assert "(upload them)" in raised.value.message
    honest = json.dumps({"model": "digits", "inputs": digit_batch(1000)}).encode()
    assert len(honest) > CHEAP_TO_PARSE_BYTES
    service.check_inline_body(honest)
