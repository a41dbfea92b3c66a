"""Where `efs-models publish`, `list` and `rollback` act: the local stack's data folder, or a deployed stack.

- ``LocalModels``: the data folder that `make dev` serves (``--data-dir``), laid out as on EFS; publishing is
  ``inference.models.publishing`` itself.
- ``StackModels``: a stack's model bucket and publisher function, exactly as `pulumi up` uses them: the folder's
  files go to ``models/<name>/<version>/`` in the bucket (``inference.models.bucket_layout``), then one
  synchronous invocation of the publisher with ``{"bucket", "prefix", "name", "version", "content_sha256"}``
  copies them onto EFS, checks them and moves LATEST. A rollback invokes it for a version already there."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from inference.models.bucket_layout import MODELS_PREFIX, latest_key, name_prefix, version_prefix
from inference.models.integrity import file_sha256, folder_content_sha256, plain_files
from inference.models.metadata import METADATA_FILE, ModelProblems, check_name, check_version
from inference.models.publishing import publish_version, repoint
from inference.models.registry import ModelRegistry, natural_key

_SHA256_METADATA = "sha256"  # the user metadata key under which efs-models records each object's sha256


@dataclass(frozen=True)
class ModelSummary:
    name: str
    latest: str | None
    serving: str | None  # None where only the bucket is seen (a stack): EFS decides, from the same LATEST
    versions: list[str]
    problems: list[str] = field(default_factory=list)


class ModelTarget(Protocol):
    where: str

    def publish(self, folder: Path, name: str, version: str) -> str: ...

    def summaries(self) -> list[ModelSummary]: ...

    def rollback(self, name: str, version: str) -> str: ...


class LocalModels:
    def __init__(self, data_dir: Path) -> None:
        self.models_dir = Path(data_dir) / "models"
        self.where = str(self.models_dir)

    def publish(self, folder: Path, name: str, version: str) -> str:
        return str(publish_version(folder, self.models_dir, name, version))

    def summaries(self) -> list[ModelSummary]:
        listing = ModelRegistry(self.models_dir, "").list_models()["models"]
        return [
            ModelSummary(
                name=model["name"],
                latest=model["latest"],
                serving=model["serving"],
                versions=model["versions"],
                problems=[f"version {item['version']}: {item['reason']}" for item in model["unavailable"]],
            )
            for model in listing
        ]

    def rollback(self, name: str, version: str) -> str:
        return str(repoint(self.models_dir, name, version))


class StackModels:
    def __init__(self, s3: Any, lambda_client: Any, bucket: str, function: str) -> None:
        self._s3 = s3
        self._lambda = lambda_client
        self.bucket = bucket
        self.function = function
        self.where = f"s3://{bucket} and the publisher function {function}"

    def publish(self, folder: Path, name: str, version: str) -> str:
        prefix = version_prefix(check_name(name), check_version(version))
        files = {path.name: path for path in plain_files(folder)}
        digests = {filename: file_sha256(path) for filename, path in files.items()}
        existing = self._objects(prefix)
        problems = [
            f"s3://{self.bucket}/{prefix}{filename} is there but not in {folder}"
            for filename in sorted(set(existing) - set(files))
        ]
        uploads = []
        for filename, path in files.items():
            if filename not in existing:
                uploads.append(filename)
            elif not self._same_object(prefix + filename, existing[filename], path, digests[filename]):
                problems.append(f"s3://{self.bucket}/{prefix}{filename} holds other bytes than {path}")
        if problems:
            raise ModelProblems(
                [
                    f"version {version} of {name} is already in the bucket with other files (versions are immutable: "
                    "publish a new version):",
                    *problems,
                ]
            )
        for filename in uploads:
            self._s3.upload_file(
                str(files[filename]),
                self.bucket,
                prefix + filename,
                ExtraArgs={"Metadata": {_SHA256_METADATA: digests[filename]}},
            )
        event = {
            "bucket": self.bucket,
            "prefix": prefix,
            "name": name,
            "version": version,
            "content_sha256": folder_content_sha256(folder),
        }
        try:
            result = self._invoke(event)
        except ModelProblems:
            # A refused version must not stay in the bucket, where jobs would find its metadata.
            for filename in uploads:
                self._s3.delete_object(Bucket=self.bucket, Key=prefix + filename)
            raise
        return str(result.get("path", prefix))

    def summaries(self) -> list[ModelSummary]:
        summaries = []
        for name in self._folders(MODELS_PREFIX):
            versions = sorted(self._folders(name_prefix(name)), key=natural_key, reverse=True)
            latest = self._text(latest_key(name))
            problems = [] if latest is None or latest in versions else [f"LATEST names {latest}, not in the bucket"]
            summaries.append(ModelSummary(name, latest, None, versions, problems))
        return summaries

    def rollback(self, name: str, version: str) -> str:
        prefix = version_prefix(check_name(name), check_version(version))
        if METADATA_FILE not in self._objects(prefix):
            raise ModelProblems(f"model {name!r} has no version {version!r} in s3://{self.bucket}/{name_prefix(name)}")
        result = self._invoke({"bucket": self.bucket, "prefix": prefix, "name": name, "version": version})
        return str(result.get("path", prefix))

    # --- S3 and Lambda ----------------------------------------------------------------------------

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        response = self._lambda.invoke(
            FunctionName=self.function, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
        )
        payload = response["Payload"].read()
        try:
            body = json.loads(payload) if payload else {}
        except ValueError:
            body = {"errorMessage": payload.decode("utf-8", "replace")}
        if response.get("FunctionError"):
            message = str(body.get("errorMessage", body)) if isinstance(body, dict) else str(body)
            kind = body.get("errorType", "error") if isinstance(body, dict) else "error"
            raise ModelProblems([f"the publisher function refused it ({kind}):", *message.split("; ")])
        return body if isinstance(body, dict) else {}

    def _objects(self, prefix: str) -> dict[str, dict[str, Any]]:
        """File name -> listing entry for the objects directly under ``prefix``."""
        found: dict[str, dict[str, Any]] = {}
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                filename = item["Key"][len(prefix) :]
                if filename and "/" not in filename:
                    found[filename] = item
        return found

    def _folders(self, prefix: str) -> list[str]:
        names: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            names.extend(item["Prefix"][len(prefix) :].rstrip("/") for item in page.get("CommonPrefixes", []))
        return names

    def _text(self, key: str) -> str | None:
        try:
            return str(self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode().strip())
        except self._s3.exceptions.NoSuchKey:
            return None

    def _same_object(self, key: str, listed: dict[str, Any], path: Path, digest: str) -> bool:
        """Whether the object holds the file's bytes: by the sha256 efs-models recorded, the ETag of a single-part
        upload (its MD5), or else by reading it."""
        if int(listed.get("Size", -1)) != path.stat().st_size:
            return False
        head = self._s3.head_object(Bucket=self.bucket, Key=key)
        recorded = head.get("Metadata", {}).get(_SHA256_METADATA)
        if recorded:
            return bool(recorded == digest)
        etag = str(listed.get("ETag", "")).strip('"')
        if etag and "-" not in etag:
            with open(path, "rb") as stream:
                return hashlib.file_digest(stream, "md5").hexdigest() == etag
        body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        hasher = hashlib.sha256()
        for block in iter(lambda: body.read(1 << 20), b""):
            hasher.update(block)
        return hasher.hexdigest() == digest
