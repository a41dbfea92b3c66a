"""At least once, never twice: killed workers, jobs that fail every attempt, duplicate deliveries."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from inference.jobs.layout import JobKeys
from inference.jobs.messages import ShardMessage
from tests.jobs.conftest import MakeStack
from tests.jobs.helpers import digit_batch, sync_outputs, wait_for

pytestmark = pytest.mark.slow


def _wait_until(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_a_worker_killed_mid_job_is_retried_and_the_job_finishes_once_with_the_same_result(
    make_stack: MakeStack,
) -> None:
    """SIGKILL during the first attempt: the message returns after the visibility timeout, the second
    attempt finishes, and the result equals the synchronous answers."""
    stack = make_stack(shard_size=4000, worker_timeout_seconds=8, inline_result_bytes=8 * 1024 * 1024)
    service = stack.service()
    inputs = digit_batch(4000, seed=1)
    accepted = service.submit({"inputs": inputs})
    keys = JobKeys(accepted["job_id"])
    stack.start_poller(workers=1, MAX_BATCH="1")  # one predict call per input: a slow shard to kill
    _wait_until(lambda: stack.store.size(keys.attempt(0, 1)) is not None)
    (worker,) = multiprocessing.active_children()
    os.kill(worker.pid or 0, signal.SIGKILL)
    assert stack.store.size(keys.outputs(0)) is None  # killed mid-job, before any output
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"), timeout=150)
    assert view["status"] == "succeeded", view
    assert view["retries"] == 1
    # The worker ran batches of one (MAX_BATCH=1): /predict with batches of one gives these very numbers.
    assert view["result"]["outputs"] == sync_outputs(stack.data_dir, inputs, batch=1)


def _corrupt_model(data_dir: Path) -> None:
    (model_file,) = (data_dir / "models" / "digits").glob("*/model.onnx")
    size = model_file.stat().st_size
    model_file.write_bytes(b"\0" * size)  # the size still matches its metadata, the sha256 does not


def test_a_job_failing_every_attempt_is_failed_with_the_reason_and_its_message_dead_lettered(
    make_stack: MakeStack,
) -> None:
    """Two attempts on a corrupt model: state failed, the error says why, the message is in the DLQ."""
    stack = make_stack(max_attempts=2, worker_timeout_seconds=2)
    _corrupt_model(stack.data_dir)
    service = stack.service()
    accepted = service.submit({"inputs": digit_batch(10)})
    stack.start_poller(workers=1)
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"), timeout=60)
    assert view["status"] == "failed"
    assert view["error"]["code"] == "attempts_exhausted"
    assert "attempt 2 of 2" in view["error"]["message"]
    assert "corrupt" in view["error"]["message"]
    assert view["retries"] == 1
    deadline = time.monotonic() + 30
    dead: list[dict[str, object]] = []
    while not dead and time.monotonic() < deadline:
        dead = stack.dead_letters(wait_seconds=1)
    assert [ShardMessage.from_body(str(message["Body"])) for message in dead] == [ShardMessage(accepted["job_id"], 0)]


def test_a_model_that_refuses_the_job_fails_it_at_once_without_retries(make_stack: MakeStack) -> None:
    """A deterministic refusal (the pinned version is gone from EFS) fails the job on its first attempt."""
    stack = make_stack(max_attempts=3, worker_timeout_seconds=1)
    service = stack.service()
    accepted = service.submit({"inputs": digit_batch(10)})
    (version_dir,) = (stack.data_dir / "models" / "digits").glob("*/model.onnx")
    version_dir.parent.rename(version_dir.parent.with_name("gone"))
    stack.start_poller(workers=1)
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"), timeout=30)
    assert view["status"] == "failed"
    assert view["error"]["code"] == "model_refused"
    assert view["retries"] == 0


def test_a_duplicate_delivery_leaves_one_result(make_stack: MakeStack) -> None:
    """The same shard delivered twice to two workers: one result, equal to the synchronous answers, written once."""
    stack = make_stack(shard_size=500, inline_result_bytes=4 * 1024 * 1024)
    service = stack.service()
    inputs = digit_batch(500, seed=2)
    accepted = service.submit({"inputs": inputs})
    stack.sqs.send_message(QueueUrl=stack.settings.queue_url, MessageBody=ShardMessage(accepted["job_id"], 0).to_body())
    poller = stack.start_poller(workers=2)
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"))
    keys = JobKeys(accepted["job_id"])
    first = stack.s3.head_object(Bucket=stack.settings.bucket, Key=keys.result)
    _wait_until(lambda: poller.delivered >= 2)
    attributes = stack.sqs.get_queue_attributes(QueueUrl=stack.settings.queue_url, AttributeNames=["All"])
    _wait_until(
        lambda: (
            stack.sqs.get_queue_attributes(QueueUrl=stack.settings.queue_url, AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessagesNotVisible"
            ]
            == "0"
        )
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
    again = stack.s3.head_object(Bucket=stack.settings.bucket, Key=keys.result)
    assert (again["ETag"], again["LastModified"]) == (first["ETag"], first["LastModified"])
    assert view["result"]["outputs"] == sync_outputs(stack.data_dir, inputs)
    assert service.describe(accepted["job_id"])["status"] == "succeeded"


@pytest.mark.parametrize(
    "broken_env",
    [{"JOBS_SHARD_SIZE": "0"}, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}],
    ids=["worker-cannot-start", "no-route-to-s3"],
)
def test_a_shard_dead_lettered_without_a_word_fails_its_job_and_its_message_is_kept(
    make_stack: MakeStack, broken_env: dict[str, str]
) -> None:
    """Every attempt dies before it can write to S3 (the worker's init fails, or S3 cannot be reached): SQS moves the
    message to the dead-letter queue, whose consumer fails the job with a reason and keeps a copy of the message
    beside the job's state before the queue deletes it."""
    stack = make_stack(max_attempts=2, worker_timeout_seconds=2)
    service = stack.service()
    accepted = service.submit({"inputs": digit_batch(10)})
    keys = JobKeys(accepted["job_id"])
    stack.start_poller(workers=1, **broken_env)
    stack.start_dead_letter_consumer()
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"), timeout=90)
    assert view["status"] == "failed", view
    error = view["error"]
    assert error["code"] == "attempts_exhausted"
    assert "shard 0" in error["message"] and "dead-letter queue" in error["message"]
    assert "could not start" in error["message"]  # what can end an attempt without a word
    assert view["created_at"] < view["finished_at"]
    copy = stack.store.get_json(error["dead_letter"])
    assert copy is not None
    assert error["dead_letter"].startswith(f"{keys.prefix}dead-letters/00000-")
    assert ShardMessage.from_body(copy["body"]) == ShardMessage(accepted["job_id"], 0)
    assert int(copy["attributes"]["ApproximateReceiveCount"]) > 2  # delivered twice, then dead-lettered
    # AND the queue no longer holds it: the copy is what stays
    _wait_until(lambda: stack.dead_letters(wait_seconds=1) == [], timeout=30)
