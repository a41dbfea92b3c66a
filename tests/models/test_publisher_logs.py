"""The publisher's log lines come out where the Lambda runtime leaves the root logger (WARNING): as Powertools
JSON records on stdout, at the stack's LOG_LEVEL."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.models.factory import DIGITS_DIR

# A Lambda-like process: the runtime's root logger at WARNING, LOG_LEVEL from the stack, a fake S3 holding the model.
PUBLISH = textwrap.dedent(
    """
    import io, logging, sys
    from pathlib import Path
    logging.basicConfig(level=logging.WARNING)  # what the Lambda Python runtime sets up
    from inference.models.publisher import publish_from_s3
    folder, models_dir = Path(sys.argv[1]), Path(sys.argv[2])
    objects = {f"models/digits/1/{path.name}": path.read_bytes() for path in folder.iterdir()}

    class S3:
        def list_objects_v2(self, Bucket, Prefix, **_):
            return {"IsTruncated": False, "Contents": [{"Key": key} for key in objects if key.startswith(Prefix)]}

        def download_fileobj(self, Bucket, Key, Fileobj):
            Fileobj.write(objects[Key])

        def put_object(self, Bucket, Key, Body, **_):
            objects[Key] = Body

    publish_from_s3({"bucket": "b", "prefix": "models/digits/1", "name": "digits", "version": "1"}, S3(), models_dir)
    """
)


def publish(tmp_path_str: str, log_level: str) -> list[dict[str, object]]:
    env = {"LOG_LEVEL": log_level, "POWERTOOLS_SERVICE_NAME": "efs-inference", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", PUBLISH, str(DIGITS_DIR), tmp_path_str],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_publish_logs_a_json_info_line_under_the_lambda_runtimes_root_level(tmp_path: Path) -> None:
    """At LOG_LEVEL=INFO the publish is logged as one JSON record naming the model, version and file count."""
    records = publish(str(tmp_path), "INFO")
    [record] = [item for item in records if str(item.get("message", "")).startswith("published model digits version 1")]
    assert record["level"] == "INFO" and record["service"] == "efs-inference"
    assert (record["model"], record["version"]) == ("digits", "1")
    assert isinstance(record["files"], int) and record["files"] >= 2


def test_publish_info_line_follows_the_stacks_log_level(tmp_path: Path) -> None:
    """At LOG_LEVEL=WARNING the INFO line is left out: the level is the stack's, not the runtime's."""
    assert publish(str(tmp_path), "WARNING") == []
