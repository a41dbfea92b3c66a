"""Moto's standalone server: real S3 and SQS APIs on 127.0.0.1 for the local stack and the tests. The
code under test talks to it through boto3, exactly as on AWS, pointed here by AWS_ENDPOINT_URL."""

from __future__ import annotations

import http.client
import subprocess
import sys
import time

READY_TIMEOUT_SECONDS = 30.0
LOCAL_REGION = "us-east-1"


def moto_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]


def client_env(host: str, port: int) -> dict[str, str]:
    """What a process needs to reach the server with boto3: the endpoint, a region, throwaway keys."""
    return {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }


def answers(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=2)
    try:
        connection.request("GET", "/moto-api/data.json")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def wait_until_answers(host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto's server exited with status {process.returncode}")
        if answers(host, port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"moto's server did not answer on {host}:{port} within {READY_TIMEOUT_SECONDS:g} s")
