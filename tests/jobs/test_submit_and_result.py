"""Submit, poll and fetch results through real S3 and SQS APIs, with the worker run by the local poller."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from inference.errors import BadRequest, NotFound, PayloadTooLarge
from inference.jobs.layout import JOBS_PREFIX
from inference.models.publishing import publish_version
from inference.models.registry import ModelRegistry
from tests.jobs.conftest import MINILM_MODEL, MakeStack
from tests.jobs.helpers import digit_batch, fetch, post_upload, sync_outputs, wait_for

MILLISECOND = timedelta(milliseconds=1)  # the times are kept to the millisecond


def test_a_batch_over_the_sync_limit_runs_in_shards_and_matches_the_sync_answers(make_stack: MakeStack) -> None:
    """1,000 inputs (four times /predict's batch limit) in four shards on two workers equal /predict's outputs."""
    stack = make_stack(shard_size=300, inline_result_bytes=4 * 1024 * 1024)
    service = stack.service()
    inputs = digit_batch(1000)
    accepted = service.submit({"model": "digits", "inputs": inputs})
    assert accepted["status"] == "queued"
    assert accepted["status_url"] == f"/jobs/{accepted['job_id']}"
    assert accepted["progress"] == {"done": 0, "total": 1000}
    stack.start_poller(workers=2)
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"))
    assert view["status"] == "succeeded", view
    assert view["progress"] == {"done": 1000, "total": 1000}
    assert view["created_at"] <= view["started_at"] <= view["finished_at"]
    assert view["result"]["outputs"] == sync_outputs(stack.data_dir, inputs)
    assert view["result"]["version"] == accepted["version"]


def test_a_text_job_over_the_models_own_batch_limit_matches_the_sync_embeddings(make_stack: MakeStack) -> None:
    """300 sentences in one shard, more than MiniLM takes per request (128): the worker predicts them in batches
    of the model's own limit, and the embeddings are /predict's."""
    stack = make_stack(models=(("minilm", MINILM_MODEL),), inline_result_bytes=8 * 1024 * 1024)
    publish_version(MINILM_MODEL, stack.data_dir / "models", "minilm")
    service = stack.service()
    topics = ["the weather", "a football match", "bread and cheese", "a violin concert", "the stock market"]
    sentences = [f"Sentence {index} is about {topics[index % 5]}{' again' * (index % 7)}." for index in range(300)]
    accepted = service.submit({"model": "minilm", "inputs": sentences})
    assert accepted["progress"] == {"done": 0, "total": 300}
    stack.start_poller()
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"), timeout=120)
    assert view["status"] == "succeeded", view
    vectors = np.array([output["embedding"] for output in view["result"]["outputs"]])
    registry = ModelRegistry(stack.data_dir / "models", "minilm")
    expected = np.array(
        [output["embedding"] for start in range(0, 300, 100) for output in
         registry.predict("minilm", sentences[start : start + 100])["outputs"]]
    )  # fmt: skip
    assert vectors.shape == (300, 384)
    assert np.abs(vectors - expected).max() < 1e-5


def test_inputs_uploaded_through_a_presigned_url_are_submitted_by_reference(make_stack: MakeStack) -> None:
    """Over 6 MB of inputs (over Lambda's 6 MB request limit) go to S3 directly; a large result comes back as a URL."""
    stack = make_stack(shard_size=4000, inline_result_bytes=1024, max_upload_bytes=64 * 1024 * 1024)
    service = stack.service()
    inputs = [[value * 0.9 + 0.123456789 for value in row] for row in digit_batch(8000)]
    body = json.dumps(inputs).encode()
    assert len(body) > 6 * 1024 * 1024
    upload = service.create_upload()
    assert upload["expires_in"] == stack.settings.url_expiry_seconds
    assert post_upload(upload, body) == 204
    accepted = service.submit({"model": "digits", **upload["submit"]})
    stack.start_poller()
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"))
    assert view["status"] == "succeeded", view
    assert "result" not in view
    downloaded = fetch(view["result_url"])
    assert downloaded["outputs"] == sync_outputs(stack.data_dir, inputs)


@pytest.mark.parametrize(
    ("request_body", "error", "code"),
    [
        ({"model": "digits", "inputs": [[1] * 64, [1] * 64, [1] * 64, [1] * 65]}, BadRequest, "invalid_input"),
        ({"model": "digits", "inputs": [[1] * 63 + ["x"]]}, BadRequest, "invalid_input"),
        ({"model": "digits", "inputs": []}, BadRequest, "invalid_input"),
        ({"model": "digits"}, BadRequest, "invalid_input"),
        ({"model": "nope", "inputs": [[1] * 64]}, NotFound, "model_not_found"),
        ({"model": "digits", "version": "v9", "inputs": [[1] * 64]}, NotFound, "version_not_found"),
        ({"model": "../x", "inputs": [[1] * 64]}, BadRequest, "invalid_model_name"),
        ({"model": "digits", "inputs_upload": "not-an-id"}, BadRequest, "invalid_upload"),
        ({"model": "digits", "inputs_upload": "0" * 32}, BadRequest, "upload_not_found"),
        ({"model": "digits", "inputs": [[1] * 64], "extra": 1}, BadRequest, "unknown_field"),
        ({"model": "digits", "input": [[1] * 64]}, BadRequest, "unknown_field"),
        ({"model": "digits", "version": -2, "inputs": [[1] * 64]}, BadRequest, "invalid_version"),
        ({"model": "digits", "version": True, "inputs": [[1] * 64]}, BadRequest, "invalid_version"),
        ({"model": "digits", "version": 9, "inputs": [[1] * 64]}, NotFound, "version_not_found"),
    ],
)
def test_bad_input_is_refused_at_submit_and_nothing_is_stored_or_queued(
    make_stack: MakeStack, request_body: dict[str, object], error: type[Exception], code: str
) -> None:
    """Each bad request is a 4xx naming the problem, before any job object or message exists."""
    stack = make_stack()
    with pytest.raises(error) as raised:
        stack.service().submit(request_body)
    assert getattr(raised.value, "code", None) == code
    assert list(stack.store.list(JOBS_PREFIX)) == []
    messages = stack.sqs.receive_message(QueueUrl=stack.settings.queue_url, WaitTimeSeconds=0)
    assert messages.get("Messages", []) == []


def test_a_job_takes_the_fields_and_versions_predict_takes(make_stack: MakeStack) -> None:
    """The same rules as /predict's: an unknown field is named (predict's message, a job's fields), and
    "version": 2 means "2"."""
    stack = make_stack()
    service = stack.service()
    with pytest.raises(BadRequest) as raised:
        service.submit({"inputs": digit_batch(1), "extra": 1})
    assert raised.value.message == (
        'unknown field(s) "extra" in the body; a job body has only model, version, inputs, inputs_upload'
    )
    version = int(service.submit({"inputs": digit_batch(1)})["version"])  # the newest
    accepted = service.submit({"inputs": digit_batch(1), "version": version})
    assert accepted["version"] == str(version)


def test_the_first_bad_input_of_a_large_batch_is_named(make_stack: MakeStack) -> None:
    """The check covers the whole batch, not a sample: inputs[9999] is named."""
    stack = make_stack()
    inputs = digit_batch(10_000)
    inputs[9999][5] = 17
    with pytest.raises(BadRequest, match=r"inputs\[9999\]\[5\] = 17"):
        stack.service().submit({"inputs": inputs})


def test_bad_uploads_are_refused_at_submit(make_stack: MakeStack) -> None:
    """An upload over the size limit is a 413, one that is not JSON a 400; no job is created."""
    stack = make_stack(max_upload_bytes=1000)
    service = stack.service()
    too_big = service.create_upload()
    post_upload(too_big, json.dumps(digit_batch(50)).encode())
    with pytest.raises(PayloadTooLarge):
        service.submit(too_big["submit"])
    not_json = service.create_upload()
    post_upload(not_json, b"[[1, 2,")
    with pytest.raises(BadRequest, match="not JSON"):
        service.submit(not_json["submit"])
    assert list(stack.store.list(JOBS_PREFIX)) == []


def test_unknown_malformed_and_expired_job_ids_are_not_found(make_stack: MakeStack) -> None:
    """404 job_not_found for an id never issued, a malformed one, and a job whose objects expired."""
    stack = make_stack()
    service = stack.service()
    for job_id in ("0" * 32, "../../etc", "x" * 500):
        with pytest.raises(NotFound) as raised:
            service.describe(job_id)
        assert raised.value.code == "job_not_found"
    accepted = service.submit({"inputs": digit_batch(3)})
    for item in list(stack.store.list(f"{JOBS_PREFIX}{accepted['job_id']}/")):  # what the lifecycle rule does
        stack.s3.delete_object(Bucket=stack.settings.bucket, Key=item.key)
    with pytest.raises(NotFound, match="expired"):
        service.describe(accepted["job_id"])


def test_the_job_bucket_expires_objects_after_the_configured_days(make_stack: MakeStack) -> None:
    """The local bucket carries the deployed stack's lifecycle rule, with the retention from config."""
    stack = make_stack(retention_days=3)
    rules = stack.s3.get_bucket_lifecycle_configuration(Bucket=stack.settings.bucket)["Rules"]
    assert [(rule["Status"], rule["Expiration"]["Days"]) for rule in rules] == [("Enabled", 3)]


def test_the_job_bucket_stores_values_that_only_json_can_encode(make_stack: MakeStack) -> None:
    """A tensor model without a declared range takes integers past 64 bits, which orjson refuses: they are
    stored anyway (by json), not answered with a 500."""
    store = make_stack().store
    value = {"inputs": [[2**70, 0]]}
    assert store.put_json_once("jobs/big-integers/inputs/00000.json", value)
    assert store.get_json("jobs/big-integers/inputs/00000.json") == value


def test_a_jobs_times_are_when_it_was_created_started_and_finished(make_stack: MakeStack) -> None:
    """A job of over a second (its worker starts 1.2 s after the submit): created_at, started_at and finished_at are
    three different moments, in that order, each within what the test saw, to the millisecond."""
    stack = make_stack(shard_size=100)
    service = stack.service()
    before = datetime.now(UTC)
    accepted = service.submit({"inputs": digit_batch(300)})
    time.sleep(1.2)
    poller_started = datetime.now(UTC)
    stack.start_poller(workers=1)
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"))
    after = datetime.now(UTC)
    assert view["status"] == "succeeded", view
    created, started, finished = (_moment(view[key]) for key in ("created_at", "started_at", "finished_at"))
    assert before - MILLISECOND <= created < started < finished <= after
    assert started >= poller_started - MILLISECOND  # not the submit's time: the worker's first attempt's
    assert (finished - created).total_seconds() > 1
    assert service.describe(accepted["job_id"])["finished_at"] == view["finished_at"]  # a moment, not a poll's time


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
