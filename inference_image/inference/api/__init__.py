"""The HTTP layer: the Lambda entry point for API Gateway's HTTP API, request parsing and the OpenAPI
document. Routing and HTTP only; the work is done by ``inference.store`` and ``inference.models``."""
