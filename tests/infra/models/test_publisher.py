"""Model publishing under mocks: the private, versioned model bucket, one upload and one invocation per model, and
the publisher's only way out (HTTPS to S3)."""

from __future__ import annotations

import json

from testing.pulumi_mocks import (
    S3_PREFIX_LIST,
    StackRun,
)
from tests.infra.conftest import MODEL_NAME, MODEL_VERSION, SECOND_MODEL
from tests.infra.registered import EGRESS, FUNCTION, ROLE_POLICY, setting, statements


def test_only_the_publisher_may_leave_the_vpc_and_only_over_https(any_run: StackRun) -> None:
    """The API function's group allows NFS out only; the publisher adds one group allowing HTTPS out (to S3)."""
    egress = {
        rule.name: rule.inputs for rule in any_run.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    }
    assert egress["data-client-nfs"]["referencedSecurityGroupId"] == "data-id"
    assert (egress["data-client-nfs"]["fromPort"], egress["data-client-nfs"]["toPort"]) == (2049, 2049)
    assert (egress["model-publisher-https"]["fromPort"], egress["model-publisher-https"]["securityGroupId"]) == (
        443,
        "model-publisher-id",
    )
    publisher = any_run.one(FUNCTION, "model-publisher")
    assert publisher.inputs["vpcConfig"]["securityGroupIds"] == ["data-client-id", "model-publisher-id"]


def test_publisher_reaches_only_s3_and_only_once_the_route_to_it_exists(any_run: StackRun) -> None:
    """The publisher's HTTPS egress names S3's prefix list (taken from the VPC's S3 endpoint, which it thus waits
    for), never an address range; the invocation waits for that rule."""
    rule = any_run.one(EGRESS, "model-publisher-https")
    assert rule.inputs["prefixListId"] == S3_PREFIX_LIST, rule.urn
    assert "cidrIpv4" not in rule.inputs, f"{rule.urn} must not let the publisher out to an address range"
    endpoint = any_run.one("aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3")
    assert endpoint.urn in rule.dependencies, f"{rule.urn} may exist before the route to S3"
    for invocation in any_run.of_type("aws:lambda/invocation:Invocation"):
        assert rule.urn in invocation.dependencies, f"{invocation.urn} may run before the publisher can reach S3"


def test_model_bucket_is_private_encrypted_and_versioned(any_run: StackRun) -> None:
    """Public access fully blocked, SSE on, versioning enabled, force-destroy only with allowDeletion."""
    bucket = any_run.one("aws:s3/bucket:Bucket", "model")
    assert bucket.inputs.get("forceDestroy", False) is (setting(any_run, "allowDeletion", "false") == "true")
    block = any_run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "model").inputs
    assert all(
        block[key] is True
        for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    encryption = any_run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "model"
    ).inputs
    assert encryption["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    versioning = any_run.one("aws:s3/bucketVersioning:BucketVersioning", "model").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"


def test_model_bucket_refuses_requests_without_tls_before_any_upload(any_run: StackRun) -> None:
    """The bucket policy's only statement denies every request over plain HTTP; uploads wait for it."""
    policy = any_run.one("aws:s3/bucketPolicy:BucketPolicy", "model")
    [statement] = statements(policy)
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == ["arn:aws:s3:::model-bucket", "arn:aws:s3:::model-bucket/*"], policy.urn
    for upload in any_run.of_type("aws:s3/bucketObjectv2:BucketObjectv2"):
        assert policy.urn in upload.dependencies, f"{upload.urn} may be uploaded before the policy applies"


def test_each_model_is_uploaded_and_published_by_its_own_invocation_keyed_on_content(any_run: StackRun) -> None:
    """Each folder of modelDirs goes under models/<name>/<version>/; one invocation per model gets that prefix,
    waits for its own uploads, and re-runs on new content."""
    first, second = f"models/{MODEL_NAME}/{MODEL_VERSION}/", f"models/{SECOND_MODEL[0]}/{SECOND_MODEL[1]}/"
    keys = sorted(item.inputs["key"] for item in any_run.of_type("aws:s3/bucketObjectv2:BucketObjectv2"))
    expected = [f"{first}metadata.json", f"{first}model.onnx", f"{first}samples.json"]
    assert keys == [*expected, f"{second}metadata.json", f"{second}model.onnx"]
    publisher = any_run.one(FUNCTION, "model-publisher")
    for (name, version), prefix in (((MODEL_NAME, MODEL_VERSION), first), (SECOND_MODEL, second)):
        invocation = any_run.one("aws:lambda/invocation:Invocation", f"model-{name}")
        assert invocation.inputs["functionName"] == publisher.inputs["name"]
        payload = json.loads(invocation.inputs["input"])
        assert payload["bucket"] == "model-bucket" and payload["prefix"] == prefix
        assert (payload["name"], payload["version"]) == (name, version)
        assert invocation.inputs["triggers"]["content_sha256"] == payload["content_sha256"]
        assert invocation.inputs["triggers"]["file_system_id"] == "data-id"
        uploads = {
            item.urn for item in any_run.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if prefix in item.inputs["key"]
        }
        assert uploads <= set(invocation.dependencies), f"{invocation.urn} may run before the upload"
    assert publisher.inputs["imageConfig"] == {"commands": ["inference.models.publisher.handler"]}
    assert publisher.inputs["imageUri"] == any_run.one(FUNCTION, "api").inputs["imageUri"]
    found = statements(any_run.one(ROLE_POLICY, "model-publisher"))
    sids = [statement["Sid"] for statement in found]
    assert len(sids) == len(set(sids)), f"IAM refuses a policy that repeats a statement id: {sids}"
    reads = [statement["Resource"] for statement in found if statement["Sid"] == "ReadPrefixes"]
    # Every model's files: `efs-models publish --stack` brings models that modelDirs does not list.
    assert reads == [["arn:aws:s3:::model-bucket/models/*"]]
    writes = [statement for statement in found if "s3:PutObject" in statement["Action"]]
    assert [(write["Sid"], write["Resource"]) for write in writes] == [
        ("WriteLatestVersions", "arn:aws:s3:::model-bucket/models/*/LATEST")  # where the jobs' catalog reads it
    ]
    lists = [statement["Condition"] for statement in found if statement["Sid"] == "ListPrefixes"]
    assert lists == [{"StringLike": {"s3:prefix": ["models/*"]}}]


def test_fix_2_first_publish_waits_for_the_mount_targets_dns(any_run: StackRun) -> None:
    """Fix 2: a 90 s wait after every mount target (again when one is replaced) comes before every model's publish."""
    wait = any_run.one("time:index/sleep:Sleep", "data-mount-dns")
    assert wait.inputs["createDuration"] == "90s"
    targets = any_run.of_type("aws:efs/mountTarget:MountTarget")
    assert {target.urn for target in targets} <= set(wait.dependencies)
    assert sorted(wait.inputs["triggers"].values()) == sorted(f"{target.name}-id" for target in targets)
    invocations = any_run.of_type("aws:lambda/invocation:Invocation")
    assert invocations, "each model has its publish"
    for invocation in invocations:
        assert wait.urn in invocation.dependencies, invocation.urn


def test_fix_11_old_model_versions_expire(any_run: StackRun) -> None:
    """Fix 11: noncurrent versions expire after 30 days (stray delete markers and uploads go too), after versioning."""
    lifecycle = any_run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "model")
    [rule] = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled" and rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert rule["expiration"] == {"expiredObjectDeleteMarker": True}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
    versioning = any_run.one("aws:s3/bucketVersioning:BucketVersioning", "model")
    assert versioning.urn in lifecycle.dependencies


def test_publishing_waits_for_the_functions_that_write_messages(variant_run: StackRun) -> None:
    """Each publish runs after the API function (and retention) exist as they are now: on the upgrade to one identity
    per function, what the old identity wrote is shared once nothing writes as it any more."""
    writers = [item.urn for item in variant_run.of_type(FUNCTION) if item.name in ("api", "retention")]
    assert writers
    for invocation in variant_run.of_type("aws:lambda/invocation:Invocation"):
        assert set(writers) <= set(invocation.dependencies), invocation.urn
