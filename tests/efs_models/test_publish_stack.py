"""`efs-models publish`, `list` and `rollback` against a deployed stack: S3 through moto (mock_aws), the publisher's
invocation stubbed by the real publisher code writing into a local folder that stands in for EFS, as Lambda would
run it (a raised error comes back as a FunctionError payload)."""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from efs_models import stack
from efs_models.describe import UsageProblems
from inference.jobs.catalog import S3ModelCatalog
from inference.models.integrity import folder_content_sha256
from inference.models.pointer import read_latest
from inference.models.publisher import publish_from_s3
from inference.models.publishing import publish_version
from tests.efs_models.conftest import Efs
from tests.models.factory import tiny_model_dir

REGION = "eu-west-1"
BUCKET = "stack-models"
FUNCTION = "stack-model-publisher"


class FakeLambda:
    """The publisher function as Lambda runs it: the real handler code, its errors returned as FunctionError."""

    def __init__(self, s3: Any, models_dir: Path) -> None:
        self.s3 = s3
        self.models_dir = models_dir
        self.events: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        assert (FunctionName, InvocationType) == (FUNCTION, "RequestResponse")
        event = json.loads(Payload)
        self.events.append(event)
        try:
            result = publish_from_s3(event, self.s3, self.models_dir)
        except Exception as error:
            body = {"errorMessage": str(error), "errorType": type(error).__name__, "stackTrace": []}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, FakeLambda]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        function = FakeLambda(s3, tmp_path / "efs" / "models")
        monkeypatch.setattr(stack, "clients", lambda address: (s3, function))
        yield s3, function


STACK_FLAGS = ("--bucket", BUCKET, "--function", FUNCTION, "--region", REGION)


def _keys(s3: Any) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_publish_uploads_then_invokes_the_publisher(
    efs: Efs, tmp_path: Path, iris_folder: Path, deployed: tuple[Any, FakeLambda]
) -> None:
    """The folder's files go to models/iris/1/ with their sha256, then one invocation with the event `pulumi up`
    sends; EFS gets the version, and the bucket's LATEST names it for the jobs' catalog."""
    s3, function = deployed
    ran = efs("publish", iris_folder, *STACK_FLAGS)
    assert ran.code == 0, ran.err
    assert _keys(s3) == ["models/iris/1/metadata.json", "models/iris/1/model.onnx", "models/iris/LATEST"]
    head = s3.head_object(Bucket=BUCKET, Key="models/iris/1/model.onnx")
    assert (
        head["Metadata"]["sha256"]
        == json.loads((iris_folder / "metadata.json").read_text())["files"]["model.onnx"]["sha256"]
    )
    assert function.events == [
        {
            "bucket": BUCKET,
            "prefix": "models/iris/1/",
            "name": "iris",
            "version": "1",
            "content_sha256": folder_content_sha256(iris_folder),
        }
    ]
    assert read_latest(function.models_dir / "iris") == "1"
    assert S3ModelCatalog(s3, BUCKET).metadata("iris", None).version == "1"
    again = efs("publish", iris_folder, *STACK_FLAGS)  # idempotent: nothing uploaded, the same event
    assert again.code == 0 and len(function.events) == 2 and function.events[0] == function.events[1]


def test_other_files_under_a_published_version_are_refused_before_upload(
    efs: Efs, tmp_path: Path, iris_folder: Path, deployed: tuple[Any, FakeLambda]
) -> None:
    """Versions are immutable in the bucket too: changed metadata under version 1 uploads nothing, invokes nothing."""
    s3, function = deployed
    assert efs("publish", iris_folder, *STACK_FLAGS).code == 0
    before = s3.get_object(Bucket=BUCKET, Key="models/iris/1/metadata.json")["Body"].read()
    metadata = json.loads((iris_folder / "metadata.json").read_text())
    metadata["description"] = "changed"
    (iris_folder / "metadata.json").write_text(json.dumps(metadata))
    ran = efs("publish", iris_folder, *STACK_FLAGS)
    assert ran.code == 1
    assert "holds other bytes" in ran.err and "versions are immutable" in ran.err
    assert s3.get_object(Bucket=BUCKET, Key="models/iris/1/metadata.json")["Body"].read() == before
    assert len(function.events) == 1


def test_a_version_the_publisher_refuses_leaves_nothing_in_the_bucket(
    efs: Efs, tmp_path: Path, iris_folder: Path, deployed: tuple[Any, FakeLambda]
) -> None:
    """EFS already holds another model as iris version 1 (the bucket lost it): the publisher refuses, its problems
    are shown, and the files just uploaded are removed again."""
    s3, function = deployed
    other = tiny_model_dir(tmp_path / "other", name="iris")
    publish_version(other, function.models_dir, "iris")
    ran = efs("publish", iris_folder, *STACK_FLAGS)
    assert ran.code == 1
    assert "the publisher function refused it (PublishError)" in ran.err
    assert "already holds a different model" in ran.err
    assert _keys(s3) == []


def test_list_and_rollback_on_a_stack(
    efs: Efs, tmp_path: Path, iris_folder: Path, deployed: tuple[Any, FakeLambda]
) -> None:
    """list shows the bucket's models, versions and LATEST; rollback invokes the publisher for version 1 again."""
    s3, function = deployed
    assert efs("publish", iris_folder, *STACK_FLAGS).code == 0
    metadata = json.loads((iris_folder / "metadata.json").read_text())
    (iris_folder / "metadata.json").write_text(json.dumps({**metadata, "version": "2"}))
    assert efs("publish", iris_folder, *STACK_FLAGS).code == 0
    (model,) = json.loads(efs("list", "--json", *STACK_FLAGS).out)
    assert (model["name"], model["latest"], model["versions"]) == ("iris", "2", ["2", "1"])
    assert efs("rollback", "iris", "1", *STACK_FLAGS).code == 0
    assert function.events[-1] == {"bucket": BUCKET, "prefix": "models/iris/1/", "name": "iris", "version": "1"}
    assert read_latest(function.models_dir / "iris") == "1"
    assert S3ModelCatalog(s3, BUCKET).metadata("iris", None).version == "1"
    missing = efs("rollback", "iris", "9", *STACK_FLAGS)
    assert missing.code == 1 and "has no version '9'" in missing.err


def test_without_the_pulumi_cli_the_flags_are_asked_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Pulumi CLI here: one message naming the three flags and the outputs that hold them."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(UsageProblems, match="give --bucket, --function and --region"):
        stack.stack_address("dev", None, None, None)


def test_the_stack_outputs_come_from_the_pulumi_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With the Pulumi CLI present, `pulumi stack output --json --stack dev` and `pulumi config get aws:region` fill
    in what the flags leave out."""
    pulumi = tmp_path / "bin" / "pulumi"
    pulumi.parent.mkdir()
    pulumi.write_text(
        "#!/bin/sh\n"
        'case "$1 $2" in\n'
        '  "stack output") echo \'{"model_bucket": "b-123", "model_publisher_function": "f-456"}\' ;;\n'
        '  "config get") echo eu-central-1 ;;\n'
        "esac\n"
    )
    pulumi.chmod(pulumi.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{pulumi.parent}{os.pathsep}{os.environ['PATH']}")
    address = stack.stack_address("dev", None, None, None, project_dir=tmp_path)
    assert address == stack.StackAddress("b-123", "f-456", "eu-central-1")
    assert stack.stack_address("dev", "mine", None, None, project_dir=tmp_path).bucket == "mine"


def test_the_clients_are_signed_for_the_stacks_region() -> None:
    """S3 with the region and virtual addressing (no redirect from the global endpoint); Lambda waiting out the
    publisher's timeout, without retrying a publish."""
    s3, lambda_client = stack.clients(stack.StackAddress("b", "f", "ap-southeast-2"))
    assert s3.meta.region_name == "ap-southeast-2"
    assert s3.meta.config.s3["addressing_style"] == "virtual"
    assert lambda_client.meta.region_name == "ap-southeast-2"
    assert lambda_client.meta.config.read_timeout > 300
    assert lambda_client.meta.config.retries["total_max_attempts"] == 1
