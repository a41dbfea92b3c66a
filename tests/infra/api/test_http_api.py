"""The HTTP API under mocks: routes from the handler's route table behind the stack's auth, the proxy integration,
the stage, CORS, the invoke permission and the callers' policy; and the args' checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference.routes import PREFLIGHT_ROUTE_KEYS, ROUTE_KEYS
from infra.api.http_api import HttpApiArgs, route_child_name, validate_http_api_args
from testing.pulumi_mocks import (
    ACCOUNT,
    PROJECT,
    REGION,
    StackRun,
)
from tests.infra.registered import LOG_GROUP, ROUTE, api_arn, document, resource_id, setting
from tests.infra.variants import VARIANTS_BY_NAME, Variant


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


def test_api_has_no_cors_without_configured_origins(any_run: StackRun) -> None:
    """The UI calls the API from its server, so no CORS entry is made for it (nor does the API wait for the ALB)."""
    api = any_run.one("aws:apigatewayv2/api:Api", "http")
    assert "corsConfiguration" not in api.inputs, api.urn
    if any_run.stack == "prod":
        assert any_run.outputs["ui_url"] == "http://ui.eu-central-1.elb.amazonaws.com"
        balancer = any_run.one("efs-inference:ui_load_balancer:UiLoadBalancer", "ui")
        assert balancer.urn not in api.dependencies


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


def test_cors_admits_only_the_configured_origins_with_signing_headers(https_ui_run: StackRun) -> None:
    """corsAllowOrigins (for a browser-side client) and nothing else; SigV4's and a token's headers are allowed."""
    cors = https_ui_run.one("aws:apigatewayv2/api:Api", "http").inputs["corsConfiguration"]
    assert cors["allowOrigins"] == ["https://app.example.com"]
    assert {"authorization", "x-amz-date", "x-amz-security-token"} <= set(cors["allowHeaders"])


@pytest.mark.parametrize("variant", ["cors", "everything", "jwt-cors"])
def test_with_cors_a_browser_preflight_passes_no_authorizer(variant: str, model_dirs: list[Path]) -> None:
    """A preflight carries no credentials: with CORS on, OPTIONS on any path reaches the API function without auth
    (the function answers 204; API Gateway adds the CORS headers), while every other route keeps the stack's auth."""
    run = VARIANTS_BY_NAME[variant].run(model_dirs) if variant != "jwt-cors" else jwt_cors_run(model_dirs)
    routes = {route.inputs["routeKey"]: route for route in run.of_type(ROUTE)}
    integration = run.one("aws:apigatewayv2/integration:Integration", "http")
    for route_key in PREFLIGHT_ROUTE_KEYS:
        route = routes[route_key]
        assert route.inputs["authorizationType"] == "NONE" and "authorizerId" not in route.inputs, route.urn
        assert route.inputs["target"] == f"integrations/{integration.name}-id", route.urn
    others = [route for key, route in routes.items() if key not in PREFLIGHT_ROUTE_KEYS]
    assert {route.inputs["authorizationType"] for route in others} == {"JWT" if variant == "jwt-cors" else "AWS_IAM"}


def jwt_cors_run(model_dirs: list[Path]) -> StackRun:
    variant = VARIANTS_BY_NAME["jwt"]
    overrides = {**variant.overrides, "corsAllowOrigins": '["https://app.example.com"]'}
    return Variant("jwt-cors", "dev", overrides).run(model_dirs)


def test_without_cors_there_is_no_preflight_route(any_run: StackRun) -> None:
    """No CORS, no unauthenticated route: OPTIONS then meets $default and its authorizer."""
    assert not {route.inputs["routeKey"] for route in any_run.of_type(ROUTE)} & set(PREFLIGHT_ROUTE_KEYS)


def test_http_api_refuses_timeouts_beyond_the_integration_ceiling_and_duplicate_routes() -> None:
    """HttpApiArgs: timeout 1-30 s, and each route key once."""

    def api_args(route_keys: tuple[str, ...] = ROUTE_KEYS, timeout_seconds: int = 30) -> HttpApiArgs:
        return HttpApiArgs(
            function_arn="arn",
            function_name="f",
            access_log_group_name="/logs",
            route_keys=route_keys,
            timeout_seconds=timeout_seconds,
        )

    validate_http_api_args(api_args())
    with pytest.raises(ValueError, match="timeout_seconds must be from 1 to 30"):
        validate_http_api_args(api_args(timeout_seconds=31))
    with pytest.raises(ValueError, match="without duplicates"):
        validate_http_api_args(api_args(route_keys=("GET /a", "GET /a")))


def test_route_names_are_stable_slugs_of_the_route_keys() -> None:
    """Route resources are named from their keys only, all distinct."""
    assert route_child_name("http", "POST /models/{name}/predict") == "http-post-models-name-predict"
    assert route_child_name("http", "$default") == "http-default"
    assert len({route_child_name("http", key) for key in ROUTE_KEYS}) == len(ROUTE_KEYS)
