"""The peak memory of submitting one uploaded job, measured in a process of its own (run as a module).

The jobs function's own service (``inference.api.jobs.job_service``, from the environment: JOBS_*,
MODEL_BUCKET, AWS_ENDPOINT_URL) first takes one small inline job, so that every code path a submit uses is
loaded; then it submits ``inputs_upload`` = the upload id given, measured by ``testing.peak_child.Meter``.
Prints JSON: the resident set before that submit (``warm_mb``), the submit's own peak above it
(``request_mb``), and the answer's status and error code.

    python -m testing.job_submit_peak UPLOAD_ID --warm-up JSON"""

from __future__ import annotations

import argparse
import json
import sys

from inference.api.jobs import job_service
from inference.errors import ServiceError
from testing.peak_child import Meter


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("upload_id")
    parser.add_argument("--warm-up", required=True, help="the inline inputs (JSON) of the first, small job")
    args = parser.parse_args(argv)
    service = job_service()
    service.submit({"inputs": json.loads(args.warm_up)})
    with Meter() as meter:
        try:
            service.submit({"inputs_upload": args.upload_id})
            status, code = 202, ""
        except ServiceError as error:
            status, code = error.status, error.code
    json.dump({**meter.result(status), "code": code}, sys.stdout)


if __name__ == "__main__":
    main()
