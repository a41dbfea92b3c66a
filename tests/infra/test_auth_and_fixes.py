"""Who may call the API and who may use the UI, under mocks for both example stacks and the variants, and the
fixes of the deploy review (each test names its point): the program's registrations show each of them."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import yaml

from inference.routes import ROUTE_KEYS
from tests.infra.conftest import StackConfigFactory
from tests.infra.harness import ACCOUNT, EXISTING_VPC, REGION, ROOT, StackRun, run_program

CERTIFICATE = "arn:aws:acm:eu-central-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
ROUTE = "aws:apigatewayv2/route:Route"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
EXISTING_PRIVATE = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
EXISTING_PUBLIC = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]


def api_arn(run: StackRun) -> str:
    api = run.one("aws:apigatewayv2/api:Api", "http")
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api.name}-id"


def document(item: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(item.inputs["policy"] if hasattr(item, "inputs") else item)
    return found


@pytest.fixture(scope="module")
def jwt_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "dev", apiAuth="jwt", jwtIssuer="https://issuer.example.com/pool", jwtAudience=json.dumps(["app-client"])
    )
    return run_program(config, "dev")


@pytest.fixture(scope="module")
def open_run(stack_config: StackConfigFactory) -> tuple[StackRun, list[str]]:
    """apiAuth none and a public UI opted in: both allowed, both warned; the warnings as logged under mocks."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno == logging.WARNING:
                records.append(record.getMessage())

    handler = Collect()
    logging.getLogger().addHandler(handler)
    try:
        config = stack_config("dev", apiAuth="none", uiEnabled="true", uiPublicAccess="true")
        run = run_program(config, "dev")
    finally:
        logging.getLogger().removeHandler(handler)
    return run, records


@pytest.fixture(scope="module")
def cognito_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "prod",
        uiCertificateArn=CERTIFICATE,
        uiDomainName="ui.example.com",
        uiLogin="cognito",
        uiIngressCidrs=json.dumps(["0.0.0.0/0"]),
    )
    return run_program(config, "prod")


@pytest.fixture(scope="module")
def existing_nat_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "prod",
        natStrategy="none",
        existingVpcId=EXISTING_VPC,
        existingPrivateSubnetIds=json.dumps(EXISTING_PRIVATE),
        existingPublicSubnetIds=json.dumps(EXISTING_PUBLIC),
        existingPrivateSubnetEgress="true",
    )
    config["aws:assumeRoles"] = json.dumps(
        [{"roleArn": "arn:aws:iam::123456789012:role/deployer", "sessionName": "up"}]
    )
    config["aws:allowedAccountIds"] = json.dumps(["123456789012"])
    config["aws:endpoints"] = json.dumps(
        [{"s3": "https://s3.eu-central-1.amazonaws.com", "lambda": "https://l.example"}]
    )
    return run_program(config, "prod")


def test_every_route_requires_iam_by_default(any_run: StackRun) -> None:
    """Both example stacks: each route of the route table, $default included, has AWS_IAM authorization."""
    routes = any_run.of_type(ROUTE)
    assert sorted(route.inputs["routeKey"] for route in routes) == sorted(ROUTE_KEYS)
    for route in routes:
        assert route.inputs["authorizationType"] == "AWS_IAM", route.urn
        assert "authorizerId" not in route.inputs, route.urn
    assert any_run.outputs["api_auth"] == "iam"


def test_callers_get_a_least_privilege_policy_for_this_api(any_run: StackRun) -> None:
    """api_caller_policy allows execute-api:Invoke on this API's routes only; a managed policy holds the same."""
    expected = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InvokeThisApi",
                "Effect": "Allow",
                "Action": ["execute-api:Invoke"],
                "Resource": f"{api_arn(any_run)}/*",
            }
        ],
    }
    assert json.loads(any_run.outputs["api_caller_policy"]) == expected
    managed = any_run.one("aws:iam/policy:Policy", "http-callers")
    assert document(managed) == expected
    managed_arn = f"arn:aws:mock:{REGION}:{ACCOUNT}:aws:iam/policy:Policy/http-callers"
    assert any_run.outputs["api_caller_policy_arn"] == managed_arn


def test_ui_task_role_may_invoke_this_api_and_nothing_else(prod_run: StackRun) -> None:
    """The UI tasks run as their own role, assumable by ECS tasks only, whose one statement invokes this API."""
    role = prod_run.one("aws:iam/role:Role", "ui-task")
    assume = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert assume == [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    [statement] = document(prod_run.one(ROLE_POLICY, "ui-task"))["Statement"]
    assert statement == {
        "Sid": "InvokeThisApi",
        "Effect": "Allow",
        "Action": ["execute-api:Invoke"],
        "Resource": f"{api_arn(prod_run)}/*",
    }
    service = prod_run.one("awsx:ecs:FargateService", "ui")
    assert service.inputs["taskDefinitionArgs"]["taskRole"] == {
        "roleArn": f"arn:aws:mock:{REGION}:{ACCOUNT}:aws:iam/role:Role/ui-task"
    }
    assert prod_run.one(ROLE_POLICY, "ui-task").urn in service.dependencies, "the first task must be able to sign"


def test_jwt_mode_puts_a_jwt_authorizer_on_every_route(jwt_run: StackRun) -> None:
    """apiAuth jwt: one JWT authorizer with the configured issuer and audience, named by every route; no IAM policy."""
    authorizer = jwt_run.one("aws:apigatewayv2/authorizer:Authorizer", "http")
    assert authorizer.inputs["authorizerType"] == "JWT"
    assert authorizer.inputs["identitySources"] == ["$request.header.Authorization"]
    assert authorizer.inputs["jwtConfiguration"] == {
        "issuer": "https://issuer.example.com/pool",
        "audiences": ["app-client"],
    }
    for route in jwt_run.of_type(ROUTE):
        assert (route.inputs["authorizationType"], route.inputs["authorizerId"]) == ("JWT", "http-id"), route.urn
    assert not jwt_run.of_type("aws:iam/policy:Policy")
    assert "api_caller_policy" not in jwt_run.outputs and jwt_run.outputs["api_auth"] == "jwt"


def test_auth_off_and_a_public_ui_are_allowed_but_warned(open_run: tuple[StackRun, list[str]]) -> None:
    """apiAuth none leaves routes open and says what that exposes; uiPublicAccess is warned too; the UI then
    calls the API unsigned."""
    run, warnings = open_run
    for route in run.of_type(ROUTE):
        assert route.inputs["authorizationType"] == "NONE", route.urn
    assert any(warning.startswith("apiAuth is none: anyone who finds the API's URL") for warning in warnings), warnings
    assert any(warning.startswith("uiPublicAccess is true") for warning in warnings), warnings
    environment = run.one("awsx:ecs:FargateService", "ui").inputs["taskDefinitionArgs"]["containers"]["ui"][
        "environment"
    ]
    assert {"name": "API_AUTH", "value": "none"} in environment


def test_cognito_login_signs_users_in_before_the_ui(cognito_run: StackRun) -> None:
    """uiLogin cognito: a pool only admins add users to, a code-flow client calling back to the UI's domain, and an
    HTTPS listener that authenticates (order 1) before it forwards (order 2); the ALB may reach Cognito over HTTPS."""
    pool = cognito_run.one("aws:cognito/userPool:UserPool", "ui-login")
    assert pool.inputs["adminCreateUserConfig"] == {"allowAdminCreateUserOnly": True}
    client = cognito_run.one("aws:cognito/userPoolClient:UserPoolClient", "ui-login").inputs
    assert client["callbackUrls"] == ["https://ui.example.com/oauth2/idpresponse"]
    assert client["allowedOauthFlows"] == ["code"] and client["generateSecret"] is True
    domain = cognito_run.one("aws:cognito/userPoolDomain:UserPoolDomain", "ui-login").inputs["domain"]
    assert domain.startswith("efs-inference-prod-")
    sign_in, forward = cognito_run.one("aws:lb/listener:Listener", "ui-https").inputs["defaultActions"]
    assert (sign_in["type"], sign_in["order"], forward["type"], forward["order"]) == (
        "authenticate-cognito",
        1,
        "forward",
        2,
    )
    assert sign_in["authenticateCognito"]["userPoolDomain"] == domain
    egress = cognito_run.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "ui-to-idp").inputs
    assert (egress["securityGroupId"], egress["fromPort"]) == ("ui-id", 443)
    assert cognito_run.outputs["ui_url"] == "https://ui.example.com"
    assert "ui_user_pool_id" in cognito_run.outputs


def test_fix_1_prod_example_reserves_no_concurrency(prod_run: StackRun) -> None:
    """Fix 1: reserving N needs a regional quota of N + 100; the prod example leaves the function unreserved."""
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    assert "efs-inference:reservedConcurrency" not in stack
    assert prod_run.one("aws:lambda/function:Function", "api").inputs["reservedConcurrentExecutions"] == -1


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


def test_fix_5_ui_runs_where_it_has_egress(prod_run: StackRun, existing_nat_run: StackRun) -> None:
    """Fix 5: private subnets when they have a NAT (a new VPC's, or an existing one saying so), else public with
    public IPs (test_variants covers both no-NAT layouts)."""
    for run, subnets in (
        (prod_run, ["subnet-private0", "subnet-private1", "subnet-private2"]),
        (existing_nat_run, EXISTING_PRIVATE),
    ):
        network = run.one("awsx:ecs:FargateService", "ui").inputs["networkConfiguration"]
        assert (network["subnets"], network["assignPublicIp"]) == (subnets, False)


def test_fix_7_s3_endpoint_lets_through_only_the_stacks_buckets(dev_run: StackRun, prod_run: StackRun) -> None:
    """Fix 7: the gateway endpoint's policy allows list/read of the model bucket, and (UI on) reads of ECR's layers."""
    for run, ecr in ((dev_run, False), (prod_run, True)):
        policy = run.one("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy", "network-s3")
        assert policy.inputs["vpcEndpointId"] == "network-s3-id"
        statements = document(policy)["Statement"]
        assert statements[0]["Resource"] == ["arn:aws:s3:::model-bucket", "arn:aws:s3:::model-bucket/*"]
        assert statements[0]["Action"] == ["s3:ListBucket", "s3:GetObject"]
        layers = [statement["Resource"] for statement in statements[1:]]
        assert layers == ([[f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/*"]] if ecr else []), run.stack
        for statement in statements:
            assert "*" not in statement["Resource"] and not any("*" in action for action in statement["Action"])


def test_fix_7_existing_vpc_has_no_endpoint_of_ours(existing_nat_run: StackRun) -> None:
    """An existing VPC's endpoints are its own: no endpoint and no endpoint policy are made there."""
    assert not existing_nat_run.of_type("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy")


def test_fix_9_provider_forwards_assume_roles_accounts_and_endpoints(existing_nat_run: StackRun) -> None:
    """Fix 9: aws:assumeRoles, aws:allowedAccountIds and aws:endpoints reach the explicit provider, with the region."""
    inputs = existing_nat_run.one("pulumi:providers:aws", "aws").inputs
    assert json.loads(inputs["assumeRoles"]) == [
        {"roleArn": "arn:aws:iam::123456789012:role/deployer", "sessionName": "up"}
    ]
    assert json.loads(inputs["allowedAccountIds"]) == ["123456789012"]
    assert json.loads(inputs["endpoints"]) == [
        {"s3": "https://s3.eu-central-1.amazonaws.com", "lambda": "https://l.example"}
    ]
    assert inputs["region"] == REGION


def test_fix_11_old_model_versions_expire(any_run: StackRun) -> None:
    """Fix 11: noncurrent versions expire after 30 days (stray delete markers and uploads go too), after versioning."""
    lifecycle = any_run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "model")
    [rule] = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled" and rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert rule["expiration"] == {"expiredObjectDeleteMarker": True}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
    versioning = any_run.one("aws:s3/bucketVersioning:BucketVersioning", "model")
    assert versioning.urn in lifecycle.dependencies
