"""Lambda handler (same image, ``image_config.command = ["inference.models.publisher.handler"]``) that copies
a model version from S3 onto EFS through ``inference.models.publishing``, so it lands atomically, checked.

Event: ``{"bucket": str, "prefix": str, "name": str, "version": str, "content_sha256"?: str}``, where the
objects directly under ``prefix`` are the model folder's files (model.onnx, metadata.json, ...) and
``content_sha256``, when given, is their content checksum (``inference.models.integrity``): files that changed
in the bucket meanwhile are refused. `pulumi up` and `efs-models publish` send this very event.
Result: ``{"name", "version", "path", "files", "content_sha256"}``. Invoking it again for a version that is
already there with the same files changes nothing but re-points LATEST at it: that is a rollback. A version
that fails the checks raises PublishError listing every problem, and LATEST does not move.

Once LATEST has moved on EFS, the publisher writes the version to ``models/<name>/LATEST`` in the bucket
(``inference.models.bucket_layout``), where the jobs' model catalog reads which version a new job runs."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference.layout import act_as_model_owner, share_messages_with_group
from inference.models.bucket_layout import latest_key
from inference.models.integrity import plain_files, record_checksum
from inference.models.metadata import METADATA_FILE, MODEL_FILE, is_valid_name
from inference.models.publishing import PublishError, durable_file, publish_files
from inference.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

_EVENT_FIELDS = ("bucket", "prefix", "name", "version")
# The function's timeout (infra gives it this; `efs-models publish` waits this long for an answer): not behind the
# API, so not capped at 30 s. Downloading, checking and probing a large model takes a while.
PUBLISHER_TIMEOUT_SECONDS = 300


@functools.cache
def logger() -> Logger:
    """Powertools' Logger, not the stdlib's: the Lambda runtime leaves the root logger at WARNING, so INFO lines of
    a plain logging.getLogger() never reach CloudWatch; this one writes JSON at LOG_LEVEL (which the stack sets).
    Made on first use, as Powertools imports botocore, which importing this module must not."""
    from aws_lambda_powertools import Logger

    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "efs-inference"))


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    import boto3  # in the Lambda base image; imported here so the API handler never pays for it

    layout = Settings.from_env().layout
    act_as_model_owner()
    share_messages_with_group(layout)  # the API function's identity writes messages/, never models/
    return publish_from_s3(event, boto3.client("s3"), layout.models_dir)


def publish_from_s3(event: object, s3: Any, models_dir: Path) -> dict[str, Any]:
    """Download every object under the event's prefix into a staged version, then publish it."""
    bucket, prefix, name, version = _event_fields(event)
    expected = event.get("content_sha256") if isinstance(event, dict) else None
    if expected is not None and not isinstance(expected, str):
        raise PublishError(f"the event's 'content_sha256' must be a string, got {expected!r}")
    files = _files_under(s3, bucket, prefix)

    def download_all(stage: Path) -> None:
        for filename, key in files.items():
            with durable_file(stage / filename) as target:
                s3.download_fileobj(bucket, key, target)

    path = publish_files(models_dir, name, version, download_all, content_sha256=expected)
    s3.put_object(Bucket=bucket, Key=latest_key(name), Body=version.encode("ascii"), ContentType="text/plain")
    count = len(plain_files(path))
    logger().info(
        "published model %s version %s from s3://%s/%s (%d files)",
        name,
        version,
        bucket,
        prefix,
        count,
        extra={"model": name, "version": version, "files": count},
    )
    checksum = record_checksum(path)
    return {"name": name, "version": version, "path": str(path), "files": count, "content_sha256": checksum}


def _event_fields(event: object) -> tuple[str, str, str, str]:
    if not isinstance(event, dict):
        raise PublishError(f"the event must be an object with {', '.join(_EVENT_FIELDS)}")
    values = [event.get(field) for field in _EVENT_FIELDS]
    for field, value in zip(_EVENT_FIELDS, values, strict=True):
        if not isinstance(value, str) or (field != "prefix" and not value):
            raise PublishError(f"the event's {field!r} must be a non-empty string, got {value!r}")
    bucket, prefix, name, version = (str(value) for value in values)
    # "models/abc" must not also match "models/abcdef/...".
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix, name, version


def _files_under(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    """File name -> object key for the objects directly under ``prefix``."""
    files: dict[str, str] = {}
    request = {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = s3.list_objects_v2(**request)
        for item in page.get("Contents", []):
            filename = item["Key"][len(prefix) :]
            if not filename:
                continue  # a "folder" marker object
            if not is_valid_name(filename):
                raise PublishError(f"s3://{bucket}/{item['Key']} is not a plain file name; publish a flat folder")
            files[filename] = item["Key"]
        if not page.get("IsTruncated"):
            break
        request["ContinuationToken"] = page["NextContinuationToken"]
    missing = {MODEL_FILE, METADATA_FILE} - set(files)
    if missing:
        raise PublishError(f"s3://{bucket}/{prefix} lacks {', '.join(sorted(missing))}")
    return files
