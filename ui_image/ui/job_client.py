"""The jobs part of the API (POST /jobs, GET /jobs/{id}, POST /jobs/uploads) for the UI, through the
session's ApiClient: the same base URL, timeouts, errors and request signing as every other call.
Inputs too large for one request body go to S3 through the presigned POST the API hands out: its URL
(the job bucket's regional host) and form fields exactly as given, the file last."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

from ui.api_client import ApiClient, ApiError

# Lambda takes at most 6 MB per request; stay clear of it, the envelope included.
INLINE_INPUT_BYTES = 5_000_000
_UPLOAD_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Job:
    job_id: str
    status: str  # queued, running, succeeded, failed
    done: int
    total: int
    model: str
    version: str
    result: Any = None  # inline when small
    result_url: str | None = None  # a presigned download otherwise
    error: str | None = None
    timestamps: dict[str, str] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")


class JobClient:
    def __init__(self, api: ApiClient) -> None:
        self._api = api

    def available(self) -> bool:
        """Whether this stack runs jobs: an unknown job is a 404 `job_not_found` there, and a 404 `jobs_disabled`
        where jobs are off."""
        try:
            self._api._call("GET", f"/jobs/{'0' * 32}")
        except ApiError as error:
            if error.code == "jobs_disabled":
                return False
            if error.code == "job_not_found":
                return True
            raise
        return True

    def submit(self, model: str, inputs: list[Any], version: str | None = None) -> Job:
        request: dict[str, Any] = {"model": model}
        if version is not None:
            request["version"] = version
        body = json.dumps(inputs).encode()
        if len(body) <= INLINE_INPUT_BYTES:
            request["inputs"] = inputs
        else:
            request["inputs_upload"] = self._upload(body)
        return _job(self._api._call("POST", "/jobs", json=request))

    def status(self, job_id: str) -> Job:
        return _job(self._api._call("GET", f"/jobs/{job_id}"))

    def _upload(self, body: bytes) -> str:
        upload = self._api._call("POST", "/jobs/uploads")
        if len(body) > int(upload["max_bytes"]):
            raise ApiError(
                f"The batch is {len(body):,} bytes; the API takes uploads of at most {upload['max_bytes']:,}."
            )
        file = (f"{upload['upload_id']}.json", body, "application/json")
        try:
            response = requests.post(
                upload["url"],
                data=upload["fields"],  # requests sends the fields first, then the files
                files={"file": file},  # S3's name for a POST's file field
                timeout=_UPLOAD_TIMEOUT_SECONDS,
            )
        except requests.RequestException:
            raise ApiError("The upload to S3 failed; try again.") from None
        if response.status_code >= 300:
            raise ApiError(f"S3 refused the upload (HTTP {response.status_code}).", status=response.status_code)
        return str(upload["upload_id"])


def _job(body: Any) -> Job:
    try:
        error = body.get("error")
        return Job(
            job_id=str(body["job_id"]),
            status=str(body["status"]),
            done=int(body["progress"]["done"]),
            total=int(body["progress"]["total"]),
            model=str(body["model"]),
            version=str(body["version"]),
            result=body.get("result"),
            result_url=body.get("result_url"),
            error=None if error is None else str(error.get("message", error)),
            timestamps={key: str(body[key]) for key in ("created_at", "started_at", "finished_at") if key in body},
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ApiError("The API answered with a job this UI does not understand.") from None


def for_api(api: ApiClient) -> JobClient:
    """The job client over this session's API client (tests replace this)."""
    return JobClient(api)
