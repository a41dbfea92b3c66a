"""Lambda entry point for message retention, run on a schedule (an EventBridge rule; infra/retention/schedule.py)
from the same image as the HTTP handler: drops the message store's whole segments older than
MESSAGE_RETENTION_DAYS. Without that setting it keeps everything and says so."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from inference.api.logs import JsonLogger
from inference.layout import act_as_message_writer
from inference.settings import Settings
from inference.store.messages import MessageStore

logger = JsonLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "efs-inference"), __name__)
act_as_message_writer()


def drop_old_messages(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Apply the retention period once; returns what was kept, for the log and the invocation's result."""
    if settings.message_retention_days is None:
        return {"retention_days": None, "dropped": False, "reason": "MESSAGE_RETENTION_DAYS is not set: keep forever"}
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.message_retention_days)
    store = MessageStore(settings.layout.messages_dir)
    before = store.status().get("first_id", 0)
    first_kept = store.drop_older_than(cutoff)
    return {
        "retention_days": settings.message_retention_days,
        "cutoff": cutoff.isoformat(),
        "first_kept_id": first_kept,
        "dropped_messages": first_kept - before,
        "dropped": first_kept > before,
    }


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # context: the Lambda context object
    logger.start_invocation(context, correlation_id=getattr(context, "aws_request_id", ""), cold_start=False)
    result = drop_old_messages(Settings.from_env())
    logger.info("message retention", extra=result)
    return result
