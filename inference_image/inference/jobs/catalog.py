"""Model metadata for checking a job at submit, read from the model bucket that `pulumi up` publishes
from (``models/<name>/<version>/metadata.json``, the layout of ``infra.config.model_dirs``).

The accepting function runs outside the VPC, without EFS, so it cannot ask the registry; the bucket
holds the versions that the publisher copied onto EFS. A job is pinned to the version it was checked
against, so every shard and every retry runs that very version, whatever LATEST says meanwhile."""

from __future__ import annotations

import json
from typing import Any

from inference.errors import NotFound
from inference.models.metadata import MetadataError, ModelMetadata, check_name, check_version
from inference.models.registry import natural_key

MODELS_PREFIX = "models/"


class S3ModelCatalog:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def metadata(self, name: object, version: object | None) -> ModelMetadata:
        """The metadata of ``version`` of model ``name`` (its newest version when None), or NotFound."""
        name = check_name(name)
        resolved = self._newest_version(name) if version is None else check_version(version)
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=f"{MODELS_PREFIX}{name}/{resolved}/metadata.json")
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

    def _newest_version(self, name: str) -> str:
        versions: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=f"{MODELS_PREFIX}{name}/", Delimiter="/"):
            versions.extend(item["Prefix"].rstrip("/").rsplit("/", 1)[-1] for item in page.get("CommonPrefixes", []))
        if not versions:
            raise NotFound(f"unknown model {name!r}", "model_not_found")
        return max(versions, key=natural_key)


def _with_version(metadata: ModelMetadata, version: str) -> ModelMetadata:
    from dataclasses import replace

    return replace(metadata, version=version)
