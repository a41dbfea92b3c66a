"""The jobs part of the HTTP layer: request parsing and status codes for /jobs, on plain values.
The work is in ``inference.jobs.service``; boto3 is imported on first use, so the message routes
never pay for it. On a stack without jobs every operation answers 404 ``jobs_disabled``."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from inference.api import http_io
from inference.jobs.service import JobService

Answer = tuple[int, dict[str, Any], dict[str, str]]


@functools.cache
def job_service() -> JobService:
    import boto3  # in the Lambda base image; locally it talks to moto's server through AWS_ENDPOINT_URL

    from inference.jobs.catalog import model_catalog
    from inference.jobs.settings import JobSettings
    from inference.jobs.store import JobStore, s3_client
    from inference.settings import Settings

    settings = JobSettings.from_env()  # JobsDisabled (404) on a stack without jobs
    common = Settings.from_env(os.environ)
    s3 = s3_client()  # presigns for the bucket's region, as a virtual host
    return JobService(
        settings,
        JobStore(s3, settings.bucket),
        boto3.client("sqs"),
        model_catalog(s3, settings.model_bucket, common.layout.models_dir),
        default_model=common.default_model,
    )


def create_upload() -> Answer:
    return 201, job_service().create_upload(), {}


def submit(headers: Mapping[str, str], body: bytes) -> Answer:
    service = job_service()  # first, so that a stack without jobs says so whatever the body
    http_io.require_json(headers)
    service.check_inline_body(body)
    accepted = service.submit(http_io.parse_json_object(body))
    return 202, accepted, {"Location": accepted["status_url"]}


def status(job_id: str) -> Answer:
    return 200, job_service().describe(unquote(job_id)), {}
