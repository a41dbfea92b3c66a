"""A data folder that fills up or turns read-only: the handler answers a clear 503 JSON error, keeps serving
reads, recovers once space or write access returns, and no stored message is damaged.

The real thing (a small tmpfs, filled up or remounted read-only) needs root; where it cannot be mounted
those tests skip, and the simulated ones (the same errno raised by ``os``) still run."""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from testing.api_events import http_event, json_event
from testing.store_helpers import audit, opens_for_writing, os_failure
from tests.reliability.conftest import Invoke, ServeFrom, all_messages, body_json
from tests.reliability.volumes import fill_up, mount_problem, remount, tmpfs

MAX_POSTS_UNTIL_FULL = 2000  # a 4 KiB page of records holds a few dozen: the disk is full long before this


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs mounted for this test only."""
    problem = mount_problem()
    if problem:
        pytest.skip(f"no real small file system here ({problem}); the simulated tests cover these faults")
    with ExitStack() as unmount:
        try:
            mounted = unmount.enter_context(tmpfs(tmp_path / "volume", "256k"))
        except OSError as error:
            pytest.skip(f"cannot mount a tmpfs here ({error}); the simulated tests cover these faults")
        yield mounted


def _post(invoke: Invoke, text: str) -> dict[str, Any]:
    return invoke(json_event("POST", "/messages", {"text": text}))


def _post_all(invoke: Invoke, texts: list[str]) -> None:
    for text in texts:
        response = _post(invoke, text)
        assert response["statusCode"] == 201, response["body"]


def _assert_storage_error(response: dict[str, Any], code: str) -> None:
    """A 503 with the JSON error shape, its code, and a message that says what is wrong."""
    assert response["statusCode"] == 503, response["body"]
    assert response["headers"]["Content-Type"].startswith("application/json")
    error = body_json(response)["error"]
    assert error["code"] == code
    assert error["message"].startswith("cannot store the message: ")


def _assert_intact(invoke: Invoke, data_dir: Path, texts: list[str]) -> None:
    """Exactly these messages, in order, whole on disk and through the API."""
    assert [record.text for record in audit(data_dir / "messages")] == texts
    assert all_messages(invoke) == texts


def test_full_disk_gives_503_storage_full_then_recovers(volume: Path, serve_from: ServeFrom) -> None:
    """On a filled-up tmpfs POST answers 503 storage_full while reads still work; freeing space lets the next
    POST take the next id, and every earlier message is intact."""
    invoke = serve_from(volume / "data")
    stored = [f"before {n}" for n in range(5)]
    _post_all(invoke, stored)
    # GIVEN a data volume with no free byte left
    fill_up(volume / "filler")
    # WHEN messages keep coming (the first few may still fit in a page the store already holds)
    for attempt in range(MAX_POSTS_UNTIL_FULL):
        response = _post(invoke, f"while full {attempt}")
        if response["statusCode"] != 201:
            break
        stored.append(f"while full {attempt}")
    # THEN one is refused with a clear, retryable error, and reads carry on
    _assert_storage_error(response, "storage_full")
    assert invoke(http_event("GET", "/messages"))["statusCode"] == 200
    legacy = invoke(http_event("POST", "/", "old client", headers={"content-type": "text/plain"}))
    _assert_storage_error(legacy, "storage_full")
    _assert_intact(invoke, volume / "data", stored)
    # AND once space returns, the store goes on where it stopped
    (volume / "filler").unlink()
    response = _post(invoke, "after")
    assert response["statusCode"] == 201
    assert body_json(response)["id"] == len(stored)
    _assert_intact(invoke, volume / "data", [*stored, "after"])


def test_read_only_volume_gives_503_storage_read_only_then_recovers(volume: Path, serve_from: ServeFrom) -> None:
    """With the tmpfs remounted read-only, POSTs answer 503 storage_read_only while both listings still work;
    after remounting read-write the next POST takes the next id and nothing was damaged."""
    invoke = serve_from(volume / "data")
    stored = [f"m{n}" for n in range(3)]
    _post_all(invoke, stored)
    remount(volume, "ro")
    try:
        _assert_storage_error(_post(invoke, "lost"), "storage_read_only")
        legacy_post = invoke(http_event("POST", "/", "old client", headers={"content-type": "text/plain"}))
        _assert_storage_error(legacy_post, "storage_read_only")
        assert all_messages(invoke) == stored
        legacy_get = invoke(http_event("GET", "/"))
        assert legacy_get["statusCode"] == 200
        assert legacy_get["body"].splitlines()[-1].endswith(": m2")
        health = body_json(invoke(http_event("GET", "/health")))
        assert health["store"]["ok"] is True  # reads work, so the store itself is healthy
    finally:
        remount(volume, "rw")
    response = _post(invoke, "after")
    assert response["statusCode"] == 201
    assert body_json(response)["id"] == 3
    _assert_intact(invoke, volume / "data", [*stored, "after"])


class Fault(NamedTuple):
    call: str  # the os function that fails
    error: int
    when: Callable[..., bool] | None  # which of its calls fail (None: all)
    code: str  # the error code the client should get


SIMULATED = [
    pytest.param(Fault("pwrite", errno.ENOSPC, None, "storage_full"), id="pwrite-enospc"),
    pytest.param(Fault("fdatasync", errno.ENOSPC, None, "storage_full"), id="fdatasync-enospc"),
    pytest.param(Fault("open", errno.EROFS, opens_for_writing, "storage_read_only"), id="open-erofs"),
]


@pytest.mark.parametrize("fault", SIMULATED)
def test_simulated_volume_faults_give_503_then_recover(tmp_path: Path, serve_from: ServeFrom, fault: Fault) -> None:
    """With every matching ``os`` call failing as on a full or read-only volume, POST answers 503 with the right
    code and GET still works; once the fault goes, the next POST takes the next id and nothing was damaged."""
    invoke = serve_from(tmp_path / "data")
    stored = ["one", "two"]
    _post_all(invoke, stored)
    with os_failure(fault.call, fault.error, times=None, when=fault.when):
        _assert_storage_error(_post(invoke, "lost"), fault.code)
        assert invoke(http_event("GET", "/messages"))["statusCode"] == 200
    response = _post(invoke, "after")
    assert response["statusCode"] == 201
    assert body_json(response)["id"] == 2
    _assert_intact(invoke, tmp_path / "data", [*stored, "after"])
