"""Message retention (optional): a daily schedule that drops the message store's oldest segments."""

from infra.retention.schedule import RetentionSchedule, RetentionScheduleArgs

__all__ = ["RetentionSchedule", "RetentionScheduleArgs"]
