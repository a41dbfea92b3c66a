"""Hypothesis-generated payload-2.0 events through the real handler: never a 5xx, never an exception, every
error in the JSON shape, and afterwards the store holds exactly the messages that were acknowledged.

The number of cases run and the status codes seen are written to test-artifacts/fuzz.txt."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings

from inference.models.publishing import publish_version
from inference.routes import allowed_methods
from testing.store_helpers import REPO_ROOT, audit
from tests.reliability.conftest import ServeFrom, all_messages
from tests.reliability.fuzz_events import events

EXAMPLE_MODEL = REPO_ROOT / "models" / "digits"
REPORT = REPO_ROOT / "test-artifacts" / "fuzz.txt"
CASES = 1000


def _check_response(response: dict[str, Any]) -> int:
    status = response["statusCode"]
    assert isinstance(status, int) and 200 <= status < 500, f"{status}: {response.get('body')}"
    assert isinstance(response["body"], str)
    if status >= 400:
        error = json.loads(response["body"])["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    return status


def test_fuzzed_events_never_give_5xx_and_leave_the_store_intact(tmp_path: Path, serve_from: ServeFrom) -> None:
    """CASES random events give only 2xx-4xx answers, errors as JSON; each acked message is stored once, whole."""
    data_dir = tmp_path / "data"
    publish_version(EXAMPLE_MODEL, data_dir / "models", "digits")
    invoke = serve_from(data_dir)
    statuses: Counter[int] = Counter()
    acked: dict[int, str] = {}  # id -> text, from 201 answers
    legacy_stored = [0]

    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(event=events())
    def one_case(event: dict[str, Any]) -> None:
        method, path = event["requestContext"]["http"]["method"], event["rawPath"]
        response = invoke(event)
        status = _check_response(response)
        statuses[status] += 1
        if status == 201:
            message = json.loads(response["body"])
            acked[message["id"]] = message["text"]
        elif status == 200 and method.upper() == "POST" and not allowed_methods(path):
            legacy_stored[0] += 1

    one_case()

    records = audit(data_dir / "messages")  # every frame, checksum and id
    assert len(records) == len(acked) + legacy_stored[0]
    for message_id, text in acked.items():
        assert records[message_id].text == text
    assert all_messages(invoke) == [record.text for record in records]

    cases = sum(statuses.values())
    summary = (
        f"handler fuzzing: {cases} cases, 0 5xx, 0 exceptions; statuses "
        + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
        + f"; {len(records)} messages stored, all intact\n"
    )
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(summary)
    print(summary, end="")
