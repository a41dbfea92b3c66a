"""The HTTP API: API Gateway v2 with a Lambda proxy integration (payload 2.0), one route per key of the
handler's route table plus `$default`, each behind the stack's auth (IAM by default, or a JWT authorizer),
a throttled auto-deploying `$default` stage with JSON access logs, CORS only for configured browser
origins, an invoke permission scoped to this API, and a managed policy that lets its holder call it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from inference.routes import API_FUNCTION, PREFLIGHT_ROUTE_KEYS, function_of
from infra.building_blocks.iam import document, invoke_api_statements
from infra.config.checks import API_AUTH_MODES
from infra.config.limits import HTTP_API_TIMEOUT_SECONDS, LOG_RETENTION_DAYS
from infra.config.names import StackNames
from infra.config.schema import StackConfig
from infra.functions.efs_function import EfsFunction

# Route authorization type for each apiAuth mode.
AUTHORIZATION_TYPES = {"iam": "AWS_IAM", "jwt": "JWT", "none": "NONE"}
# Headers a browser-side client sends: SigV4's (iam) or a bearer token (jwt).
CORS_ALLOW_HEADERS = ("authorization", "content-type", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")

# One JSON object per request; $context variables of HTTP APIs.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "caller": "$context.identity.caller",  # the IAM principal of a signed request (iam)
    "authorizerError": "$context.authorizer.error",  # why a token was refused (jwt)
}


@dataclass
class RouteTarget:
    """A function that serves some routes of the table, besides the API function."""

    function_arn: pulumi.Input[str]
    function_name: pulumi.Input[str]


@dataclass
class HttpApiArgs:
    function_arn: pulumi.Input[str]
    function_name: pulumi.Input[str]
    route_keys: Sequence[str]
    access_log_group_name: str
    timeout_seconds: int = HTTP_API_TIMEOUT_SECONDS
    throttle_burst: int = 100
    throttle_rate: int = 50
    cors_origins: Sequence[str] = field(default_factory=list)  # empty: no CORS at all
    log_retention_days: int = 14
    auth: str = "iam"  # iam | jwt | none
    jwt_issuer: str = ""
    jwt_audience: Sequence[str] = ()
    # By the route table's function names (e.g. "jobs"): one integration each. A route whose function is
    # absent goes to the API function, whose handler answers for it (jobs off: 404 jobs_disabled).
    other_functions: Mapping[str, RouteTarget] = field(default_factory=dict)

    @classmethod
    def from_config(
        cls,
        config: StackConfig,
        names: StackNames,
        function: EfsFunction,
        route_keys: Sequence[str],
        *,
        other_functions: Mapping[str, RouteTarget] | None = None,
    ) -> HttpApiArgs:
        """Proxies every route to `function`, behind the configured auth; CORS admits the configured origins only
        (the UI calls the API from its server, never from the browser)."""
        return cls(
            function_arn=function.function_arn,
            function_name=function.function_name,
            route_keys=route_keys,
            access_log_group_name=names.api_access_log_group,
            timeout_seconds=config.function.timeout_seconds,
            throttle_burst=config.api.throttle_burst,
            throttle_rate=config.api.throttle_rate,
            cors_origins=list(config.api.cors_allow_origins),
            log_retention_days=config.observability.log_retention_days,
            auth=config.api_auth.mode,
            jwt_issuer=config.api_auth.jwt_issuer,
            jwt_audience=list(config.api_auth.jwt_audience),
            other_functions=other_functions or {},
        )


def validate_http_api_args(args: HttpApiArgs) -> None:
    if not 1 <= args.timeout_seconds <= HTTP_API_TIMEOUT_SECONDS:
        raise ValueError(
            f"HttpApiArgs.timeout_seconds must be from 1 to {HTTP_API_TIMEOUT_SECONDS} "
            f"(the integration's ceiling), not {args.timeout_seconds}"
        )
    if not args.route_keys or len(set(args.route_keys)) != len(args.route_keys):
        raise ValueError("HttpApiArgs.route_keys must be a non-empty list without duplicates")
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"HttpApiArgs.log_retention_days must be a CloudWatch retention value, not {args.log_retention_days}"
        )
    if args.auth not in API_AUTH_MODES:
        raise ValueError(f"HttpApiArgs.auth must be one of {', '.join(API_AUTH_MODES)}, not {args.auth!r}")
    if args.auth == "jwt" and not (args.jwt_issuer and args.jwt_audience):
        raise ValueError("HttpApiArgs.jwt_issuer and jwt_audience must be set when auth is jwt")


def route_child_name(api_name: str, route_key: str) -> str:
    """A stable, readable resource name per route: `POST /models/{name}/predict` → `<api>-post-models-name-predict`."""
    slug = re.sub(r"[^a-z0-9]+", "-", route_key.lower()).strip("-")
    return f"{api_name}-{slug}"


def caller_policy_document(execution_arn: str) -> str:
    """The least privilege a caller needs with auth iam: execute-api:Invoke on this API only."""
    return json.dumps(document(invoke_api_statements(execution_arn)))


class HttpApi(pulumi.ComponentResource):
    api_id: pulumi.Output[str]  # the ApiId dimension of its CloudWatch metrics
    api_endpoint: pulumi.Output[str]
    execution_arn: pulumi.Output[str]
    access_log_group_name: pulumi.Output[str]
    auth: str
    caller_policy: pulumi.Output[str]  # the JSON of caller_policy_document
    caller_policy_arn: pulumi.Output[str] | None  # a managed policy holding it, to attach (auth iam only)

    def __init__(self, name: str, args: HttpApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate_http_api_args(args)
        super().__init__("efs-inference:http_api:HttpApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        cors = None
        if args.cors_origins:
            cors = aws.apigatewayv2.ApiCorsConfigurationArgs(
                allow_origins=list(args.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=list(CORS_ALLOW_HEADERS),
                max_age=3600,
            )
        self.api = aws.apigatewayv2.Api(name, protocol_type="HTTP", cors_configuration=cors, opts=child)
        self.authorizer = None
        if args.auth == "jwt":
            self.authorizer = aws.apigatewayv2.Authorizer(
                name,
                api_id=self.api.id,
                authorizer_type="JWT",
                identity_sources=["$request.header.Authorization"],
                jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
                    issuer=args.jwt_issuer, audiences=list(args.jwt_audience)
                ),
                opts=child,
            )
        self.integration = aws.apigatewayv2.Integration(
            name,
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            integration_method="POST",
            integration_uri=args.function_arn,
            payload_format_version="2.0",
            timeout_milliseconds=args.timeout_seconds * 1000,
            opts=child,
        )
        integrations = {API_FUNCTION: self.integration}
        for function, served in args.other_functions.items():
            integrations[function] = aws.apigatewayv2.Integration(
                f"{name}-{function}",
                api_id=self.api.id,
                integration_type="AWS_PROXY",
                integration_method="POST",
                integration_uri=served.function_arn,
                payload_format_version="2.0",
                timeout_milliseconds=args.timeout_seconds * 1000,
                opts=child,
            )
        targets = {
            function: integration.id.apply(lambda integration_id: f"integrations/{integration_id}")
            for function, integration in integrations.items()
        }

        def target(route_key: str) -> pulumi.Output[str]:
            return targets.get(function_of(route_key), targets[API_FUNCTION])

        self.routes = [
            aws.apigatewayv2.Route(
                route_child_name(name, route_key),
                api_id=self.api.id,
                route_key=route_key,
                target=target(route_key),
                authorization_type=AUTHORIZATION_TYPES[args.auth],
                authorizer_id=self.authorizer.id if self.authorizer else None,
                opts=child,
            )
            for route_key in args.route_keys
        ]
        # Browsers send preflights without credentials: with CORS on, they must not meet the authorizer.
        self.preflight_routes = [
            aws.apigatewayv2.Route(
                route_child_name(name, route_key),
                api_id=self.api.id,
                route_key=route_key,
                target=targets[API_FUNCTION],
                authorization_type=AUTHORIZATION_TYPES["none"],
                opts=child,
            )
            for route_key in (PREFLIGHT_ROUTE_KEYS if args.cors_origins else ())
        ]
        self.access_log_group = aws.cloudwatch.LogGroup(
            f"{name}-access", name=args.access_log_group_name, retention_in_days=args.log_retention_days, opts=child
        )
        self.stage = aws.apigatewayv2.Stage(
            name,
            api_id=self.api.id,
            name="$default",
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_burst_limit=args.throttle_burst, throttling_rate_limit=args.throttle_rate
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=self.access_log_group.arn, format=json.dumps(ACCESS_LOG_FORMAT)
            ),
            opts=child,
        )
        self.permission = aws.lambda_.Permission(
            name,
            action="lambda:InvokeFunction",
            function=args.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=self.api.execution_arn.apply(lambda arn: f"{arn}/*/*"),
            opts=child,
        )
        self.other_permissions = [
            aws.lambda_.Permission(
                f"{name}-{function}",
                action="lambda:InvokeFunction",
                function=served.function_name,
                principal="apigateway.amazonaws.com",
                source_arn=self.api.execution_arn.apply(lambda arn: f"{arn}/*/*"),
                opts=child,
            )
            for function, served in args.other_functions.items()
        ]
        self.api_id = self.api.id
        self.api_endpoint = self.api.api_endpoint
        self.execution_arn = self.api.execution_arn
        self.access_log_group_name = self.access_log_group.name
        self.auth = args.auth
        self.caller_policy = self.api.execution_arn.apply(caller_policy_document)
        self.caller_policy_arn = None
        if args.auth == "iam":
            self.managed_caller_policy = aws.iam.Policy(
                f"{name}-callers",
                description="May call the efs-inference HTTP API (execute-api:Invoke on it only)",
                policy=self.caller_policy,
                opts=child,
            )
            self.caller_policy_arn = self.managed_caller_policy.arn
        self.register_outputs(
            {
                "api_id": self.api_id,
                "api_endpoint": self.api_endpoint,
                "execution_arn": self.execution_arn,
                "access_log_group_name": self.access_log_group_name,
                "caller_policy": self.caller_policy,
                "caller_policy_arn": self.caller_policy_arn,
            }
        )
