"""A handler module whose import fails, as a Lambda function with a broken cold start."""

raise RuntimeError("this module fails on import on purpose")
