"""A deployed stack as `efs-models` reaches it: its model bucket, its publisher function and its region, from
``pulumi stack output --json`` when the Pulumi CLI is here, else from flags; and boto3 clients for them, with the
caller's own AWS credentials."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from efs_models.describe import UsageProblems
from inference.models.publisher import PUBLISHER_TIMEOUT_SECONDS

BUCKET_OUTPUT = "model_bucket"
FUNCTION_OUTPUT = "model_publisher_function"
REGION_OUTPUT = "region"
_PULUMI_SECONDS = 120


@dataclass(frozen=True)
class StackAddress:
    bucket: str
    function: str
    region: str


def stack_address(
    stack: str | None, bucket: str | None, function: str | None, region: str | None, project_dir: Path | None = None
) -> StackAddress:
    """The flags where given, the stack's outputs for the rest; UsageProblems naming what is missing."""
    outputs: dict[str, Any] = {}
    if not (bucket and function and region) and (stack is not None or not (bucket or function)):
        outputs = _stack_outputs(stack, project_dir or _project_dir())
    found = {
        "--bucket": bucket or outputs.get(BUCKET_OUTPUT),
        "--function": function or outputs.get(FUNCTION_OUTPUT),
        "--region": region
        or outputs.get(REGION_OUTPUT)
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION"),
    }
    missing = [flag for flag, value in found.items() if not value]
    if missing:
        raise UsageProblems(
            f"missing {', '.join(missing)}: the stack's model bucket ({BUCKET_OUTPUT}), publisher function "
            f"({FUNCTION_OUTPUT}) and region, as `pulumi stack output` shows them"
        )
    return StackAddress(str(found["--bucket"]), str(found["--function"]), str(found["--region"]))


def _project_dir() -> Path:
    """The Pulumi project: the nearest folder holding Pulumi.yaml from here up, else this repository's."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return Path(__file__).resolve().parent.parent


def _stack_outputs(stack: str | None, project_dir: Path) -> dict[str, Any]:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise UsageProblems(
            "the Pulumi CLI is not here to read the stack's outputs: give --bucket, --function and --region "
            f"(`pulumi stack output {BUCKET_OUTPUT}` and `{FUNCTION_OUTPUT}` where it is)"
        )
    command = [pulumi, "stack", "output", "--json", *(["--stack", stack] if stack else [])]
    done = subprocess.run(
        command, cwd=project_dir, capture_output=True, text=True, timeout=_PULUMI_SECONDS, check=False
    )
    if done.returncode != 0:
        raise UsageProblems(f"`{' '.join(command[1:])}` failed: {done.stderr.strip() or done.stdout.strip()}")
    try:
        outputs = json.loads(done.stdout)
    except ValueError:
        raise UsageProblems(f"`pulumi stack output --json` printed no JSON: {done.stdout[:200]}") from None
    if REGION_OUTPUT not in outputs:
        region = subprocess.run(
            [pulumi, "config", "get", "aws:region", *(["--stack", stack] if stack else [])],
            cwd=project_dir,
            capture_output=True,
            text=True,
            timeout=_PULUMI_SECONDS,
            check=False,
        )
        if region.returncode == 0 and region.stdout.strip():
            outputs[REGION_OUTPUT] = region.stdout.strip()
    return dict(outputs)


def clients(address: StackAddress) -> tuple[Any, Any]:
    """S3 and Lambda clients for the stack's region: S3 signed for the region with virtual addressing (the global
    endpoint answers a new bucket with a redirect that breaks the signature); Lambda waiting out the publisher's
    own timeout, once (a publish is idempotent, but a retried one would only wait again)."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        config=Config(region_name=address.region, signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )
    lambda_client = boto3.client(
        "lambda",
        config=Config(
            region_name=address.region,
            read_timeout=PUBLISHER_TIMEOUT_SECONDS + 60,
            connect_timeout=10,
            retries={"total_max_attempts": 1},
        ),
    )
    return s3, lambda_client
