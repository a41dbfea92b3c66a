"""The job bucket through a boto3 S3 client: JSON objects that are written once (a conditional put,
so the first writer wins and nobody overwrites it), listings, and presigned URLs for one object."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inference import json_bytes

# A multipart upload's parts must be at least 5 MiB (but the last); a written-once object is sent in parts of
# this size, so that its writer holds one part at a time, whatever the object's size.
PART_BYTES = 8 * 1024 * 1024
_WRITTEN_BY_ANOTHER = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
# S3 answers 403 rather than 404 for a missing key to a caller that may not list the bucket.
_MISSING = ("404", "NoSuchKey", "NotFound", "403", "AccessDenied", "Forbidden")


def s3_client() -> Any:
    """A client that signs for the region it runs in (Lambda's AWS_REGION: every function of the stack is in
    the job bucket's region) and names buckets as virtual hosts, ``<bucket>.s3.<region>.amazonaws.com``.
    boto3's default presigns SigV2 URLs for the global host, which S3 answers with a 307 to the regional
    one for a bucket younger than a day, where the signature no longer holds (and never in opt-in regions).
    With AWS_ENDPOINT_URL (the local stack) the endpoint is an IP address, and botocore names the bucket in
    the path instead."""
    import boto3  # in the Lambda base image
    from botocore.config import Config

    addressing = {"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"}
    return boto3.client("s3", config=Config(signature_version="s3v4", s3=addressing))


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class ObjectHead:
    size: int
    etag: str
    last_modified: datetime
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadForm:
    """A presigned POST: the URL to send a multipart/form-data request to, and the fields it must carry
    (before the file field)."""

    url: str
    fields: dict[str, str]


class ObjectChanged(Exception):
    """The object was replaced between the HEAD that measured it and the read."""


class JobStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def put_once(self, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> bool:
        """Write ``key`` unless it exists; True if this call wrote it, False if another writer had."""
        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                Metadata=dict(metadata or {}),
                IfNoneMatch="*",
            )
        except self._s3.exceptions.ClientError as error:
            # 412: someone wrote it first. 409: a concurrent conditional write to the same key is in flight.
            if _error_code(error) in _WRITTEN_BY_ANOTHER:
                return False
            raise
        return True

    def put_json_once(self, key: str, value: Any) -> bool:
        return self.put_once(key, json_bytes.dumps(value))

    def put_once_from(self, key: str, chunks: Iterable[bytes], metadata: Mapping[str, str] | None = None) -> bool:
        """Write the concatenation of ``chunks`` to ``key`` unless it exists, holding at most one part
        (``PART_BYTES``) and one chunk at a time: a multipart upload whose completion is conditional, or one
        put when it all fits in a part. True if this call wrote it."""
        parts: list[dict[str, Any]] = []
        buffer = bytearray()
        upload_id = ""
        try:
            for chunk in chunks:
                buffer += chunk
                while len(buffer) >= PART_BYTES:
                    upload_id = (
                        upload_id
                        or self._s3.create_multipart_upload(
                            Bucket=self.bucket, Key=key, ContentType="application/json", Metadata=dict(metadata or {})
                        )["UploadId"]
                    )
                    parts.append(self._upload_part(key, upload_id, len(parts) + 1, bytes(buffer[:PART_BYTES])))
                    del buffer[:PART_BYTES]
            if not upload_id:
                return self.put_once(key, bytes(buffer), metadata)
            if buffer:
                parts.append(self._upload_part(key, upload_id, len(parts) + 1, bytes(buffer)))
            self._s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, IfNoneMatch="*"
            )
        except self._s3.exceptions.ClientError as error:
            self._abort(key, upload_id)
            if _error_code(error) in _WRITTEN_BY_ANOTHER:
                return False
            raise
        except BaseException:
            self._abort(key, upload_id)
            raise
        return True

    def _upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        response = self._s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        return {"ETag": response["ETag"], "PartNumber": number}

    def _abort(self, key: str, upload_id: str) -> None:
        """Drop an unfinished upload's parts now (the bucket's lifecycle rule would after a day)."""
        if not upload_id:
            return
        with contextlib.suppress(self._s3.exceptions.ClientError):  # else the lifecycle rule aborts it
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

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

    def read_measured(self, key: str, head: ObjectHead) -> bytes:
        """The bytes of the very object ``head`` describes, and no more than it said: ObjectChanged if the
        key was written again since (a read bounded by a HEAD must not read whatever was swapped in)."""
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key, IfMatch=head.etag)
        except self._s3.exceptions.ClientError as error:
            if _error_code(error) in ("PreconditionFailed", "412", *_MISSING):
                raise ObjectChanged(key) from None
            raise
        body: bytes = response["Body"].read(head.size + 1)
        response["Body"].close()
        if len(body) != head.size:
            raise ObjectChanged(key)
        return body

    def head(self, key: str) -> ObjectHead | None:
        """The object's size, ETag, time and user metadata, or None when there is none."""
        try:
            response = self._s3.head_object(Bucket=self.bucket, Key=key)
        except self._s3.exceptions.ClientError as error:
            if _error_code(error) in _MISSING:
                return None
            raise
        return ObjectHead(
            int(response["ContentLength"]),
            str(response["ETag"]),
            response["LastModified"],
            dict(response.get("Metadata") or {}),
        )

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is none."""
        head = self.head(key)
        return None if head is None else head.size

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

    def presigned_post(self, key: str, expires_in: int, content_type: str, max_bytes: int) -> UploadForm:
        """A form that lets its holder POST this one key, of this content type and of 1 to ``max_bytes``
        bytes (S3 refuses any other size: a presigned PUT cannot bound it), until it expires."""
        form = self._s3.generate_presigned_post(
            self.bucket,
            key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return UploadForm(str(form["url"]), {name: str(value) for name, value in form["fields"].items()})


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))
