"""What the dashboard and the alarms watch: the parts this stack has, as the identifiers CloudWatch's metrics
carry (function names, the API's id, the file system's id, queue names, the load balancer's ARN suffixes, the
ECS cluster and service). A part the stack does not have is None, and gets no widget and no alarm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from infra.config.limits import EFS_THROUGHPUT_MODES


@dataclass(frozen=True)
class WatchedFunction:
    """One Lambda function of the stack. Every function is watched alike: add a function to the stack's list
    (``WatchedStack.functions``) and it gets its widgets and its error and throttle alarms."""

    role: str  # short, stable and distinct: names its widgets and its alarms (api, model-publisher, job-worker)
    function_name: pulumi.Input[str]
    timeout_seconds: int  # drawn on its duration graph: a p99 near it means invocations that time out


@dataclass(frozen=True)
class WatchedFileSystem:
    file_system_id: pulumi.Input[str]
    throughput_mode: str  # elastic or bursting; burst credits exist, and can run out, only in bursting mode

    @property
    def bursting(self) -> bool:
        return self.throughput_mode == "bursting"


@dataclass(frozen=True)
class WatchedQueues:
    """The jobs' queue and its dead-letter queue, by name (SQS's metrics' dimension)."""

    queue_name: pulumi.Input[str]
    dead_letter_queue_name: pulumi.Input[str]


@dataclass(frozen=True)
class WatchedUi:
    load_balancer_arn_suffix: pulumi.Input[str]  # app/<name>/<id>: the ALB's metrics' LoadBalancer dimension
    target_group_arn_suffix: pulumi.Input[str]  # targetgroup/<name>/<id>: their TargetGroup dimension
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    desired_count: int  # fewer healthy targets than this is an alarm


@dataclass(frozen=True)
class WatchedStack:
    api_id: pulumi.Input[str]
    functions: Sequence[WatchedFunction]
    file_system: WatchedFileSystem
    metrics_namespace: str  # where the functions write their embedded metrics (inference/metrics.py)
    metrics_service: str  # the value of those metrics' service dimension: this stack's
    queues: WatchedQueues | None = None  # jobs off: none
    ui: WatchedUi | None = None  # UI off: none


def validate_watched_stack(watched: WatchedStack) -> None:
    roles = [function.role for function in watched.functions]
    if not roles:
        raise ValueError("WatchedStack.functions must list the stack's functions")
    if len(set(roles)) != len(roles):
        raise ValueError(f"WatchedStack.functions must have distinct roles, got {roles}")
    for function in watched.functions:
        if not function.role.replace("-", "").isalnum() or function.role != function.role.lower():
            raise ValueError(f"WatchedFunction.role must be lowercase letters, digits and '-', not {function.role!r}")
        if function.timeout_seconds < 1:
            raise ValueError(f"WatchedFunction.timeout_seconds of {function.role} must be at least 1")
    if watched.file_system.throughput_mode not in EFS_THROUGHPUT_MODES:
        raise ValueError(
            f"WatchedFileSystem.throughput_mode must be one of {EFS_THROUGHPUT_MODES}, not "
            f"{watched.file_system.throughput_mode!r}"
        )
    if watched.ui is not None and watched.ui.desired_count < 1:
        raise ValueError("WatchedUi.desired_count must be at least 1")
