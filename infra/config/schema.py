"""The stack's settings: every key with its type, default and meaning, declared once, here.

`Pulumi.yaml` repeats the declarations for the CLI, which applies the defaults there; the SDK does
not, so the program applies the same defaults from these dataclasses (a test keeps the two equal).
`infra.config.loading` reads and checks them."""

from __future__ import annotations

import typing
from dataclasses import Field, dataclass, field, fields
from typing import Any, Literal

ConfigType = Literal["string", "integer", "boolean", "array"]

_TYPE_OF_ANNOTATION: dict[Any, ConfigType] = {
    str: "string",
    int: "integer",
    bool: "boolean",
    tuple[str, ...]: "array",
}


def setting(key: str, default: Any, description: str) -> Any:
    """A dataclass field that is also a config key: its name in Pulumi.yaml, its default and its meaning."""
    return field(default=default, metadata={"key": key, "description": description})


@dataclass(frozen=True)
class NetworkConfig:
    nat_strategy: str = setting(
        "natStrategy",
        "none",
        "NAT gateways for a new VPC: none, single or onePerAz. The function needs only EFS and S3 "
        "(reached through a free gateway endpoint), so none is the default; the UI then runs in the public subnets.",
    )
    availability_zones: int = setting("availabilityZones", 2, "Availability zones of a new VPC (2 to 6).")
    vpc_cidr: str = setting("vpcCidr", "10.0.0.0/16", "IPv4 range of a new VPC (/16 to /22).")
    existing_vpc_id: str = setting("existingVpcId", "", "Use this VPC instead of creating one (vpc-...).")
    existing_private_subnet_ids: tuple[str, ...] = setting(
        "existingPrivateSubnetIds",
        (),
        "Subnets of existingVpcId for the functions and the file system (one per availability zone).",
    )
    existing_public_subnet_ids: tuple[str, ...] = setting(
        "existingPublicSubnetIds",
        (),
        "Subnets of existingVpcId for the UI's load balancer (two or more, in distinct zones).",
    )
    existing_private_subnet_egress: bool = setting(
        "existingPrivateSubnetEgress",
        False,
        "Whether existingPrivateSubnetIds reach the internet (through a NAT): the UI tasks then run there; "
        "otherwise they run in existingPublicSubnetIds with public IPs.",
    )


@dataclass(frozen=True)
class StorageConfig:
    efs_throughput_mode: str = setting("efsThroughputMode", "elastic", "EFS throughput mode: elastic or bursting.")
    efs_transition_to_ia: str = setting(
        "efsTransitionToIa",
        "AFTER_30_DAYS",
        "When idle files move to EFS Infrequent Access (AFTER_1_DAY ... AFTER_365_DAYS).",
    )
    existing_file_system_id: str = setting(
        "existingFileSystemId", "", "Mount this EFS file system (fs-...) instead of creating one, e.g. a retained one."
    )
    allow_deletion: bool = setting(
        "allowDeletion",
        False,
        "Let `pulumi destroy` delete stored data: the file system, the model bucket and the images. "
        "Otherwise the file system is retained and non-empty repositories and buckets block the destroy.",
    )
    ecr_keep_images: int = setting("ecrKeepImages", 10, "Images kept per ECR repository; older ones expire.")
    message_retention_days: int = setting(
        "messageRetentionDays",
        0,
        "Drop stored messages older than this many days, whole segments at a time, once a day (0 keeps them forever).",
    )


@dataclass(frozen=True)
class FunctionConfig:
    architecture: str = setting(
        "architecture", "x86_64", "CPU architecture of the function and the UI tasks: x86_64 or arm64."
    )
    memory_mb: int = setting("memoryMb", 1024, "Function memory in MB (128 to 10240); CPU share grows with it.")
    timeout_seconds: int = setting(
        "timeoutSeconds", 30, "Function timeout in seconds (1 to 30: the HTTP API stops waiting after 30 s)."
    )
    reserved_concurrency: int = setting(
        "reservedConcurrency", -1, "Reserved concurrent executions; -1 leaves the function unreserved."
    )
    max_text_bytes: int = setting("maxTextBytes", 16384, "Largest message text accepted, in bytes.")
    legacy_listing_lines: int = setting(
        "legacyListingLines", 1000, "How many of the most recent lines the old app's text listing returns."
    )


@dataclass(frozen=True)
class ApiConfig:
    throttle_burst: int = setting("throttleBurst", 100, "HTTP API stage burst limit (requests).")
    throttle_rate: int = setting("throttleRate", 50, "HTTP API stage steady rate limit (requests per second).")
    cors_allow_origins: tuple[str, ...] = setting(
        "corsAllowOrigins",
        (),
        "Browser origins allowed to call the API by CORS, for a browser-side client (e.g. https://app.example.com); "
        "empty: no CORS (the UI calls the API from its server).",
    )


@dataclass(frozen=True)
class ApiAuthConfig:
    """Who may call the API."""

    mode: str = setting(
        "apiAuth",
        "iam",
        "Who may call the API: iam (SigV4-signed requests by IAM principals allowed execute-api:Invoke on it, "
        "see the api_caller_policy output), jwt (a bearer token from jwtIssuer for jwtAudience) or none "
        "(anyone who finds the URL; warned at pulumi up).",
    )
    jwt_issuer: str = setting(
        "jwtIssuer", "", "Issuer (https URL) of the tokens the API accepts when apiAuth is jwt, e.g. a Cognito pool's."
    )
    jwt_audience: tuple[str, ...] = setting(
        "jwtAudience", (), "Audiences (aud or client_id) a token must carry when apiAuth is jwt."
    )


@dataclass(frozen=True)
class ObservabilityConfig:
    log_retention_days: int = setting(
        "logRetentionDays", 14, "Retention of every log group, in days (a CloudWatch value: 1, 3, 5, 7, 14, 30, ...)."
    )
    log_level: str = setting("logLevel", "INFO", "Log level of the functions: DEBUG, INFO, WARNING or ERROR.")
    alarms: bool = setting(
        "alarms",
        False,
        "CloudWatch alarms (the API's 5xx rate and p99 latency, any function error or throttle, dead letters, EFS "
        "burst credits, the UI's healthy tasks) notifying an SNS topic; about $0.10 a month per alarm metric.",
    )
    alarm_email: str = setting(
        "alarmEmail",
        "",
        "Email address subscribed to the alarms' SNS topic (needs alarms true); AWS mails a confirmation link first, "
        "and nothing is delivered until it is followed.",
    )


@dataclass(frozen=True)
class ModelConfig:
    model_dirs: tuple[str, ...] = setting(
        "modelDirs",
        ("models/digits", "models/minilm"),
        "Model folders published to EFS on `pulumi up` (relative to the project), each named as its model and checked "
        "as `efs-models check` checks it before anything is created; `make minilm` builds models/minilm.",
    )
    default_model: str = setting(
        "defaultModel", "", "Model served by POST /predict; empty means the first published model's name."
    )


@dataclass(frozen=True)
class UiConfig:
    enabled: bool = setting("uiEnabled", False, "Run the Streamlit UI on Fargate behind a load balancer.")
    cpu: int = setting("uiCpu", 256, "UI task CPU units: 256, 512, 1024, 2048 or 4096.")
    memory_mb: int = setting("uiMemoryMb", 512, "UI task memory in MB, a Fargate size valid for uiCpu.")
    desired_count: int = setting("uiDesiredCount", 1, "UI tasks to run (1 to 10); more than one turns on stickiness.")
    certificate_arn: str = setting(
        "uiCertificateArn", "", "ACM certificate for an HTTPS listener; HTTP then redirects to HTTPS."
    )
    ingress_cidrs: tuple[str, ...] = setting(
        "uiIngressCidrs", ("0.0.0.0/0",), "IPv4 ranges allowed to reach the UI's load balancer."
    )


@dataclass(frozen=True)
class UiAccessConfig:
    """Who may use the UI, which calls the API with its own role."""

    domain_name: str = setting(
        "uiDomainName",
        "",
        "DNS name the UI is served on (a CNAME or alias to the load balancer); required with uiCertificateArn, "
        "whose certificate must cover it. ui_url uses it.",
    )
    login: str = setting(
        "uiLogin",
        "none",
        "Sign-in in front of the UI: none, or cognito (the load balancer signs users in with a Cognito user pool "
        "the stack creates; needs uiCertificateArn and uiDomainName).",
    )
    public_access: bool = setting(
        "uiPublicAccess",
        False,
        "Accept a UI that anyone who reaches it may use without signing in, and so call the API through it: "
        "required when the API has auth, uiLogin is none and uiIngressCidrs admit the internet (more than a /8 of "
        "public addresses, however split); warned at pulumi up.",
    )


@dataclass(frozen=True)
class JobsConfig:
    enabled: bool = setting(
        "jobsEnabled",
        False,
        "Async jobs (POST /jobs): a job bucket, a queue with a dead-letter queue, a jobs function outside the "
        "VPC and a worker function in it. Off: none of it exists and /jobs answers 404 jobs_disabled.",
    )
    worker_timeout_seconds: int = setting(
        "jobsWorkerTimeoutSeconds",
        120,
        "Worker timeout in seconds (1 to 900); the queue's visibility timeout is six times this, so a shard whose "
        "attempts all fail reaches the dead-letter queue after jobsMaxAttempts x 6 x this (36 min by default).",
    )
    worker_memory_mb: int = setting("jobsWorkerMemoryMb", 2048, "Worker memory in MB (128 to 10240).")
    worker_concurrency: int = setting(
        "jobsWorkerConcurrency",
        4,
        "Most shards run at once (2 to 1000), the cap on the queue's event source mapping; no concurrency is "
        "reserved, which would need that many + 100 of the account's quota.",
    )
    max_attempts: int = setting(
        "jobsMaxAttempts", 3, "Attempts per shard (1 to 10) before the job fails and its message goes to the DLQ."
    )
    shard_size: int = setting(
        "jobsShardSize",
        200,
        "Inputs per shard: one queue message and one worker run each, which must finish within the worker timeout.",
    )
    max_inputs: int = setting("jobsMaxInputs", 100000, "Most inputs one job may hold.")
    max_upload_bytes: int = setting(
        "jobsMaxUploadBytes", 20971520, "Largest upload of inputs (through a presigned URL) a job accepts, in bytes."
    )
    inline_result_bytes: int = setting(
        "jobsInlineResultBytes", 262144, "Results up to this size come inline in GET /jobs/{id}; larger ones as a URL."
    )
    url_expiry_seconds: int = setting(
        "jobsUrlExpirySeconds", 300, "Lifetime of presigned upload and download URLs, in seconds (1 to 3600)."
    )
    retention_days: int = setting(
        "jobsRetentionDays", 7, "Days a job's inputs, state and result are kept before S3 expires them (1 to 365)."
    )


@dataclass(frozen=True)
class StackConfig:
    network: NetworkConfig = field(default_factory=NetworkConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    function: FunctionConfig = field(default_factory=FunctionConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    api_auth: ApiAuthConfig = field(default_factory=ApiAuthConfig)
    observability: ObservabilityConfig = field(default_factory=ObservabilityConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    ui_access: UiAccessConfig = field(default_factory=UiAccessConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)


@dataclass(frozen=True)
class KeySpec:
    """One key as Pulumi.yaml declares it."""

    key: str
    type: ConfigType
    default: Any
    description: str


def config_sections() -> list[type]:
    hints = typing.get_type_hints(StackConfig)
    return [hints[section.name] for section in fields(StackConfig)]


def config_fields() -> list[tuple[type, Field[Any], ConfigType]]:
    found: list[tuple[type, Field[Any], ConfigType]] = []
    for section in config_sections():
        hints = typing.get_type_hints(section)
        found.extend((section, item, _TYPE_OF_ANNOTATION[hints[item.name]]) for item in fields(section))
    return found


def config_schema() -> tuple[KeySpec, ...]:
    """Every key in declaration order, as Pulumi.yaml must declare it (tuples become lists)."""
    return tuple(
        KeySpec(
            key=item.metadata["key"],
            type=config_type,
            default=list(item.default) if isinstance(item.default, tuple) else item.default,
            description=item.metadata["description"],
        )
        for _, item, config_type in config_fields()
    )
