"""The model bucket's layout, one definition for `pulumi up`, `efs-models publish`, the publisher function and the
jobs' model catalog (the function that accepts jobs runs outside the VPC and reads models from here, not EFS):

    models/<name>/<version>/<file>   each version's files, as uploaded for the publisher
    models/<name>/LATEST             the version the publisher last pointed LATEST at on EFS (plain text)"""

from __future__ import annotations

MODELS_PREFIX = "models/"
LATEST_OBJECT = "LATEST"


def name_prefix(name: str) -> str:
    return f"{MODELS_PREFIX}{name}/"


def version_prefix(name: str, version: str) -> str:
    return f"{name_prefix(name)}{version}/"


def latest_key(name: str) -> str:
    return f"{name_prefix(name)}{LATEST_OBJECT}"
