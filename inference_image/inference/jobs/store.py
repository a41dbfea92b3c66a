"""The job bucket through a boto3 S3 client: JSON objects that are written once (a conditional put,
so the first writer wins and nobody overwrites it), listings, and presigned URLs for one object."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inference import json_bytes
from inference.errors import ServiceError


class JobStorageUnavailable(ServiceError):
    """S3 refused or failed a request that the client may retry."""

    status = 503
    default_code = "job_storage_unavailable"


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    last_modified: datetime


class JobStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def put_once(self, key: str, body: bytes) -> bool:
        """Write ``key`` unless it exists; True if this call wrote it, False if another writer had."""
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", IfNoneMatch="*")
        except self._s3.exceptions.ClientError as error:
            # 412: someone wrote it first. 409: a concurrent conditional write to the same key is in flight.
            if _error_code(error) in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
                return False
            raise
        return True

    def put_json_once(self, key: str, value: Any) -> bool:
        return self.put_once(key, json_bytes.dumps(value))

    def put(self, key: str, body: bytes) -> None:
        """Write ``key`` unconditionally: only for objects that describe an attempt, never for results."""
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none (never written, or expired)."""
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
        except self._s3.exceptions.NoSuchKey:
            return None
        body: bytes = response["Body"].read()
        return body

    def get_json(self, key: str) -> Any | None:
        body = self.get(key)
        return None if body is None else json.loads(body)

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is none."""
        try:
            response = self._s3.head_object(Bucket=self.bucket, Key=key)
        except self._s3.exceptions.ClientError as error:
            if _error_code(error) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(response["ContentLength"])

    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Every object under ``prefix``, in key order."""
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield StoredObject(item["Key"], int(item["Size"]), item["LastModified"])

    def presigned_get(self, key: str, expires_in: int, filename: str) -> str:
        url: str = self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=expires_in,
        )
        return url

    def presigned_put(self, key: str, expires_in: int, content_type: str) -> str:
        """A URL that lets its holder PUT this one key, with this content type, until it expires."""
        url: str = self._s3.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=expires_in,
        )
        return url


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))
