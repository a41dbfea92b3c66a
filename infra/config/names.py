"""The physical names AWS sees, all derived from `<project>-<stack>`, in one place. They are fixed rather
than generated so that the program can create the log groups Lambda would otherwise create on first use
(and keep forever).

Pulumi accepts stack names of up to 100 letters, digits, '-', '_' and '.', and AWS takes fewer characters in
some names, so a name is made to fit each service's rules: unchanged where it already fits (so no stack that
deploys today sees a name change, which would replace the resource), else with the characters the service
refuses turned into '-' and, when too long, shortened with a hash of the whole name, which keeps two stacks
apart however alike their names begin."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi

from infra.config.limits import (
    ALARM_NAME_MAX,
    COGNITO_DOMAIN_PREFIX_MAX,
    COGNITO_RESERVED_WORDS,
    DASHBOARD_NAME_MAX,
    LAMBDA_NAME_MAX,
    SNS_TOPIC_NAME_MAX,
)

_NOT_IN_LAMBDA_NAMES = re.compile(r"[^A-Za-z0-9_-]")
_NOT_IN_COGNITO_PREFIXES = re.compile(r"[^a-z0-9-]+")
_COGNITO_RESERVED = re.compile("|".join(COGNITO_RESERVED_WORDS))
_HASH_CHARACTERS = 6


def _digest(text: str, characters: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:characters]


@dataclass(frozen=True)
class StackNames:
    prefix: str  # <project>-<stack>, as Pulumi has them
    project: str

    @classmethod
    def of(cls, project: str, stack: str) -> StackNames:
        return cls(f"{project}-{stack}", project)

    @classmethod
    def of_current_stack(cls) -> StackNames:
        return cls.of(pulumi.get_project(), pulumi.get_stack())

    def function(self, role: str) -> str:
        """`<project>-<stack>-<role>` as a Lambda function name (letters, digits, '-', '_'; at most 64), which
        EventBridge rule names and log group names also accept."""
        name = f"{self.prefix}-{role}"
        if not _NOT_IN_LAMBDA_NAMES.search(name) and len(name) <= LAMBDA_NAME_MAX:
            return name
        kept = LAMBDA_NAME_MAX - len(role) - _HASH_CHARACTERS - 2
        start = _NOT_IN_LAMBDA_NAMES.sub("-", self.prefix)[:kept]
        return f"{start}-{_digest(self.prefix, _HASH_CHARACTERS)}-{role}"

    @property
    def api_function(self) -> str:
        return self.function("api")

    @property
    def publisher_function(self) -> str:
        return self.function("model-publisher")

    @property
    def jobs_function(self) -> str:
        return self.function("jobs")

    @property
    def job_worker_function(self) -> str:
        return self.function("job-worker")

    @property
    def job_dead_letters_function(self) -> str:
        return self.function("dead-letters")

    @property
    def retention_function(self) -> str:
        return self.function("retention")

    @property
    def api_access_log_group(self) -> str:
        return f"/aws/http-api/{self.prefix}"

    @property
    def ui_log_group(self) -> str:
        return f"/ecs/{self.prefix}-ui"

    def cognito_domain_prefix(self, domain_name: str) -> str:
        """The sign-in page's host prefix, `<project>-<stack>-<8 hex of the UI's domain name>` in lowercase where
        Cognito takes that (only a-z, 0-9 and '-', at most 63, no 'aws', 'amazon' or 'cognito'). Otherwise those
        are dropped and the hash covers the stack's whole name too, so that two stacks never share a prefix."""
        lowered = self.prefix.lower()
        start = _COGNITO_RESERVED.sub("", _NOT_IN_COGNITO_PREFIXES.sub("-", lowered))
        start = re.sub(r"-{2,}", "-", start).strip("-")
        kept = COGNITO_DOMAIN_PREFIX_MAX - 9
        if start == lowered and len(start) <= kept:
            return f"{start}-{_digest(domain_name, 8)}"
        start = start[:kept].rstrip("-")
        return f"{start}-{_digest(domain_name + chr(0) + self.prefix, 8)}".lstrip("-")

    # The functions' embedded metrics (inference/metrics.py): one namespace for the project (CloudWatch takes a
    # project name's characters), the stack told apart by the service dimension (any 1-1024 characters), so that
    # two stacks in one account and region never mix their figures.
    @property
    def metrics_namespace(self) -> str:
        return self.project

    @property
    def metrics_service(self) -> str:
        return self.prefix

    @property
    def dashboard(self) -> str:
        """The dashboard's name: letters, digits, '-' and '_', at most 255
        (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html)."""
        return _fitted(self.prefix, DASHBOARD_NAME_MAX)

    @property
    def alarm_topic(self) -> str:
        """The alarms' SNS topic: letters, digits, '-' and '_', at most 256
        (https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html)."""
        return _fitted(f"{self.prefix}-alarms", SNS_TOPIC_NAME_MAX)

    def alarm(self, key: str) -> str:
        """An alarm's name, `<project>-<stack>-<key>`: at most 255 characters, unique in the account and region
        (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html); any
        character a stack name has is allowed, so only the length may need fitting."""
        name = f"{self.prefix}-{key}"
        if len(name) <= ALARM_NAME_MAX:
            return name
        start = self.prefix[: ALARM_NAME_MAX - len(key) - _HASH_CHARACTERS - 2]
        return f"{start}-{_digest(self.prefix, _HASH_CHARACTERS)}-{key}"


def _fitted(name: str, limit: int) -> str:
    """``name`` where it has only letters, digits, '-' and '_' and at most ``limit`` characters; else the others
    turned into '-', cut to fit, and ended with a hash of the whole name (so `a.b` and `a-b` stay apart)."""
    if not _NOT_IN_LAMBDA_NAMES.search(name) and len(name) <= limit:
        return name
    start = _NOT_IN_LAMBDA_NAMES.sub("-", name)[: limit - _HASH_CHARACTERS - 1]
    return f"{start}-{_digest(name, _HASH_CHARACTERS)}"
