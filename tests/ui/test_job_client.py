"""The UI's job client uploads a batch too large for a request through the presigned POST exactly as the jobs
function hands it out: to the job bucket's regional virtual host, the form's fields first, the file last."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from inference.jobs.catalog import S3ModelCatalog
from inference.jobs.service import JobService
from inference.jobs.settings import JobSettings
from inference.jobs.store import JobStore, s3_client
from ui import job_client
from ui.api_client import ApiClient

BUCKET = "efs-inference-prod-jobs-0a1b2c3d"
REGION = "eu-south-2"  # an opt-in region, where the global host never works


class _ApiAnsweringUploads(ApiClient):
    """The API's answers for the calls a big submit makes: the jobs function's own upload form, then a job."""

    def __init__(self, service: JobService) -> None:
        super().__init__("https://api.example.com")
        self._service = service
        self.calls: list[tuple[str, str, Any]] = []
        self.uploads: list[dict[str, Any]] = []

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        self.calls.append((method, path, kwargs.get("json")))
        if path == "/jobs/uploads":
            self.uploads.append(self._service.create_upload())
            return self.uploads[-1]
        request = kwargs["json"]
        return {
            "job_id": request["inputs_upload"],
            "status": "queued",
            "progress": {"done": 0, "total": 10},
            "model": request["model"],
            "version": "1",
        }


@pytest.fixture
def regional_service(monkeypatch: pytest.MonkeyPatch) -> JobService:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for key, value in {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(key, value)
    s3 = s3_client()  # the jobs function's own client
    store, catalog = JobStore(s3, BUCKET), S3ModelCatalog(s3, "models")
    return JobService(JobSettings(bucket=BUCKET), store, None, catalog, default_model="digits")


def test_a_large_batch_is_posted_to_the_buckets_regional_host_with_the_forms_fields(
    regional_service: JobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One POST to <bucket>.s3.<region>.amazonaws.com carrying every field unchanged and the batch as `file`;
    then the job is submitted by reference."""
    posted: list[dict[str, Any]] = []

    def post(url: str, **kwargs: Any) -> requests.Response:
        posted.append({"url": url, **kwargs})
        response = requests.Response()
        response.status_code = 204
        return response

    monkeypatch.setattr(job_client.requests, "post", post)
    api = _ApiAnsweringUploads(regional_service)
    inputs = [[0.5] * 64] * 10
    monkeypatch.setattr(job_client, "INLINE_INPUT_BYTES", 100)  # so that this small batch goes as an upload
    job = job_client.JobClient(api).submit("digits", inputs)
    ((_, _, _), (_, path, request)) = api.calls
    (upload,) = api.uploads
    (sent,) = posted
    assert urlsplit(sent["url"]).netloc == f"{BUCKET}.s3.{REGION}.amazonaws.com"
    assert sent["data"] == upload["fields"]  # the signed form, unchanged: key, type, policy, SigV4 for the region
    assert f"/{REGION}/s3/aws4_request" in sent["data"]["x-amz-credential"]
    assert set(sent["files"]) == {"file"}  # requests sends it after the fields, as S3 requires
    assert sent["files"]["file"][1] == json.dumps(inputs).encode()
    assert (path, request) == ("/jobs", {"model": "digits", "inputs_upload": upload["upload_id"]})
    assert job.job_id == upload["upload_id"]
