"""The jobs part of the fuzz suite, against moto's S3 and SQS:

- hypothesis-generated uploads, from random JSON to pathological structures at and past the limits (nested
  empty lists, strings for a model of numbers, deep nesting, numbers past every range, escapes, truncated
  JSON, bytes that are not UTF-8, bodies over the size limit), submitted through the jobs function's service:
  every one is accepted (202) or refused with a 4xx naming why, never a 5xx or another exception;
- maximum jobs: exactly jobsMaxInputs inputs (the default 100,000) are accepted, run by the workers and
  assembled whole (a result of several multipart parts), one input more is refused.

The number of cases and their outcomes are written to test-artifacts/fuzz-jobs.txt."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference.errors import ServiceError
from inference.jobs.layout import JOBS_PREFIX
from inference.jobs.store import PART_BYTES
from tests.jobs.conftest import MakeStack
from tests.jobs.helpers import digit_batch, fetch, post_upload, sync_outputs, wait_for
from tests.reliability.fuzz_events import json_values, model_inputs

pytestmark = pytest.mark.slow
REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "fuzz-jobs.txt"
CASES = 250
MAX_INPUTS = 50  # small limits, so that hypothesis reaches them and past them in small bodies
MAX_UPLOAD_BYTES = 40_000

# Units repeated into bodies that stay legal JSON while holding far more structure than any job can.
_UNITS = (b"[[]],", b"[],", b"{},", b'"ab",', b"1e308,", b"-0,", b"12345678901234567890123,", b'"\\\\\\"",', b"null,")
pathological = st.one_of(
    st.builds(
        lambda unit, count: b"[" + unit * count + unit.rstrip(b",") + b"]",
        st.sampled_from(_UNITS),
        st.integers(0, 2 * MAX_UPLOAD_BYTES // 3),
    ),
    st.integers(1, 50_000).map(lambda depth: b"[" * depth + b"]" * depth),  # deeper than json.loads recurses
    st.integers(1, 5000).map(lambda depth: b"[" * depth),  # never closed
    st.binary(max_size=300),  # not JSON, often not UTF-8
)
uploads = st.one_of(
    pathological,
    model_inputs.map(lambda inputs: json.dumps(inputs).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.lists(st.lists(st.integers(0, 16), min_size=64, max_size=64), min_size=1, max_size=2 * MAX_INPUTS).map(
        lambda rows: json.dumps(rows).encode()  # honest, up to twice the inputs a job takes
    ),
    model_inputs.map(lambda inputs: json.dumps(inputs).encode()[:-3]),  # cut short
)


def test_fuzzed_uploads_are_accepted_or_refused_with_a_4xx_never_a_5xx(make_stack: MakeStack) -> None:
    """CASES generated uploads: each a 202, or a ServiceError with a 4xx status and a message naming the upload."""
    stack = make_stack(max_inputs=MAX_INPUTS, max_upload_bytes=MAX_UPLOAD_BYTES, shard_size=20)
    service = stack.service()
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )
    @given(body=uploads)
    def one_case(body: bytes) -> None:
        upload = service.create_upload()
        post_upload(upload, body)
        try:
            accepted = service.submit({"model": "digits", **upload["submit"]})
        except ServiceError as error:
            assert 400 <= error.status < 500, f"{error.status} {error.code}: {error.message}"
            assert error.message
            outcomes[f"{error.status} {error.code}"] += 1
            return
        assert accepted["status"] == "queued" and 0 < accepted["progress"]["total"] <= MAX_INPUTS
        outcomes["202"] += 1

    one_case()
    assert outcomes["202"] and sum(outcomes.values()) == CASES
    summary = (
        f"job upload fuzzing: {CASES} cases, 0 5xx, 0 exceptions; "
        + ", ".join(f"{outcome}: {count}" for outcome, count in sorted(outcomes.items()))
        + "\n"
    )
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(summary)
    print(summary, end="")


def test_a_maximum_job_is_accepted_run_and_assembled_whole_and_one_more_input_is_refused(
    make_stack: MakeStack,
) -> None:
    """jobsMaxInputs (100,000) digits through an upload: 202, every shard run, a result past one multipart part
    equal to /predict's answers; 100,001 inputs: 400 too_many_inputs, nothing stored."""
    stack = make_stack(shard_size=5000, inline_result_bytes=1024, worker_timeout_seconds=60)
    service = stack.service()
    limit = stack.settings.max_inputs
    inputs = digit_batch(limit, seed=3)
    too_many = service.create_upload()
    post_upload(too_many, json.dumps([*inputs, inputs[0]], separators=(",", ":")).encode())
    with pytest.raises(ServiceError) as raised:
        service.submit(too_many["submit"])
    assert (raised.value.status, raised.value.code) == (400, "too_many_inputs")
    assert list(stack.store.list(JOBS_PREFIX)) == []
    upload = service.create_upload()
    post_upload(upload, json.dumps(inputs, separators=(",", ":")).encode())
    accepted = service.submit(upload["submit"])
    assert accepted["progress"] == {"done": 0, "total": limit}
    stack.start_poller(workers=2)
    view = wait_for(service, accepted["job_id"], ("succeeded", "failed"), timeout=240)
    assert view["status"] == "succeeded", view
    assert view["result_bytes"] > 2 * PART_BYTES  # assembled in parts
    result = fetch(view["result_url"])
    assert result["outputs"] == sync_outputs(stack.data_dir, inputs)
