"""The physical names AWS sees, all derived from `<project>-<stack>`, in one place. They are fixed rather
than generated so that the program can create the log groups Lambda would otherwise create on first use
(and keep forever); the function names are checked before any resource is registered."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.config.checks import validate_function_name


@dataclass(frozen=True)
class StackNames:
    prefix: str  # <project>-<stack>
    project: str

    @classmethod
    def of(cls, project: str, stack: str) -> StackNames:
        """This stack's names; a ConfigError (naming the stack name) if Lambda would refuse one (the other names
        below take the same characters, and are no longer than the longest function name)."""
        names = cls(f"{project}-{stack}", project)
        for function_name in (
            names.api_function,
            names.publisher_function,
            names.jobs_function,
            names.job_worker_function,
        ):
            validate_function_name(function_name)
        return names

    @classmethod
    def of_current_stack(cls) -> StackNames:
        return cls.of(pulumi.get_project(), pulumi.get_stack())

    @property
    def api_function(self) -> str:
        return f"{self.prefix}-api"

    @property
    def publisher_function(self) -> str:
        return f"{self.prefix}-model-publisher"

    @property
    def jobs_function(self) -> str:
        return f"{self.prefix}-jobs"

    @property
    def job_worker_function(self) -> str:
        return f"{self.prefix}-job-worker"

    @property
    def api_access_log_group(self) -> str:
        return f"/aws/http-api/{self.prefix}"

    @property
    def ui_log_group(self) -> str:
        return f"/ecs/{self.prefix}-ui"

    # The functions' embedded metrics (inference/metrics.py): one namespace for the project, the stack told apart by
    # the service dimension, so that two stacks in one account and region never mix their figures.
    @property
    def metrics_namespace(self) -> str:
        return self.project

    @property
    def metrics_service(self) -> str:
        return self.prefix

    # CloudWatch dashboard names take A-Za-z0-9, '-' and '_', up to 255 characters:
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html
    @property
    def dashboard(self) -> str:
        return self.prefix

    # SNS topic names take A-Za-z0-9, '-' and '_', up to 256 characters:
    # https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
    @property
    def alarm_topic(self) -> str:
        return f"{self.prefix}-alarms"

    def alarm(self, what: str) -> str:
        """An alarm's name (up to 255 characters, unique in the account and region):
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"""
        return f"{self.prefix}-{what}"
