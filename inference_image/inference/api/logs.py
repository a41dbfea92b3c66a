"""Structured logs for the Lambda functions: one JSON object per line on stdout, with the fields Powertools'
Logger wrote (level, location, message, timestamp, service, cold_start, the function's name, memory, ARN
and request id, correlation_id, exception), on the standard library's logging.

It replaces Powertools' Logger, whose import (jmespath, inspect, its formatter: 30-50 ms) was the largest
part of the handler's cold start once the resolver had gone. Like that Logger it is the logger named after
the service and does not propagate; other modules' loggers (``inference.*``) go to the root logger, which
the Lambda runtime prints, as before."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any, TextIO

# Attributes every LogRecord has: anything else on a record came from ``extra=`` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonLogger:
    """The service's logger, writing JSON lines, with the current invocation's fields on each line."""

    def __init__(self, service: str, name: str, stream: TextIO | None = None, level: str | None = None) -> None:
        self.service = service
        self.fields: dict[str, Any] = {"cold_start": True}
        self.handler = logging.StreamHandler(stream or sys.stdout)
        self.handler.setFormatter(_JsonFormatter(self))
        # Named by the module that logs, not the service: two JsonLoggers of one service in one process (the
        # API's and retention's, in tests or a local server) would otherwise take each other's handler.
        self.logger = logging.getLogger(name)
        self.logger.handlers = [self.handler]
        self.logger.setLevel(level or os.environ.get("LOG_LEVEL") or "INFO")
        self.logger.propagate = False  # the Lambda runtime's root handler would print each line again

    def start_invocation(self, context: Any, correlation_id: str, cold_start: bool) -> None:
        """Fields for every line logged until the next invocation."""
        self.fields = {
            "cold_start": cold_start,
            "function_name": getattr(context, "function_name", None),
            "function_memory_size": getattr(context, "memory_limit_in_mb", None),
            "function_arn": getattr(context, "invoked_function_arn", None),
            "function_request_id": getattr(context, "aws_request_id", None),
            "correlation_id": correlation_id,
        }

    def info(self, message: str, **kwargs: Any) -> None:
        self.logger.info(message, **kwargs)

    def warning(self, message: str, **kwargs: Any) -> None:
        self.logger.warning(message, **kwargs)

    def exception(self, message: str, **kwargs: Any) -> None:
        self.logger.exception(message, **kwargs)


class _JsonFormatter(logging.Formatter):
    def __init__(self, owner: JsonLogger) -> None:
        super().__init__()
        self._owner = owner

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "service": self._owner.service,
            **self._owner.fields,
            **{key: value for key, value in vars(record).items() if key not in _STANDARD},
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception_name"] = record.exc_info[0].__name__
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
