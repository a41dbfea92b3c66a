"""Model metadata for checking a job at submit, and the version the job is pinned to: the version each model
serves when the job is accepted (its LATEST), or the one the request names.

Two sources, the same answers:

- ``S3ModelCatalog``, on AWS: the accepting function runs outside the VPC, without EFS, so it reads the model
  bucket that every publish goes through (`pulumi up` and `efs-models publish` upload there, then invoke the
  publisher), in the layout of ``inference.models.bucket_layout``. ``models/<name>/LATEST`` is written by the
  publisher once LATEST has moved on EFS, so a rollback moves it too; a bucket without it (published before it
  existed) falls back to the newest version there.
- ``FolderModelCatalog``, in the local stack: the accepting function runs beside the data folder, so it reads the
  models there through the registry's own rules, and a model published with `efs-models publish --data-dir` while
  `make dev` runs can take jobs at once.

A job is pinned to the version it was checked against, so every shard and every retry runs that very version,
whatever LATEST says meanwhile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from inference.errors import NotFound
from inference.models import bucket_layout
from inference.models.bucket_layout import latest_key, name_prefix, version_prefix
from inference.models.metadata import METADATA_FILE, MetadataError, ModelMetadata, check_name, check_version
from inference.models.registry import ModelRegistry, natural_key

MODELS_PREFIX = bucket_layout.MODELS_PREFIX  # what infra's job policies grant reads under


class ModelCatalog(Protocol):
    def metadata(self, name: object, version: object | None) -> ModelMetadata:
        """The metadata of ``version`` of model ``name`` (the version it serves when None), or NotFound."""
        ...


def model_catalog(s3: Any, model_bucket: str, models_dir: Path) -> ModelCatalog:
    """The catalog for this function: the data folder when it is mounted here (the local stack), else the bucket."""
    return FolderModelCatalog(models_dir) if models_dir.is_dir() else S3ModelCatalog(s3, model_bucket)


class S3ModelCatalog:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def metadata(self, name: object, version: object | None) -> ModelMetadata:
        name = check_name(name)
        resolved = self._serving_version(name) if version is None else check_version(version)
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=f"{version_prefix(name, resolved)}{METADATA_FILE}")
        except self._s3.exceptions.NoSuchKey:
            if version is None:
                raise NotFound(f"unknown model {name!r}", "model_not_found") from None
            raise NotFound(f"model {name!r} has no version {resolved!r}", "version_not_found") from None
        try:
            metadata = ModelMetadata.from_dict(json.loads(response["Body"].read()))
        except (ValueError, MetadataError) as error:
            raise NotFound(f"model {name!r} version {resolved!r} has no valid metadata: {error}") from error
        # The folder name is what is served and reported, as on EFS.
        return metadata if metadata.version == resolved else _with_version(metadata, resolved)

    def _serving_version(self, name: str) -> str:
        try:
            latest = self._s3.get_object(Bucket=self._bucket, Key=latest_key(name))["Body"].read().decode().strip()
        except self._s3.exceptions.NoSuchKey:
            return self._newest_version(name)
        return check_version(latest)

    def _newest_version(self, name: str) -> str:
        versions: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=name_prefix(name), Delimiter="/"):
            versions.extend(item["Prefix"].rstrip("/").rsplit("/", 1)[-1] for item in page.get("CommonPrefixes", []))
        if not versions:
            raise NotFound(f"unknown model {name!r}", "model_not_found")
        return max(versions, key=natural_key)


class FolderModelCatalog:
    def __init__(self, models_dir: Path) -> None:
        self._models_dir = Path(models_dir)

    def metadata(self, name: object, version: object | None) -> ModelMetadata:
        name = check_name(name)
        registry = ModelRegistry(self._models_dir, name)  # cheap: nothing is loaded, metadata is read on demand
        resolved = registry.serving_version(name) if version is None else check_version(version)
        try:
            metadata = ModelMetadata.read(self._models_dir / name / resolved)
        except FileNotFoundError:
            raise NotFound(f"model {name!r} has no version {resolved!r}", "version_not_found") from None
        except (OSError, MetadataError) as error:
            raise NotFound(f"model {name!r} version {resolved!r} has no valid metadata: {error}") from error
        return metadata if metadata.version == resolved else _with_version(metadata, resolved)


def _with_version(metadata: ModelMetadata, version: str) -> ModelMetadata:
    from dataclasses import replace

    return replace(metadata, version=version)
