"""Pure checks of the stack's settings. Each failure is one ConfigError that names the key, the bad
value and what is allowed, raised before the program registers any resource."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable

import pulumi

from inference.models.metadata import is_valid_name
from infra.config.limits import (
    DOCKER_PLATFORMS,
    EFS_THROUGHPUT_MODES,
    EFS_TRANSITIONS,
    FARGATE_MEMORY_MB,
    HTTP_API_TIMEOUT_SECONDS,
    LAMBDA_MEMORY_MB,
    LOG_RETENTION_DAYS,
    SQS_MAPPING_CONCURRENCY,
)
from infra.config.schema import (
    ApiAuthConfig,
    ApiConfig,
    FunctionConfig,
    JobsConfig,
    ModelConfig,
    NetworkConfig,
    ObservabilityConfig,
    StackConfig,
    StorageConfig,
    UiAccessConfig,
    UiConfig,
)

# Config spelling → awsx.ec2.NatGatewayStrategy value.
NAT_STRATEGIES = {"none": "None", "single": "Single", "onePerAz": "OnePerAz"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
API_AUTH_MODES = ("iam", "jwt", "none")
UI_LOGINS = ("none", "cognito")
# Ranges that together admit more public addresses than a /8 admit the internet at large: no organisation's own
# ranges are that large, and 0.0.0.0/0 (or 0.0.0.0/1 with 128.0.0.0/1, or any other split) is far beyond it.
PUBLIC_ADDRESS_LIMIT = 2**24
# IANA's special-purpose IPv4 ranges: private, shared, loopback, link-local, documentation, multicast, reserved.
_NOT_PUBLIC = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)  # fmt: skip
MAX_TEXT_BYTES = 1024 * 1024  # well under the 6 MB synchronous Lambda payload limit
MAX_RETENTION_DAYS = 36_500  # a hundred years: anything longer means "forever", which is 0

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
_HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s]*)?$")
# A DNS name of two or more labels, as an ALB listener certificate can cover (no wildcard: it is the UI's own name).
_DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# One address, as SNS's email protocol takes it: no display name, no list.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")


class ConfigError(pulumi.RunError):
    """A bad setting. A RunError, so Pulumi prints the message without a stack trace."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        super().__init__(f"Invalid config {key}={value!r}: must be {allowed}.")
        self.key = key


def check_range(key: str, value: int, low: int, high: int, why: str = "") -> None:
    if not low <= value <= high:
        raise ConfigError(key, value, f"an integer from {low} to {high}{why}")


def check_choice(key: str, value: object, choices: Collection[object]) -> None:
    if value not in choices:
        raise ConfigError(key, value, "one of " + ", ".join(str(choice) for choice in choices))


def check_id(key: str, value: str, prefix: str) -> None:
    if not re.fullmatch(rf"{prefix}-[0-9a-f]{{8,17}}", value):
        raise ConfigError(key, value, f"an id like {prefix}-0123456789abcdef0")


def check_ids(key: str, values: Iterable[str], prefix: str) -> None:
    for value in values:
        check_id(key, value, prefix)


def check_cidrs(key: str, values: Collection[str], min_prefix: int = 0, max_prefix: int = 32) -> None:
    if not values:
        raise ConfigError(key, [], "a non-empty list of IPv4 CIDR blocks")
    for value in values:
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError:
            raise ConfigError(key, value, "an IPv4 CIDR block such as 10.0.0.0/16") from None
        if not min_prefix <= network.prefixlen <= max_prefix:
            raise ConfigError(key, value, f"an IPv4 CIDR block from /{min_prefix} to /{max_prefix}")


def public_addresses(cidrs: Iterable[str]) -> int:
    """How many public (globally routable) IPv4 addresses the ranges admit together, overlaps counted once."""
    total = 0
    for network in ipaddress.collapse_addresses(ipaddress.IPv4Network(cidr) for cidr in cidrs):
        private = sum(
            min(network.num_addresses, block.num_addresses)
            for block in _NOT_PUBLIC
            if network.overlaps(block)  # CIDR blocks that overlap nest: the smaller lies inside the larger
        )
        total += network.num_addresses - private
    return total


def admits_the_internet(cidrs: Iterable[str]) -> bool:
    """Whether ingress ranges open a listener to the internet at large, judged by the addresses they cover."""
    return public_addresses(cidrs) > PUBLIC_ADDRESS_LIMIT


def validate_network(network: NetworkConfig, ui_enabled: bool) -> None:
    check_choice("natStrategy", network.nat_strategy, NAT_STRATEGIES)
    if not network.existing_vpc_id:
        check_range("availabilityZones", network.availability_zones, 2, 6)
        check_cidrs("vpcCidr", [network.vpc_cidr], 16, 22)
        if network.existing_private_subnet_ids or network.existing_public_subnet_ids:
            raise ConfigError("existingVpcId", "", "set when existingPrivateSubnetIds or existingPublicSubnetIds is")
        if network.existing_private_subnet_egress:
            raise ConfigError("existingPrivateSubnetEgress", True, "false unless existingVpcId is set")
        return
    check_id("existingVpcId", network.existing_vpc_id, "vpc")
    if network.nat_strategy != "none":
        raise ConfigError("natStrategy", network.nat_strategy, "none when existingVpcId is set (NAT is the VPC's own)")
    if not network.existing_private_subnet_ids:
        raise ConfigError("existingPrivateSubnetIds", [], "one or more subnet ids when existingVpcId is set")
    check_ids("existingPrivateSubnetIds", network.existing_private_subnet_ids, "subnet")
    check_ids("existingPublicSubnetIds", network.existing_public_subnet_ids, "subnet")
    if ui_enabled and len(network.existing_public_subnet_ids) < 2:
        raise ConfigError(
            "existingPublicSubnetIds",
            list(network.existing_public_subnet_ids),
            "two or more subnet ids in different zones when uiEnabled is true (the load balancer needs them)",
        )


def validate_storage(storage: StorageConfig) -> None:
    check_choice("efsThroughputMode", storage.efs_throughput_mode, EFS_THROUGHPUT_MODES)
    check_choice("efsTransitionToIa", storage.efs_transition_to_ia, EFS_TRANSITIONS)
    if storage.existing_file_system_id:
        check_id("existingFileSystemId", storage.existing_file_system_id, "fs")
    check_range("ecrKeepImages", storage.ecr_keep_images, 1, 1000)
    check_range("messageRetentionDays", storage.message_retention_days, 0, MAX_RETENTION_DAYS)


def validate_function(function: FunctionConfig) -> None:
    check_choice("architecture", function.architecture, DOCKER_PLATFORMS)
    check_range("memoryMb", function.memory_mb, *LAMBDA_MEMORY_MB)
    check_range(
        "timeoutSeconds",
        function.timeout_seconds,
        1,
        HTTP_API_TIMEOUT_SECONDS,
        " (the HTTP API's integration gives up after 30 s; a longer timeout only bills for answers nobody gets)",
    )
    if function.reserved_concurrency < -1:
        raise ConfigError("reservedConcurrency", function.reserved_concurrency, "-1 (unreserved) or 0 and above")
    check_range("maxTextBytes", function.max_text_bytes, 1, MAX_TEXT_BYTES)
    check_range("legacyListingLines", function.legacy_listing_lines, 1, 100_000)


def validate_api(api: ApiConfig) -> None:
    check_range("throttleBurst", api.throttle_burst, 1, 5000)
    check_range("throttleRate", api.throttle_rate, 1, 10000)
    for origin in api.cors_allow_origins:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError("corsAllowOrigins", origin, "origins like https://ui.example.com (no path, no '*')")


def validate_observability(observability: ObservabilityConfig) -> None:
    check_choice("logRetentionDays", observability.log_retention_days, LOG_RETENTION_DAYS)
    check_choice("logLevel", observability.log_level, LOG_LEVELS)
    if observability.alarm_email and not observability.alarms:
        raise ConfigError("alarmEmail", observability.alarm_email, "empty unless alarms is true (it receives them)")
    if observability.alarm_email and not _EMAIL.fullmatch(observability.alarm_email):
        raise ConfigError("alarmEmail", observability.alarm_email, "one email address, such as ops@example.com")


def validate_model(model: ModelConfig) -> None:
    if not model.model_dirs or not all(model.model_dirs):
        raise ConfigError(
            "modelDirs", list(model.model_dirs), "a list of one or more model folders, such as models/digits"
        )
    if model.default_model and not is_valid_name(model.default_model):
        raise ConfigError("defaultModel", model.default_model, "empty or a model name (letters, digits, '.', '_', '-')")


def validate_ui(ui: UiConfig) -> None:
    check_choice("uiCpu", ui.cpu, FARGATE_MEMORY_MB)
    sizes = FARGATE_MEMORY_MB[ui.cpu]
    if ui.memory_mb not in sizes:
        raise ConfigError("uiMemoryMb", ui.memory_mb, f"one of {', '.join(map(str, sizes))} when uiCpu is {ui.cpu}")
    check_range("uiDesiredCount", ui.desired_count, 1, 10)
    if ui.certificate_arn and not _ACM_ARN.fullmatch(ui.certificate_arn):
        raise ConfigError("uiCertificateArn", ui.certificate_arn, "an ACM certificate ARN (arn:aws:acm:...)")
    check_cidrs("uiIngressCidrs", ui.ingress_cidrs)


def validate_api_auth(auth: ApiAuthConfig) -> None:
    check_choice("apiAuth", auth.mode, API_AUTH_MODES)
    if auth.mode != "jwt":
        for key, value in (("jwtIssuer", auth.jwt_issuer), ("jwtAudience", list(auth.jwt_audience))):
            if value:
                raise ConfigError(key, value, "empty unless apiAuth is jwt")
        return
    if not _HTTPS_URL.fullmatch(auth.jwt_issuer):
        raise ConfigError("jwtIssuer", auth.jwt_issuer, "the https URL of the token issuer when apiAuth is jwt")
    if not auth.jwt_audience or not all(auth.jwt_audience):
        raise ConfigError("jwtAudience", list(auth.jwt_audience), "one or more audiences when apiAuth is jwt")


def validate_ui_access(access: UiAccessConfig, ui: UiConfig, api_auth: str) -> None:
    """The UI calls the API with its own role: with auth on the API, an unguarded UI would hand the API to anyone."""
    check_choice("uiLogin", access.login, UI_LOGINS)
    if access.domain_name and not _DOMAIN_NAME.fullmatch(access.domain_name):
        raise ConfigError("uiDomainName", access.domain_name, "a DNS name such as ui.example.com (lowercase)")
    if ui.certificate_arn and not access.domain_name:
        raise ConfigError("uiDomainName", "", "the name uiCertificateArn's certificate covers (e.g. ui.example.com)")
    if access.login == "cognito" and not ui.certificate_arn:
        raise ConfigError("uiLogin", access.login, "none unless uiCertificateArn and uiDomainName are set (HTTPS)")
    if not ui.enabled:
        return
    if api_auth == "jwt":
        raise ConfigError("uiEnabled", True, "false when apiAuth is jwt (the UI signs its calls with its IAM role)")
    unguarded = api_auth != "none" and access.login == "none" and admits_the_internet(ui.ingress_cidrs)
    if unguarded and not access.public_access:
        raise ConfigError(
            "uiIngressCidrs",
            list(ui.ingress_cidrs),
            f"narrowed to your own ranges while the API has auth and the UI no login: these admit "
            f"{public_addresses(ui.ingress_cidrs):,} public addresses (more than a /8 is the internet at large), so "
            "anyone on the internet would use the API through the UI. Or set uiLogin=cognito (with "
            "uiCertificateArn and uiDomainName), or uiPublicAccess=true to accept a public UI",
        )


def config_warnings(config: StackConfig) -> list[str]:
    """What `pulumi up` warns about: settings that are allowed but expose the stack, or tell nobody."""
    warnings = []
    if config.api_auth.mode == "none":
        warnings.append(
            "apiAuth is none: anyone who finds the API's URL can read every message, store new ones (billed per GB "
            "on EFS, never expiring) and run predictions; only throttling limits them. Use apiAuth iam or jwt."
        )
    if config.observability.alarms and not config.observability.alarm_email:
        warnings.append(
            "alarms is true but alarmEmail is empty: the alarms notify an SNS topic nobody is subscribed to. Set "
            "alarmEmail, or subscribe your own endpoint to the alarm_topic_arn output."
        )
    access, ui = config.ui_access, config.ui
    if ui.enabled and access.public_access and access.login == "none" and admits_the_internet(ui.ingress_cidrs):
        warnings.append(
            "uiPublicAccess is true: anyone on the internet may use the UI without signing in, and through it "
            "read and write the API's data. Narrow uiIngressCidrs or set uiLogin=cognito to close it."
        )
    if ui.enabled and not ui.certificate_arn:
        warnings.append(
            "THE UI IS PLAIN HTTP: uiCertificateArn is not set, so its pages, the messages and predictions they "
            "show and everything typed into them cross the network unencrypted, readable and changeable on the "
            "way; and the UI calls the API with its own role. Set uiCertificateArn and uiDomainName (HTTP then "
            "redirects to HTTPS), and uiLogin=cognito for a sign-in: docs/DEPLOY.md, 'Who may use the UI'."
        )
    return warnings


def validate_jobs(jobs: JobsConfig) -> None:
    check_range("jobsWorkerTimeoutSeconds", jobs.worker_timeout_seconds, 1, 900, " (Lambda's limit: 15 minutes)")
    check_range("jobsWorkerMemoryMb", jobs.worker_memory_mb, *LAMBDA_MEMORY_MB)
    concurrency = jobs.worker_concurrency
    check_range("jobsWorkerConcurrency", concurrency, *SQS_MAPPING_CONCURRENCY, " (an SQS event source mapping's cap)")
    check_range("jobsMaxAttempts", jobs.max_attempts, 1, 10)
    check_range("jobsMaxInputs", jobs.max_inputs, 1, 10_000_000)
    check_range("jobsShardSize", jobs.shard_size, 1, jobs.max_inputs, " (at most jobsMaxInputs)")
    check_range(
        "jobsMaxUploadBytes", jobs.max_upload_bytes, 1, 1024**3, " (the jobs function parses the upload in memory)"
    )
    check_range(
        "jobsInlineResultBytes", jobs.inline_result_bytes, 0, 5_000_000, " (under Lambda's 6 MB response limit)"
    )
    check_range("jobsUrlExpirySeconds", jobs.url_expiry_seconds, 1, 3600, " (presigned URLs stay short-lived)")
    check_range("jobsRetentionDays", jobs.retention_days, 1, 365)


def validate_stack_config(config: StackConfig) -> None:
    """Every check, in the order a reader meets the keys; the first failure is raised."""
    validate_network(config.network, config.ui.enabled)
    validate_storage(config.storage)
    validate_function(config.function)
    validate_api(config.api)
    validate_api_auth(config.api_auth)
    validate_observability(config.observability)
    validate_model(config.model)
    validate_ui(config.ui)
    validate_ui_access(config.ui_access, config.ui, config.api_auth.mode)
    validate_jobs(config.jobs)
