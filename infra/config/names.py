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

    @classmethod
    def of(cls, project: str, stack: str) -> StackNames:
        """This stack's names; a ConfigError (naming the stack name) if Lambda would refuse one."""
        names = cls(f"{project}-{stack}")
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
