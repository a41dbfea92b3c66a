"""AWS's own limits and enumerations that the settings and the components are checked against, each once."""

from __future__ import annotations

import re

from inference.jobs.settings import LAMBDA_MAX_TIMEOUT_SECONDS

# Docker platform and Fargate CPU architecture for each Lambda architecture.
DOCKER_PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
FARGATE_CPU_ARCHITECTURES = {"x86_64": "X86_64", "arm64": "ARM64"}
EFS_THROUGHPUT_MODES = ("elastic", "bursting")  # provisioned would need a throughput figure as well
EFS_TRANSITIONS = tuple(f"AFTER_{days}_DAY{'S' if days > 1 else ''}" for days in (1, 7, 14, 30, 60, 90, 180, 270, 365))
# The retention periods CloudWatch accepts.
LOG_RETENTION_DAYS: tuple[int, ...] = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827)
LOG_RETENTION_DAYS += (2192, 2557, 2922, 3288, 3653)
FARGATE_MEMORY_MB = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}
LAMBDA_MEMORY_MB = (128, 10240)
HTTP_API_TIMEOUT_SECONDS = 30  # API Gateway's integration timeout ceiling for HTTP APIs
LAMBDA_NAME_MAX = 64
# An SQS event source mapping's maximum concurrency: from 2 to 1,000.
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html#events-sqs-max-concurrency
SQS_MAPPING_CONCURRENCY = (2, 1000)
# https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#lambda-CreateFunction-request-FunctionName
LAMBDA_FUNCTION_NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{LAMBDA_NAME_MAX}}}")
# https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolDomain.html:
# Domain is ^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$, and the console refuses these words in a prefix.
COGNITO_DOMAIN_PREFIX_MAX = 63
COGNITO_DOMAIN_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
COGNITO_RESERVED_WORDS = ("aws", "amazon", "cognito")
# CloudWatch and SNS names: PutDashboard's DashboardName, PutMetricAlarm's AlarmName, CreateTopic's Name.
DASHBOARD_NAME_MAX = 255
ALARM_NAME_MAX = 255
SNS_TOPIC_NAME_MAX = 256

__all__ = [
    "ALARM_NAME_MAX",
    "COGNITO_DOMAIN_PREFIX",
    "COGNITO_DOMAIN_PREFIX_MAX",
    "COGNITO_RESERVED_WORDS",
    "DASHBOARD_NAME_MAX",
    "DOCKER_PLATFORMS",
    "EFS_THROUGHPUT_MODES",
    "EFS_TRANSITIONS",
    "FARGATE_CPU_ARCHITECTURES",
    "FARGATE_MEMORY_MB",
    "HTTP_API_TIMEOUT_SECONDS",
    "LAMBDA_FUNCTION_NAME",
    "LAMBDA_MAX_TIMEOUT_SECONDS",
    "LAMBDA_MEMORY_MB",
    "LAMBDA_NAME_MAX",
    "LOG_RETENTION_DAYS",
    "SNS_TOPIC_NAME_MAX",
    "SQS_MAPPING_CONCURRENCY",
]
