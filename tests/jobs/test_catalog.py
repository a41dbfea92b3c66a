"""Jobs serve every published model: the catalog the accepting function checks a job against finds what /predict
serves, pinned to the version served when the job is accepted (LATEST, so a rollback counts), from the data folder
where it is mounted (the local stack) and from the model bucket on AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sklearn.datasets import load_iris

from efs_models.cli import main as efs_models
from inference.errors import NotFound
from inference.jobs.catalog import FolderModelCatalog, S3ModelCatalog, model_catalog
from inference.jobs.service import JobService
from inference.models.metadata import METADATA_FILE
from inference.models.publishing import publish_version, repoint
from inference.models.registry import ModelRegistry
from scripts.example_exports import iris_classifier
from tests.jobs.conftest import MakeStack
from tests.jobs.helpers import wait_for
from tests.models.factory import tiny_model_dir


def _tiny_versions(tmp_path: Path, models_dir: Path) -> None:
    for version in ("1", "2"):
        source = tiny_model_dir(tmp_path / "src" / version, variant=version, version=version)
        publish_version(source, models_dir, "tiny")


def test_the_folder_catalog_follows_latest_and_rollbacks(tmp_path: Path) -> None:
    """A model published only to the data folder is found; the version is LATEST's, a rolled-back LATEST's, or the
    one asked for; unknown names and versions are 404s."""
    models_dir = tmp_path / "models"
    _tiny_versions(tmp_path, models_dir)
    catalog = FolderModelCatalog(models_dir)
    assert catalog.metadata("tiny", None).version == "2"
    repoint(models_dir, "tiny", "1")
    assert catalog.metadata("tiny", None).version == "1"
    assert catalog.metadata("tiny", "2").version == "2"
    with pytest.raises(NotFound) as unknown:
        catalog.metadata("letters", None)
    assert unknown.value.code == "model_not_found"
    with pytest.raises(NotFound) as missing:
        catalog.metadata("tiny", "9")
    assert missing.value.code == "version_not_found"


def test_the_bucket_catalog_reads_the_publishers_latest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On AWS: models/<name>/LATEST (written by the publisher) decides, so a rollback counts; a bucket published
    before it existed falls back to the newest version."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="models")
        for version in ("1", "2"):
            folder = tiny_model_dir(tmp_path / version, variant=version, version=version)
            body = (folder / METADATA_FILE).read_bytes()
            s3.put_object(Bucket="models", Key=f"models/tiny/{version}/{METADATA_FILE}", Body=body)
        catalog = S3ModelCatalog(s3, "models")
        assert catalog.metadata("tiny", None).version == "2"
        s3.put_object(Bucket="models", Key="models/tiny/LATEST", Body=b"1")
        assert catalog.metadata("tiny", None).version == "1"
        assert catalog.metadata("tiny", "2").version == "2"


def test_the_catalog_is_the_data_folder_where_it_is_mounted(tmp_path: Path) -> None:
    """The local stack's API workers see the data folder; the jobs function on AWS (outside the VPC) does not."""
    (tmp_path / "models").mkdir()
    assert isinstance(model_catalog(None, "bucket", tmp_path / "models"), FolderModelCatalog)
    assert isinstance(model_catalog(None, "bucket", tmp_path / "absent"), S3ModelCatalog)


def test_a_model_published_with_efs_models_takes_jobs(tmp_path: Path, make_stack: MakeStack) -> None:
    """A scikit-learn export (ZipMap) published to the data folder with `efs-models publish`, never put in the
    model bucket: a job over it is accepted, runs on the worker, and equals /predict's answers."""
    source = tmp_path / "iris.onnx"
    source.write_bytes(iris_classifier())
    stack = make_stack()
    folder = tmp_path / "iris"
    assert efs_models(["init", str(source), "--name", "iris", "--out", str(folder)]) == 0
    assert efs_models(["publish", str(folder), "--data-dir", str(stack.data_dir)]) == 0
    models_dir = stack.data_dir / "models"
    service = JobService(
        stack.settings, stack.store, stack.sqs, model_catalog(stack.s3, "", models_dir), default_model="digits"
    )
    inputs: list[Any] = load_iris().data[::5].tolist()
    accepted = service.submit({"model": "iris", "inputs": inputs})
    assert accepted["version"] == "1"
    stack.start_poller()
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"))
    assert view["status"] == "succeeded", view
    assert view["result"]["outputs"] == ModelRegistry(models_dir, "iris").predict("iris", inputs)["outputs"]
