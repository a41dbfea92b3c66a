"""The whole program, run under mocks for each example stack: wiring and security posture, resource by
resource. Failure messages name the resource's URN."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from inference.layout import DEFAULT_DATA_DIR
from inference.routes import ROUTE_KEYS
from inference.settings import Settings
from infra.building_blocks.iam import ENI_ACTIONS
from infra.config.limits import DOCKER_PLATFORMS
from tests.infra.conftest import MODEL_NAME, MODEL_VERSION, SECOND_MODEL
from tests.infra.harness import PROJECT, S3_PREFIX_LIST, Registered, StackRun, stack_file_config

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
MOUNT_TARGET = "aws:efs/mountTarget:MountTarget"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
UI_TYPES = (
    "awsx:lb:ApplicationLoadBalancer",
    "awsx:ecs:FargateService",
    "efs-inference:ui_load_balancer:UiLoadBalancer",
)


def setting(run: StackRun, key: str, default: str) -> str:
    return stack_file_config(run.stack).get(f"{PROJECT}:{key}", default)


def resource_id(item: Registered) -> str:
    return f"{item.name}-id"  # what the mocks answer for every resource


def statements(policy: Registered) -> list[dict[str, Any]]:
    document = json.loads(policy.inputs["policy"])
    found: list[dict[str, Any]] = document["Statement"]
    return found


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_every_aws_resource_goes_through_the_tagged_provider(any_run: StackRun) -> None:
    """One explicit aws provider tags with project and stack; every aws resource and awsx component uses it."""
    provider = any_run.one("pulumi:providers:aws", "aws")
    assert json.loads(provider.inputs["defaultTags"]) == {"tags": {"project": PROJECT, "stack": any_run.stack}}
    reference = f"{provider.urn}::{resource_id(provider)}"
    for item in any_run.resources:
        if item.type.startswith("aws:"):
            assert item.provider == reference, f"{item.urn} does not use the tagged provider"
        if item.type.startswith("awsx:"):
            assert item.providers.get("aws") == reference, f"{item.urn} does not pass the tagged provider on"


def test_nfs_is_admitted_only_from_the_functions_security_group(any_run: StackRun) -> None:
    """The EFS security group has one ingress rule, NFS 2049, whose source is the group every function carries."""
    efs_group = any_run.one(SECURITY_GROUP, "data")
    rules = [rule for rule in any_run.of_type(INGRESS) if rule.inputs["securityGroupId"] == resource_id(efs_group)]
    assert len(rules) == 1, f"{efs_group.urn} should have exactly one ingress rule, has {[r.urn for r in rules]}"
    rule = rules[0]
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (2049, 2049, "tcp"), rule.urn
    assert "cidrIpv4" not in rule.inputs, f"{rule.urn} must not admit an address range"
    for function in any_run.of_type(FUNCTION):
        groups = function.inputs["vpcConfig"]["securityGroupIds"]
        assert rule.inputs["referencedSecurityGroupId"] in groups, f"{function.urn} is not in the NFS rule's source"
    assert any_run.one(FUNCTION, "api").inputs["vpcConfig"]["securityGroupIds"] == ["data-client-id"]


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


def test_mount_targets_wait_for_the_nfs_rules_and_the_tls_policy(any_run: StackRun) -> None:
    """A mount target (and so every function, which waits for them) exists only once NFS is admitted both ways and
    the TLS-only policy is in force."""
    needed = {
        any_run.one(EGRESS, "data-client-nfs").urn,
        any_run.one(INGRESS, "data-nfs-from-clients").urn,
        any_run.one("aws:efs/fileSystemPolicy:FileSystemPolicy", "data").urn,
    }
    for target in any_run.of_type(MOUNT_TARGET):
        missing = needed - set(target.dependencies)
        assert not missing, f"{target.urn} does not wait for {sorted(missing)}"


def test_functions_run_the_image_by_digest_built_for_their_architecture(any_run: StackRun) -> None:
    """Both functions run the inference image as repo@sha256:..., built for the configured architecture's platform."""
    architecture = setting(any_run, "architecture", "x86_64")
    image = any_run.one("awsx:ecr:Image", "inference")
    assert image.inputs["platform"] == DOCKER_PLATFORMS[architecture], image.urn
    assert image.inputs["context"] == "inference_image", image.urn
    for function in any_run.of_type(FUNCTION):
        assert function.inputs["packageType"] == "Image", function.urn
        assert re.fullmatch(
            r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/inference@sha256:[0-9a-f]{64}", function.inputs["imageUri"]
        ), function.urn
        assert function.inputs["architectures"] == [architecture], function.urn


def test_example_stacks_cover_both_architectures(dev_run: StackRun, prod_run: StackRun) -> None:
    """dev builds linux/amd64 for x86_64, prod linux/arm64 for arm64 (the UI image too)."""
    assert {image.inputs["platform"] for image in dev_run.of_type("awsx:ecr:Image")} == {"linux/amd64"}
    assert {image.inputs["platform"] for image in prod_run.of_type("awsx:ecr:Image")} == {"linux/arm64"}
    task = prod_run.one("awsx:ecs:FargateService").inputs["taskDefinitionArgs"]
    assert task["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}


def test_functions_mount_efs_at_the_data_root_through_the_access_point(any_run: StackRun) -> None:
    """Each function mounts the access point at /mnt/data, runs in the private subnets and is told DATA_DIR."""
    access_point = any_run.one("aws:efs/accessPoint:AccessPoint", "data")
    vpc = any_run.one("awsx:ec2:Vpc", "network")
    zones = int(vpc.inputs["numberOfAvailabilityZones"])
    for function in any_run.of_type(FUNCTION):
        assert function.inputs["fileSystemConfig"] == {
            "arn": f"arn:aws:elasticfilesystem:eu-central-1:123456789012:access-point/{resource_id(access_point)}",
            "localMountPath": DEFAULT_DATA_DIR,
        }, function.urn
        assert function.inputs["vpcConfig"]["subnetIds"] == [f"subnet-private{i}" for i in range(zones)], function.urn
        assert function.inputs["environment"]["variables"]["DATA_DIR"] == DEFAULT_DATA_DIR, function.urn


def test_functions_depend_on_every_mount_target(any_run: StackRun) -> None:
    """A function created before its mount targets cannot mount EFS: each one depends on all of them explicitly."""
    mount_targets = {item.urn for item in any_run.of_type(MOUNT_TARGET)}
    assert mount_targets
    for function in any_run.of_type(FUNCTION):
        missing = mount_targets - set(function.dependencies)
        assert not missing, f"{function.urn} does not depend on {sorted(missing)}"


def test_api_function_settings_follow_the_config(any_run: StackRun) -> None:
    """Memory, timeout, reserved concurrency and the handler's environment come from the stack config."""
    function = any_run.one(FUNCTION, "api")
    assert function.inputs["name"] == f"{PROJECT}-{any_run.stack}-api"
    assert function.inputs["memorySize"] == int(setting(any_run, "memoryMb", "1024")), function.urn
    assert function.inputs["timeout"] == int(setting(any_run, "timeoutSeconds", "30")) <= 30, function.urn
    assert function.inputs["reservedConcurrentExecutions"] == int(setting(any_run, "reservedConcurrency", "-1"))
    assert function.inputs["environment"]["variables"] == {
        "DATA_DIR": DEFAULT_DATA_DIR,
        "DEFAULT_MODEL": MODEL_NAME,
        "MAX_TEXT_BYTES": "16384",
        "LEGACY_LISTING_LINES": "1000",
        "LOG_LEVEL": setting(any_run, "logLevel", "INFO"),
        "POWERTOOLS_SERVICE_NAME": PROJECT,
        "POWERTOOLS_METRICS_NAMESPACE": PROJECT,
    }, function.urn


def test_handler_reads_the_environment_the_stack_gives_it(any_run: StackRun) -> None:
    """The handler's own settings parser accepts the API function's environment and sees the configured values."""
    variables = any_run.one(FUNCTION, "api").inputs["environment"]["variables"]
    settings = Settings.from_env(variables)
    assert str(settings.data_dir) == DEFAULT_DATA_DIR
    assert settings.default_model == MODEL_NAME
    assert settings.max_text_bytes == int(setting(any_run, "maxTextBytes", "16384"))
    assert settings.legacy_listing_lines == int(setting(any_run, "legacyListingLines", "1000"))


def test_iam_policies_have_no_wildcard_actions(any_run: StackRun) -> None:
    """No action contains '*'; only the ENI actions (which cannot be scoped) have Resource '*'."""
    policies = any_run.of_type(ROLE_POLICY)
    assert len(policies) == (3 if any_run.stack == "prod" else 2)  # prod adds the UI task role's
    for policy in policies:
        for statement in statements(policy):
            actions = as_list(statement["Action"])
            assert not [action for action in actions if "*" in action], f"{policy.urn}: {statement}"
            if "*" in as_list(statement["Resource"]):
                assert set(actions) <= set(ENI_ACTIONS), f"{policy.urn} grants {actions} on every resource"


def test_function_roles_reach_only_their_own_log_group_and_this_file_system(any_run: StackRun) -> None:
    """Logs go to the function's own group; EFS mount/write is on this file system and needs the access point."""
    file_system = any_run.one("aws:efs/fileSystem:FileSystem", "data")
    access_point = any_run.one("aws:efs/accessPoint:AccessPoint", "data")
    for name in ("api", "model-publisher"):
        function = any_run.one(FUNCTION, name)
        log_group = any_run.one(LOG_GROUP, name)
        assert log_group.inputs["name"] == f"/aws/lambda/{function.inputs['name']}", log_group.urn
        found = {statement["Sid"]: statement for statement in statements(any_run.one(ROLE_POLICY, name))}
        log_arn = f"arn:aws:logs:eu-central-1:123456789012:log-group:{log_group.inputs['name']}"
        assert found["OwnLogGroup"]["Resource"] == [log_arn, f"{log_arn}:*"]
        mount = found["MountThroughAccessPoint"]
        assert mount["Action"] == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
        assert mount["Resource"].endswith(f"file-system/{resource_id(file_system)}")
        assert mount["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"].endswith(
            resource_id(access_point)
        )
        assert (name == "model-publisher") == ("ReadPrefix" in found), (
            f"only the publisher reads the model bucket ({name})"
        )


def test_every_log_group_has_the_configured_retention(any_run: StackRun) -> None:
    """Function, publisher, access-log and UI log groups all expire, after logRetentionDays."""
    retention = int(setting(any_run, "logRetentionDays", "14"))
    log_groups = any_run.of_type(LOG_GROUP)
    assert len(log_groups) == (4 if any_run.stack == "prod" else 3)
    for log_group in log_groups:
        assert log_group.inputs.get("retentionInDays") == retention, f"{log_group.urn} keeps logs forever"


def test_http_api_proxies_to_the_function_with_payload_2(any_run: StackRun) -> None:
    """One Lambda proxy integration, payload format 2.0, within the HTTP API's 30 s ceiling."""
    api = any_run.one("aws:apigatewayv2/api:Api", "http")
    assert api.inputs["protocolType"] == "HTTP"
    integration = any_run.one("aws:apigatewayv2/integration:Integration", "http")
    assert integration.inputs["integrationType"] == "AWS_PROXY", integration.urn
    assert integration.inputs["payloadFormatVersion"] == "2.0", integration.urn
    assert (
        integration.inputs["integrationUri"]
        == f"arn:aws:lambda:eu-central-1:123456789012:function:{PROJECT}-{any_run.stack}-api"
    )
    assert integration.inputs["timeoutMilliseconds"] <= 30000, integration.urn


def test_route_keys_equal_the_handlers_route_table(any_run: StackRun) -> None:
    """One route per entry of inference.routes.ROUTE_KEYS, $default included, each targeting the integration."""
    routes = any_run.of_type("aws:apigatewayv2/route:Route")
    assert sorted(route.inputs["routeKey"] for route in routes) == sorted(ROUTE_KEYS)
    integration = any_run.one("aws:apigatewayv2/integration:Integration", "http")
    for route in routes:
        assert route.inputs["target"] == f"integrations/{resource_id(integration)}", route.urn


def test_default_stage_auto_deploys_throttled_with_json_access_logs(any_run: StackRun) -> None:
    """The $default stage auto-deploys, throttles at the configured burst/rate and writes JSON access logs."""
    stage = any_run.one("aws:apigatewayv2/stage:Stage", "http")
    assert stage.inputs["name"] == "$default" and stage.inputs["autoDeploy"] is True, stage.urn
    assert stage.inputs["defaultRouteSettings"] == {
        "throttlingBurstLimit": int(setting(any_run, "throttleBurst", "100")),
        "throttlingRateLimit": int(setting(any_run, "throttleRate", "50")),
    }, stage.urn
    access_logs = stage.inputs["accessLogSettings"]
    log_group = any_run.one(LOG_GROUP, "http-access")
    assert (
        access_logs["destinationArn"] == f"arn:aws:logs:eu-central-1:123456789012:log-group:{log_group.inputs['name']}"
    )
    assert {"requestId", "routeKey", "status", "integrationError"} <= set(json.loads(access_logs["format"]))


def test_invoke_permission_is_scoped_to_this_apis_execution_arn(any_run: StackRun) -> None:
    """API Gateway may invoke the API function only through this API."""
    api = any_run.one("aws:apigatewayv2/api:Api", "http")
    permission = any_run.one("aws:lambda/permission:Permission", "http")
    assert permission.inputs["principal"] == "apigateway.amazonaws.com", permission.urn
    assert permission.inputs["action"] == "lambda:InvokeFunction", permission.urn
    assert permission.inputs["function"] == f"{PROJECT}-{any_run.stack}-api", permission.urn
    assert permission.inputs["sourceArn"] == f"arn:aws:execute-api:eu-central-1:123456789012:{resource_id(api)}/*/*"


def test_file_system_is_encrypted_general_purpose_elastic_with_infrequent_access(any_run: StackRun) -> None:
    """EFS: encrypted at rest, General Purpose, elastic throughput, files move to IA and back on access."""
    file_system = any_run.one("aws:efs/fileSystem:FileSystem", "data")
    assert file_system.inputs["encrypted"] is True, file_system.urn
    assert file_system.inputs["performanceMode"] == "generalPurpose", file_system.urn
    assert file_system.inputs["throughputMode"] == "elastic", file_system.urn
    assert {"transitionToIa": "AFTER_30_DAYS"} in file_system.inputs["lifecyclePolicies"], file_system.urn


def test_file_system_is_retained_unless_deletion_is_allowed(dev_run: StackRun, prod_run: StackRun) -> None:
    """dev (allowDeletion) lets destroy delete the file system; prod retains it and its data."""
    assert not dev_run.one("aws:efs/fileSystem:FileSystem", "data").retain_on_delete
    assert prod_run.one("aws:efs/fileSystem:FileSystem", "data").retain_on_delete


def test_access_point_is_the_old_apps(any_run: StackRun) -> None:
    """/export/lambda, POSIX uid/gid 1001, created with permissions 750."""
    access_point = any_run.one("aws:efs/accessPoint:AccessPoint", "data")
    assert access_point.inputs["posixUser"] == {"uid": 1001, "gid": 1001}
    assert access_point.inputs["rootDirectory"] == {
        "path": "/export/lambda",
        "creationInfo": {"ownerUid": 1001, "ownerGid": 1001, "permissions": "750"},
    }


def test_file_system_policy_denies_access_without_tls(any_run: StackRun) -> None:
    """The file-system policy denies every client action when aws:SecureTransport is false."""
    policy = any_run.one("aws:efs/fileSystemPolicy:FileSystemPolicy", "data")
    [statement] = statements(policy)
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "elasticfilesystem:ClientMount" in statement["Action"]


def test_one_mount_target_per_private_subnet_behind_the_efs_group(any_run: StackRun) -> None:
    """A mount target in each private subnet, each in the EFS security group."""
    zones = int(any_run.one("awsx:ec2:Vpc").inputs["numberOfAvailabilityZones"])
    targets = any_run.of_type(MOUNT_TARGET)
    assert sorted(target.inputs["subnetId"] for target in targets) == [f"subnet-private{i}" for i in range(zones)]
    for target in targets:
        assert target.inputs["securityGroups"] == ["data-id"], target.urn


def test_repositories_scan_on_push_expire_old_images_and_force_delete_only_when_allowed(any_run: StackRun) -> None:
    """Every ECR repository scans on push, keeps ecrKeepImages images, and force-deletes only with allowDeletion."""
    allow_deletion = setting(any_run, "allowDeletion", "false") == "true"
    keep = int(setting(any_run, "ecrKeepImages", "10"))
    for repository in any_run.of_type("aws:ecr/repository:Repository"):
        assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}, repository.urn
        assert repository.inputs.get("forceDelete", False) is allow_deletion, repository.urn
        lifecycle = any_run.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", repository.name)
        [rule] = json.loads(lifecycle.inputs["policy"])["rules"]
        assert rule["selection"]["countNumber"] == keep and rule["action"] == {"type": "expire"}, lifecycle.urn


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
    reads = [statement["Resource"] for statement in found if statement["Sid"] == "ReadPrefix"]
    assert reads == [f"arn:aws:s3:::model-bucket/{first}*", f"arn:aws:s3:::model-bucket/{second}*"]
    lists = [statement["Condition"] for statement in found if statement["Sid"] == "ListPrefix"]
    assert lists == [{"StringLike": {"s3:prefix": [f"{prefix}*"]}} for prefix in (first, second)]


def test_new_vpc_has_the_configured_nat_and_an_s3_gateway_endpoint(dev_run: StackRun, prod_run: StackRun) -> None:
    """dev has no NAT gateway, prod one; both get an S3 gateway endpoint on the VPC's route tables."""
    assert dev_run.one("awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "None"}
    assert prod_run.one("awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "Single"}
    for run in (dev_run, prod_run):
        vpc = run.one("awsx:ec2:Vpc")
        assert sorted(spec["type"] for spec in vpc.inputs["subnetSpecs"]) == ["Private", "Public"], vpc.urn
        endpoint = run.one("aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3")
        assert endpoint.inputs["serviceName"] == "com.amazonaws.eu-central-1.s3"
        assert endpoint.inputs["vpcEndpointType"] == "Gateway"
        zones = int(vpc.inputs["numberOfAvailabilityZones"])
        assert len(endpoint.inputs["routeTableIds"]) == 2 * zones, endpoint.urn


def test_ui_resources_are_absent_when_the_ui_is_off(dev_run: StackRun) -> None:
    """dev runs no load balancer, no Fargate service, no UI image and exports no ui_url."""
    assert not [item.urn for item in dev_run.resources if item.type in UI_TYPES or item.name.startswith("ui")]
    assert "ui_url" not in dev_run.outputs


def test_ui_load_balancer_is_public_health_checked_and_sticky(prod_run: StackRun) -> None:
    """prod's ALB: public subnets, its own security group, /_stcore/health on 8501, sticky with two tasks."""
    balancer = prod_run.one("awsx:lb:ApplicationLoadBalancer", "ui")
    assert balancer.inputs["subnetIds"] == ["subnet-public0", "subnet-public1", "subnet-public2"]
    assert balancer.inputs["securityGroups"] == ["ui-id"], "awsx's open default security group must not be used"
    target_group = balancer.inputs["defaultTargetGroup"]
    assert target_group["port"] == 8501 and target_group["targetType"] == "ip"
    assert target_group["healthCheck"]["path"] == "/_stcore/health"
    assert target_group["stickiness"]["enabled"] is True
    assert balancer.inputs["listeners"] == [{"port": 80, "protocol": "HTTP"}]


def test_ui_load_balancer_drops_invalid_headers(prod_run: StackRun) -> None:
    """Requests with malformed header fields never reach Streamlit (a request-smuggling guard)."""
    assert prod_run.one("awsx:lb:ApplicationLoadBalancer", "ui").inputs["dropInvalidHeaderFields"] is True


def test_ui_tasks_admit_traffic_only_from_the_load_balancer(prod_run: StackRun) -> None:
    """The tasks' only ingress rule is Streamlit's port from the ALB's group; the ALB may only reach that port."""
    tasks_group = prod_run.one(SECURITY_GROUP, "ui-targets")
    rules = [rule for rule in prod_run.of_type(INGRESS) if rule.inputs["securityGroupId"] == resource_id(tasks_group)]
    assert [(rule.inputs["referencedSecurityGroupId"], rule.inputs["fromPort"]) for rule in rules] == [("ui-id", 8501)]
    service = prod_run.one("awsx:ecs:FargateService", "ui")
    assert service.inputs["networkConfiguration"]["securityGroups"] == ["ui-targets-id", "ui-tasks-id"]
    egress = prod_run.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "ui-to-targets")
    assert (egress.inputs["referencedSecurityGroupId"], egress.inputs["fromPort"]) == ("ui-targets-id", 8501)


def test_ui_service_runs_the_ui_image_against_the_api_and_rolls_back_bad_deploys(prod_run: StackRun) -> None:
    """Fargate: configured size, API_URL, rollback on failed deploys, the ALB's target group, private subnets (NAT)."""
    service = prod_run.one("awsx:ecs:FargateService", "ui")
    api = prod_run.one("aws:apigatewayv2/api:Api", "http")
    assert service.inputs["desiredCount"] == 2
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    task = service.inputs["taskDefinitionArgs"]
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    container = task["containers"]["ui"]
    assert container["environment"] == [
        {"name": "API_URL", "value": f"https://{resource_id(api)}.execute-api.eu-central-1.amazonaws.com"},
        {"name": "API_AUTH", "value": "iam"},
        {"name": "API_REGION", "value": "eu-central-1"},
    ]
    assert re.fullmatch(r".*/ui@sha256:[0-9a-f]{64}", container["image"])
    assert container["portMappings"] == [{"containerPort": 8501}]
    [load_balancer] = service.inputs["loadBalancers"]
    assert load_balancer["targetGroupArn"].endswith("targetgroup/ui") and load_balancer["containerName"] == "ui"
    assert service.inputs["networkConfiguration"]["subnets"] == [
        "subnet-private0",
        "subnet-private1",
        "subnet-private2",
    ]
    assert service.inputs["networkConfiguration"]["assignPublicIp"] is False
    log_group = prod_run.one(LOG_GROUP, "ui")
    assert task["logGroup"] == {"existing": {"name": log_group.inputs["name"]}}


def test_api_has_no_cors_without_configured_origins(any_run: StackRun) -> None:
    """The UI calls the API from its server, so no CORS entry is made for it (nor does the API wait for the ALB)."""
    api = any_run.one("aws:apigatewayv2/api:Api", "http")
    assert "corsConfiguration" not in api.inputs, api.urn
    if any_run.stack == "prod":
        assert any_run.outputs["ui_url"] == "http://ui.eu-central-1.elb.amazonaws.com"
        balancer = any_run.one("efs-inference:ui_load_balancer:UiLoadBalancer", "ui")
        assert balancer.urn not in api.dependencies


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_outputs(stack: str, request: pytest.FixtureRequest) -> None:
    """The API URL, function name, log groups, EFS id and repository URLs are exported; the UI's only with the UI."""
    run: StackRun = request.getfixturevalue(f"{stack}_run")
    expected = {
        "api_url",
        "function_name",
        "function_log_group",
        "publisher_log_group",
        "api_access_log_group",
        "efs_id",
        "model_bucket",
        "inference_repository_url",
        "api_auth",
        "api_caller_policy",
        "api_caller_policy_arn",
    }
    if stack == "prod":
        expected |= {"ui_url", "ui_load_balancer_dns_name", "ui_log_group", "ui_cluster_arn", "ui_repository_url"}
    assert set(run.outputs) == expected
    assert run.outputs["function_name"] == f"{PROJECT}-{stack}-api"
    assert run.outputs["api_url"].startswith("https://")
