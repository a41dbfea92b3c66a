"""The local stand-in for Lambda's SQS event source mappings: long-polls the jobs queue and feeds the
worker handler (``inference.jobs.worker.handler``) SQS-shaped events, one message per invocation, in
a pool of worker processes that dies and times out like Lambda (local.workers); and, as the stack's
second mapping does, long-polls the dead-letter queue and feeds the dead-letter consumer
(``inference.jobs.dead_letters.handler``) the same way.

As on AWS: a message is deleted only when its invocation succeeded without reporting it in
``batchItemFailures``; otherwise (an error, a timeout, a killed worker) it comes back after the
queue's visibility timeout, and SQS itself moves it to the dead-letter queue after the last attempt.

    python -m local.job_poller --workers 2 --dead-letters DLQ_URL   # the rest from the environment (JOBS_*, ...)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from inference.jobs.settings import DEAD_LETTER_TIMEOUT_SECONDS, JobSettings
from local.workers import InvocationFailed, WorkerPool

WORKER_HANDLER = "inference.jobs.worker.handler"
DEAD_LETTER_HANDLER = "inference.jobs.dead_letters.handler"
_WAIT_SECONDS = 1  # long-poll wait: short, so that a stop is noticed quickly
_INVOKE_SLACK_SECONDS = 5.0
log = logging.getLogger("local.job_poller")


def sqs_event(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda gives a function for one SQS message."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        ]
    }


class JobPoller:
    """``workers`` pollers, each with its own process of ``handler``: the mapping's maximum concurrency."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        workers: int,
        function_timeout: float,
        env: dict[str, str],
        *,
        handler: str = WORKER_HANDLER,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self._queue_arn = attributes["QueueArn"]
        self._region = sqs.meta.region_name
        self._function_timeout = function_timeout
        self._pool = WorkerPool(handler, workers, function_timeout, max_queue=0, env=env)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._poll, daemon=True) for _ in range(workers)]
        self.delivered = 0  # invocations so far, for tests and benchmarks

    def start(self) -> JobPoller:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(_WAIT_SECONDS + self._function_timeout + _INVOKE_SLACK_SECONDS)
        self._pool.close()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                response = self._sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=1,
                    WaitTimeSeconds=_WAIT_SECONDS,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception as error:  # the server stopping under us, most likely
                log.warning("receive failed: %s", error)
                self._stop.wait(_WAIT_SECONDS)
                continue
            for message in response.get("Messages", []):
                self._deliver(message)

    def _deliver(self, message: dict[str, Any]) -> None:
        event = json.dumps(sqs_event(message, self._queue_arn, self._region))
        deadline = time.monotonic() + self._function_timeout + _INVOKE_SLACK_SECONDS
        self.delivered += 1
        try:
            invocation = self._pool.invoke(event, deadline)
            failures = json.loads(invocation.payload).get("batchItemFailures", [])
        except InvocationFailed as error:
            log.warning(
                "message %s: the invocation failed (%s); it comes back after the visibility timeout",
                message["MessageId"],
                error,
            )
            return
        if any(failure.get("itemIdentifier") == message["MessageId"] for failure in failures):
            log.info("message %s reported as failed; it comes back after the visibility timeout", message["MessageId"])
            return
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.job_poller", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="concurrent worker processes (the maximum concurrency)")
    parser.add_argument("--dead-letters", default="", help="the dead-letter queue's URL, to feed its consumer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import boto3

    settings = JobSettings.from_env()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sqs, env = boto3.client("sqs"), dict(os.environ)
    pollers = [JobPoller(sqs, settings.queue_url, args.workers, float(settings.worker_timeout_seconds), env).start()]
    if args.dead_letters:
        consumer = JobPoller(sqs, args.dead_letters, 1, DEAD_LETTER_TIMEOUT_SECONDS, env, handler=DEAD_LETTER_HANDLER)
        pollers.append(consumer.start())
    stop.wait()
    for poller in pollers:
        poller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
