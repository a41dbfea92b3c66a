"""The HTTP API in front of the functions: routes from the handler's route table, auth, stage, access logs."""

from infra.api.http_api import HttpApi, HttpApiArgs, RouteTarget

__all__ = ["HttpApi", "HttpApiArgs", "RouteTarget"]
