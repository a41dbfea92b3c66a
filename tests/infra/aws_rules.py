"""AWS's own rules for what the program registers, checked offline: what Pulumi's mocks accept but AWS refuses.

Mocks accept whatever the SDK's types allow. AWS does not: a repeated statement id, an apostrophe in a security
group rule's description, a `_` in a Cognito domain prefix or a 65-character role name each fail a real
`pulumi up`. Each rule below is written from AWS's documentation (linked beside it), not from the program's own
constants, so a wrong constant in the program cannot make its own check pass. `violations(resources)` runs
every rule on every registered resource; a type no rule knows is itself a violation, so a new kind of
resource is looked at before it ships.

Names that Pulumi generates (`<resource name>-<7 random characters>`) are checked at their generated length."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.iam.exceptions import MalformedPolicyDocument
from moto.iam.policy_validation import IAMPolicyDocumentValidator, IAMTrustPolicyDocumentValidator

from testing.pulumi_mocks import ACCOUNT, REGION, Registered

AUTONAME_SUFFIX = "-a1b2c3d"  # Pulumi's auto-names: the resource's name, '-', 7 random characters


@dataclass(frozen=True)
class Violation:
    urn: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.urn}: {self.rule}: {self.message}"


Check = Callable[[Registered, "Stack"], Iterable[str]]


@dataclass(frozen=True)
class Rule:
    name: str
    types: tuple[str, ...]
    check: Check
    doc: str


RULES: list[Rule] = []
# Types whose inputs hold nothing AWS limits beyond what the SDK's types already enforce (ids of other
# resources, booleans, fixed enumerations the components set), each with the reason.
NOTHING_TO_CHECK = {
    "aws:cloudwatch/eventTarget:EventTarget": "a rule name and a function ARN, both checked where they are made",
    "aws:ecs/cluster:Cluster": "no input",
    "aws:efs/mountTarget:MountTarget": "ids of a file system, a subnet and groups",
    "aws:lambda/invocation:Invocation": "a function name (checked on the function) and a JSON payload",
    "aws:s3/bucketObjectv2:BucketObjectv2": "keys under a bucket, at most a few path segments",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "a fixed enumeration value",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "four booleans",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "SSE-S3",
    "aws:s3/bucketVersioning:BucketVersioning": "a fixed status",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "a service name looked up from the region",
    "aws:apigatewayv2/api:Api": "a protocol and the CORS origins the config checks",
    "aws:apigatewayv2/authorizer:Authorizer": "an issuer URL and audiences the config checks",
    "aws:cognito/userPool:UserPool": "fixed settings",
    "aws:cognito/userPoolClient:UserPoolClient": "fixed settings and the UI's https callback URL",
    "awsx:ec2:Vpc": "a CIDR block and zone count the config checks; its children are awsx's",
    "awsx:ecr:Image": "a build context and a platform",
    "pulumi:providers:aws": "the stack's own aws:* settings",
    "time:index/sleep:Sleep": "not an AWS resource",
}


@dataclass(frozen=True)
class Stack:
    """All of one run's registrations, for rules that relate two resources (a queue and its consumer)."""

    resources: tuple[Registered, ...]

    def by_type(self, type_token: str) -> list[Registered]:
        return [item for item in self.resources if item.type == type_token]


def rule(name: str, *types: str, doc: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.append(Rule(name, types, check, doc))
        return check

    return register


def generated_name(item: Registered, key: str = "name") -> str:
    """The physical name: given, or as Pulumi generates it."""
    given = item.inputs.get(key)
    return given if isinstance(given, str) and given else f"{item.name}{AUTONAME_SUFFIX}"


def _name_problems(name: str, what: str, pattern: str, most: int, least: int = 1) -> list[str]:
    problems = []
    if not least <= len(name) <= most:
        problems.append(f"{what} {name!r} has {len(name)} characters; AWS takes {least} to {most}")
    if not re.fullmatch(pattern, name):
        problems.append(f"{what} {name!r} has characters AWS refuses (allowed: {pattern})")
    return problems


# --- IAM documents --------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html ("Sid ... must be unique
# within a policy"); moto's IAMPolicyDocumentValidator is what moto's own IAM API runs on every document.
IDENTITY_POLICIES = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
}
TRUST_POLICIES = {"aws:iam/role:Role": "assumeRolePolicy"}
# Resource-based policies, which name their principals:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html
RESOURCE_POLICIES = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:efs/fileSystemPolicy:FileSystemPolicy": "policy",
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
}


def _statements(document: str) -> list[dict[str, Any]]:
    statement = json.loads(document)["Statement"]
    return statement if isinstance(statement, list) else [statement]


def _validate(validator: type[IAMPolicyDocumentValidator | IAMTrustPolicyDocumentValidator], document: str) -> str:
    try:
        validator(document).validate()
    except MalformedPolicyDocument as error:
        return str(error.message)
    return ""


def _names_principal(statement: dict[str, Any]) -> bool:
    return "Principal" in statement or "NotPrincipal" in statement


def _policy_rule(
    name: str,
    documents: Mapping[str, str],
    validator: type[IAMPolicyDocumentValidator | IAMTrustPolicyDocumentValidator],
    principals: bool,
    doc: str,
) -> None:
    """A rule for the policy documents of ``documents`` (type -> input key): IAM's grammar as ``validator`` reads
    it, and a Principal in every statement (``principals``) or in none."""

    @rule(name, *documents, doc=doc)
    def check(item: Registered, _: Stack) -> Iterable[str]:
        document = item.inputs[documents[item.type]]
        if problem := _validate(validator, document):
            yield f"AWS refuses the policy: {problem}"
        elif principals and not all(_names_principal(statement) for statement in _statements(document)):
            yield "every statement names its Principal"
        elif not principals and any(_names_principal(statement) for statement in _statements(document)):
            yield "an identity policy names no Principal (IAM: 'Policy document should not specify a principal')"


_policy_rule(
    "iam-identity-policy",
    IDENTITY_POLICIES,
    IAMPolicyDocumentValidator,
    principals=False,
    doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html",
)
_policy_rule(
    "iam-trust-policy",
    TRUST_POLICIES,
    IAMTrustPolicyDocumentValidator,
    principals=True,
    doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html",
)
_policy_rule(
    "resource-policy",
    RESOURCE_POLICIES,
    IAMPolicyDocumentValidator,
    principals=True,
    doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html",
)


# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names
@rule(
    "iam-names",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
)
def _iam_names(item: Registered, _: Stack) -> Iterable[str]:
    most = 64 if item.type == "aws:iam/role:Role" else 128
    yield from _name_problems(generated_name(item), "name", r"[\w+=,.@-]+", most)
    if len(item.inputs.get("description", "")) > 1000:
        yield "a description has at most 1000 characters"


# --- Lambda ---------------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html and
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
LAMBDA_RESERVED_VARIABLES = {
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
}
LAMBDA_ENVIRONMENT_BYTES = 4096


@rule(
    "lambda-function",
    "aws:lambda/function:Function",
    doc="https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html",
)
def _lambda_function(item: Registered, _: Stack) -> Iterable[str]:
    inputs = item.inputs
    yield from _name_problems(inputs.get("name", ""), "function name", r"[A-Za-z0-9_-]+", 64)
    if not 128 <= inputs.get("memorySize", 128) <= 10240:
        yield f"memory {inputs['memorySize']} MB is outside 128-10240"
    if not 1 <= inputs.get("timeout", 3) <= 900:
        yield f"timeout {inputs['timeout']} s is outside 1-900"
    if not set(inputs.get("architectures", ["x86_64"])) <= {"x86_64", "arm64"} or len(inputs["architectures"]) != 1:
        yield f"architectures {inputs['architectures']} must be one of x86_64, arm64"
    variables: Mapping[str, str] = (inputs.get("environment") or {}).get("variables", {})
    for key in variables:
        if not re.fullmatch(r"[a-zA-Z]([a-zA-Z0-9_])+", key):
            yield f"environment variable name {key!r} must match [a-zA-Z]([a-zA-Z0-9_])+"
        if key in LAMBDA_RESERVED_VARIABLES:
            yield f"environment variable {key} is reserved by Lambda"
    size = sum(len(key.encode()) + len(str(value).encode()) for key, value in variables.items())
    if size > LAMBDA_ENVIRONMENT_BYTES:
        yield f"environment variables take {size} bytes; Lambda takes 4 KB in all"
    # Reserving N needs N + 100 unreserved in the account's regional quota, and new accounts may have only 10:
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
    reserved = inputs.get("reservedConcurrentExecutions")
    if reserved is not None and reserved >= 0:
        yield f"reserves {reserved} concurrent executions, which accounts with a small quota refuse"


@rule(
    "lambda-event-source-mapping",
    "aws:lambda/eventSourceMapping:EventSourceMapping",
    doc="https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html",
)
def _event_source_mapping(item: Registered, stack: Stack) -> Iterable[str]:
    inputs = item.inputs
    if not 1 <= inputs.get("batchSize", 10) <= 10:
        yield f"batch size {inputs['batchSize']} is outside 1-10 for a standard queue without a batching window"
    maximum = (inputs.get("scalingConfig") or {}).get("maximumConcurrency")
    if maximum is not None and not 2 <= maximum <= 1000:
        yield f"maximum concurrency {maximum} is outside 2-1000"
    queue = next((q for q in stack.by_type("aws:sqs/queue:Queue") if _arn_of(q) == inputs["eventSourceArn"]), None)
    function = next(
        (f for f in stack.by_type("aws:lambda/function:Function") if _arn_of(f) == inputs["functionName"]), None
    )
    if queue and function:
        visibility = queue.inputs.get("visibilityTimeoutSeconds", 30)
        timeout = function.inputs.get("timeout", 3)
        if visibility < timeout:
            yield f"Lambda refuses a visibility timeout ({visibility} s) under the function's timeout ({timeout} s)"
        elif visibility < 6 * timeout:
            yield f"AWS advises a visibility timeout of 6x the function's timeout ({6 * timeout} s), not {visibility} s"


def _arn_of(item: Registered) -> str:
    """The ARN the harness's mocks give a resource (so that references between resources can be followed)."""
    if item.type == "aws:lambda/function:Function":
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{item.inputs['name']}"
    if item.type == "aws:sqs/queue:Queue":
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{item.name}"
    return ""


@rule(
    "lambda-permission",
    "aws:lambda/permission:Permission",
    doc="https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html",
)
def _lambda_permission(item: Registered, _: Stack) -> Iterable[str]:
    yield from _name_problems(generated_name(item, "statementId"), "statement id", r"[a-zA-Z0-9-_]+", 100)


# --- Logs, events, alarms, dashboards, topics ------------------------------------------------------------------
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922}
LOG_RETENTION_DAYS |= {3288, 3653}


@rule(
    "log-group",
    "aws:cloudwatch/logGroup:LogGroup",
    doc="https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
)
def _log_group(item: Registered, _: Stack) -> Iterable[str]:
    yield from _name_problems(generated_name(item), "log group name", r"[\.\-_/#A-Za-z0-9]+", 512)
    if item.inputs.get("retentionInDays", 1) not in LOG_RETENTION_DAYS:
        yield f"retention {item.inputs['retentionInDays']} days is not a value CloudWatch Logs takes"


@rule(
    "eventbridge-rule",
    "aws:cloudwatch/eventRule:EventRule",
    doc="https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
)
def _event_rule(item: Registered, _: Stack) -> Iterable[str]:
    yield from _name_problems(generated_name(item), "rule name", r"[\.\-_A-Za-z0-9]+", 64)
    if len(item.inputs.get("description", "")) > 512:
        yield "a rule's description has at most 512 characters"
    expression = item.inputs.get("scheduleExpression", "rate(1 day)")
    if not re.fullmatch(r"rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\)", expression):
        yield f"schedule expression {expression!r} is neither rate(...) nor cron(...)"


@rule(
    "cloudwatch-dashboard",
    "aws:cloudwatch/dashboard:Dashboard",
    doc="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
)
def _dashboard(item: Registered, _: Stack) -> Iterable[str]:
    yield from _name_problems(item.inputs.get("dashboardName", ""), "dashboard name", r"[A-Za-z0-9_-]+", 255)
    body = item.inputs.get("dashboardBody", "")
    try:
        widgets = json.loads(body).get("widgets")
    except (TypeError, ValueError):
        widgets = None
    if not isinstance(widgets, list):
        yield "the dashboard body is a JSON object with a list of widgets"
    if len(body.encode()) > 1024 * 1024:
        yield "a dashboard body has at most 1 MB"


@rule(
    "cloudwatch-alarm",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    doc="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
)
def _alarm(item: Registered, _: Stack) -> Iterable[str]:
    inputs = item.inputs
    yield from _name_problems(generated_name(item), "alarm name", r"[^\x00-\x1f\x7f]+", 255)
    if len(inputs.get("alarmDescription", "")) > 1024:
        yield "an alarm description has at most 1024 characters"
    periods = inputs.get("evaluationPeriods", 1)
    if periods < 1 or not 1 <= inputs.get("datapointsToAlarm", periods) <= periods:
        yield "datapoints to alarm must be from 1 to the evaluation periods"
    for query in inputs.get("metricQueries") or []:
        if not re.fullmatch(r"[a-z][a-zA-Z0-9_]*", query.get("id", "")):
            yield f"metric query id {query.get('id')!r} must start with a lowercase letter"
        if ("expression" in query) == ("metric" in query):
            yield f"metric query {query.get('id')!r} has either an expression or a metric"
    period = inputs.get("period") or min(
        (q["metric"].get("period", 60) for q in inputs.get("metricQueries") or [] if "metric" in q), default=60
    )
    if period not in (10, 20, 30) and period % 60:
        yield f"period {period} s must be 10, 20, 30 or a multiple of 60"


@rule("sns-topic", "aws:sns/topic:Topic", doc="https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html")
def _topic(item: Registered, _: Stack) -> Iterable[str]:
    yield from _name_problems(generated_name(item), "topic name", r"[A-Za-z0-9_-]+", 256)


@rule(
    "sns-subscription",
    "aws:sns/topicSubscription:TopicSubscription",
    doc="https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html",
)
def _subscription(item: Registered, _: Stack) -> Iterable[str]:
    protocol = item.inputs.get("protocol")
    if protocol not in {"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"}:
        yield f"protocol {protocol!r} is not one SNS takes"
    if protocol in {"email", "email-json"} and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", item.inputs["endpoint"]):
        yield f"endpoint {item.inputs['endpoint']!r} is not an email address"


# --- Networking ---------------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html ("Constraints: Up to 255
# characters in length ... a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*"), the same for a rule's
# description: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html
SECURITY_GROUP_TEXT = r"[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]*"


@rule(
    "security-group-text",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    doc="https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
)
def _security_group_text(item: Registered, _: Stack) -> Iterable[str]:
    description = item.inputs.get("description", "")
    if not re.fullmatch(SECURITY_GROUP_TEXT, description):
        bad = sorted(set(re.sub(SECURITY_GROUP_TEXT[:-1] + "+", "", description)))
        yield f"description {description!r} has characters EC2 refuses: {''.join(bad)!r}"
    if len(description) > 255:
        yield "a description has at most 255 characters"
    if item.type == "aws:ec2/securityGroup:SecurityGroup":
        if not description:
            yield "a security group needs a description"
        yield from _name_problems(generated_name(item), "group name", SECURITY_GROUP_TEXT, 255)
    else:
        port_range = (item.inputs.get("fromPort"), item.inputs.get("toPort"))
        if not all(port is None or 0 <= port <= 65535 for port in port_range):
            yield f"ports {port_range} are outside 0-65535"


# --- Storage, queues, images ---------------------------------------------------------------------------------------
@rule(
    "s3-bucket-name",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    doc="https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
)
def _bucket_name(item: Registered, _: Stack) -> Iterable[str]:
    name = generated_name(item, "bucket").lower()  # Pulumi lowercases the names it generates for buckets
    yield from _name_problems(name, "bucket name", r"[a-z0-9][a-z0-9.-]*[a-z0-9]", 63, 3)
    if ".." in name or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name) or name.startswith("xn--"):
        yield f"bucket name {name!r} breaks S3's naming rules"


@rule(
    "s3-lifecycle",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    doc="https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRule.html",
)
def _lifecycle(item: Registered, _: Stack) -> Iterable[str]:
    ids = [rule_.get("id", "") for rule_ in item.inputs.get("rules", [])]
    if len(ids) != len(set(ids)) or any(len(rule_id) > 255 for rule_id in ids):
        yield f"rule ids {ids} must be unique, at most 255 characters"
    if len(ids) > 1000:
        yield "a bucket takes at most 1000 lifecycle rules"


@rule(
    "s3-cors",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
    "aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2",
    doc="https://docs.aws.amazon.com/AmazonS3/latest/API/API_CORSRule.html",
)
def _bucket_cors(item: Registered, _: Stack) -> Iterable[str]:
    rules = item.inputs.get("corsRules", [])
    if not 1 <= len(rules) <= 100:
        yield "a CORS configuration has 1 to 100 rules"
    for cors_rule in rules:
        if not set(cors_rule.get("allowedMethods", [])) <= {"GET", "PUT", "HEAD", "POST", "DELETE"}:
            yield f"allowed methods {cors_rule['allowedMethods']} are not all ones S3 takes"


@rule(
    "sqs-queue",
    "aws:sqs/queue:Queue",
    doc="https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html",
)
def _queue(item: Registered, _: Stack) -> Iterable[str]:
    inputs = item.inputs
    yield from _name_problems(generated_name(item), "queue name", r"[A-Za-z0-9_-]+(\.fifo)?", 80)
    ranges = {
        "visibilityTimeoutSeconds": (0, 43_200),
        "messageRetentionSeconds": (60, 1_209_600),
        "delaySeconds": (0, 900),
        "receiveWaitTimeSeconds": (0, 20),
    }
    for key, (low, high) in ranges.items():
        if key in inputs and not low <= inputs[key] <= high:
            yield f"{key} {inputs[key]} is outside {low}-{high}"
    if "redrivePolicy" in inputs and not 1 <= json.loads(inputs["redrivePolicy"])["maxReceiveCount"] <= 1000:
        yield "maxReceiveCount is outside 1-1000"


@rule(
    "sqs-redrive-allow",
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
    doc="https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html",
)
def _redrive_allow(item: Registered, _: Stack) -> Iterable[str]:
    policy = json.loads(item.inputs["redriveAllowPolicy"])
    if policy.get("redrivePermission") not in {"allowAll", "denyAll", "byQueue"}:
        yield f"redrivePermission {policy.get('redrivePermission')!r} is not one SQS takes"
    if policy.get("redrivePermission") == "byQueue" and not 1 <= len(policy.get("sourceQueueArns", [])) <= 10:
        yield "byQueue names 1 to 10 source queues"


@rule(
    "efs",
    "aws:efs/fileSystem:FileSystem",
    "aws:efs/accessPoint:AccessPoint",
    doc="https://docs.aws.amazon.com/efs/latest/ug/API_CreateAccessPoint.html",
)
def _efs(item: Registered, _: Stack) -> Iterable[str]:
    inputs = item.inputs
    if item.type == "aws:efs/fileSystem:FileSystem":
        if inputs.get("throughputMode", "bursting") not in {"bursting", "provisioned", "elastic"}:
            yield f"throughput mode {inputs['throughputMode']!r} is not one EFS takes"
        return
    root = inputs.get("rootDirectory") or {}
    path = root.get("path", "/")
    if len(path) > 100 or not re.fullmatch(r"/|(/(?!\.)+[^$#<>;`|&?{}^*/\n]+){1,4}", path):
        yield f"access point path {path!r} must be absolute, at most 100 characters and 4 levels"
    permissions = (root.get("creationInfo") or {}).get("permissions", "755")
    if not re.fullmatch(r"[0-7]{3,4}", permissions):
        yield f"permissions {permissions!r} must be octal"
    for key in ("uid", "gid"):
        if not 0 <= (inputs.get("posixUser") or {}).get(key, 0) <= 4_294_967_295:
            yield f"POSIX {key} is outside 0-4294967295"


@rule(
    "ecr",
    "aws:ecr/repository:Repository",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    doc="https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
)
def _ecr(item: Registered, _: Stack) -> Iterable[str]:
    if item.type == "aws:ecr/repository:Repository":
        yield from _name_problems(
            generated_name(item),
            "repository name",
            r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
            256,
            2,
        )
        return
    # https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
    for policy_rule in json.loads(item.inputs["policy"])["rules"]:
        selection = policy_rule["selection"]
        if selection.get("countType") == "imageCountMoreThan" and selection.get("countNumber", 0) < 1:
            yield "countNumber must be 1 or more"
        if policy_rule.get("action", {}).get("type") != "expire":
            yield "a lifecycle rule's action is expire"


# --- API Gateway ---------------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
ROUTE_METHODS = ("ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ROUTE_PATH = re.compile(r"/|(/([A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\}))*(/\{[A-Za-z0-9_]+\+\})?")


@rule(
    "apigateway-route",
    "aws:apigatewayv2/route:Route",
    doc="https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html",
)
def _route(item: Registered, _: Stack) -> Iterable[str]:
    route_key = item.inputs["routeKey"]
    method, _, path = route_key.partition(" ")
    if route_key != "$default" and not (method in ROUTE_METHODS and path and ROUTE_PATH.fullmatch(path)):
        yield f"route key {route_key!r} is not '$default' or 'METHOD /path', a greedy {{name+}} only last"
    authorization = item.inputs.get("authorizationType", "NONE")
    if authorization not in {"NONE", "AWS_IAM", "JWT", "CUSTOM"}:
        yield f"authorization type {authorization!r} is not one HTTP APIs take"
    if (authorization in {"JWT", "CUSTOM"}) != bool(item.inputs.get("authorizerId")):
        yield "JWT and CUSTOM routes, and only they, name an authorizer"


@rule(
    "apigateway-integration",
    "aws:apigatewayv2/integration:Integration",
    doc="https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html",
)
def _integration(item: Registered, _: Stack) -> Iterable[str]:
    if not 50 <= item.inputs.get("timeoutMilliseconds", 30_000) <= 30_000:
        yield f"integration timeout {item.inputs['timeoutMilliseconds']} ms is outside 50-30000"
    if item.inputs.get("payloadFormatVersion", "1.0") not in {"1.0", "2.0"}:
        yield "payload format version is 1.0 or 2.0"


@rule(
    "apigateway-stage",
    "aws:apigatewayv2/stage:Stage",
    doc="https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html",
)
def _stage(item: Registered, _: Stack) -> Iterable[str]:
    log_format = (item.inputs.get("accessLogSettings") or {}).get("format")
    if (
        log_format is not None
        and "$context.requestId" not in log_format
        and "$context.extendedRequestId" not in log_format
    ):
        yield "an access log format includes $context.requestId or $context.extendedRequestId"
    settings = item.inputs.get("defaultRouteSettings") or {}
    if settings.get("throttlingBurstLimit", 0) < 0 or settings.get("throttlingRateLimit", 0) < 0:
        yield "throttling limits are 0 or more"


# --- UI ---------------------------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolDomain.html and the
# console's rule: https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-assign-domain-prefix.html
@rule(
    "cognito-domain-prefix",
    "aws:cognito/userPoolDomain:UserPoolDomain",
    doc="https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolDomain.html",
)
def _cognito_domain(item: Registered, _: Stack) -> Iterable[str]:
    domain = item.inputs["domain"]
    if item.inputs.get("certificateArn"):
        return  # a custom domain: a DNS name of the owner's
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", domain):
        yield f"domain prefix {domain!r} must be 1-63 of a-z, 0-9 and '-', not starting or ending with '-'"
    for word in ("aws", "amazon", "cognito"):
        if word in domain:
            yield f"domain prefix {domain!r} contains the reserved word {word!r}"


# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html and
# API_CreateTargetGroup.html: names of at most 32 of a-zA-Z0-9 and '-'. awsx names both after the component.
@rule(
    "load-balancer",
    "awsx:lb:ApplicationLoadBalancer",
    "aws:lb/listener:Listener",
    doc="https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
)
def _load_balancer(item: Registered, _: Stack) -> Iterable[str]:
    if item.type == "awsx:lb:ApplicationLoadBalancer":
        for what, key in (("load balancer", "name"), ("target group", "defaultTargetGroup")):
            given = item.inputs.get(key)
            name = given.get("name") if isinstance(given, dict) else given
            yield from _name_problems(name or f"{item.name}{AUTONAME_SUFFIX}", f"{what} name", r"[a-zA-Z0-9-]+", 32)
        return
    if not 1 <= item.inputs["port"] <= 65535:
        yield f"port {item.inputs['port']} is outside 1-65535"
    if item.inputs.get("protocol") == "HTTPS" and not item.inputs.get("certificateArn"):
        yield "an HTTPS listener names a certificate"


# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_SIZES = {
    256: {512, 1024, 2048},
    512: set(range(1024, 4097, 1024)),
    1024: set(range(2048, 8193, 1024)),
    2048: set(range(4096, 16385, 1024)),
    4096: set(range(8192, 30721, 1024)),
}


@rule(
    "fargate-task-size",
    "awsx:ecs:FargateService",
    doc="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html",
)
def _fargate(item: Registered, _: Stack) -> Iterable[str]:
    task = item.inputs.get("taskDefinitionArgs") or {}
    cpu, memory = int(task.get("cpu", 256)), int(task.get("memory", 512))
    if memory not in FARGATE_SIZES.get(cpu, set()):
        yield f"{cpu} CPU units with {memory} MB is not a Fargate task size"


def violations(resources: Iterable[Registered]) -> list[Violation]:
    """Every rule on every resource it applies to, and every AWS resource type no rule covers."""
    stack = Stack(tuple(resources))
    by_type: dict[str, list[Rule]] = {}
    for each in RULES:
        for type_token in each.types:
            by_type.setdefault(type_token, []).append(each)
    found = []
    for item in stack.resources:
        if item.type.startswith("efs-inference:") or item.type in NOTHING_TO_CHECK:
            continue
        rules = by_type.get(item.type)
        if not rules:
            found.append(Violation(item.urn, "unknown-type", f"no rule covers {item.type}: add one (or say why none)"))
        for each in rules or []:
            found.extend(Violation(item.urn, each.name, message) for message in each.check(item, stack))
    return found
