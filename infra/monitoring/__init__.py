"""Operating the stack: a CloudWatch dashboard of every part it has, and alarms that notify an SNS topic."""

from infra.monitoring.alarms import StackAlarms, StackAlarmsArgs
from infra.monitoring.dashboard import StackDashboard, StackDashboardArgs
from infra.monitoring.watched import WatchedFileSystem, WatchedFunction, WatchedQueues, WatchedStack, WatchedUi

__all__ = [
    "StackAlarms",
    "StackAlarmsArgs",
    "StackDashboard",
    "StackDashboardArgs",
    "WatchedFileSystem",
    "WatchedFunction",
    "WatchedQueues",
    "WatchedStack",
    "WatchedUi",
]
