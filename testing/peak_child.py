"""Run in a fresh process by ``testing.peak_memory``: warm up as a worker that has served an honest request of
the kind, then serve one input read from a file, and print what the process's memory did.

    python -m testing.peak_child KIND INPUT_FILE WORK_DIR

Images and texts go to the API's handler in this process; an upload goes to the UI's Predictions page (AppTest),
whose API client calls the local API at $API_URL, a separate process (``testing.peak_memory`` starts it).

Printed (one line, ``RESULT {json}``): the answer's status, the process's lifetime peak (``ru_maxrss``), its
resident set just before the input, and the input's own peak above that (the kernel's high-water mark, reset
just before the input through /proc/self/clear_refs)."""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

MB = 1024 * 1024
UI_DIR_ENV = "PEAK_UI_DIR"
UPLOAD_TIMEOUT_SECONDS = 120  # how long the page may take over one upload (a JPEG of 20,000 scans took 126 s)


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_high_water_mark() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class Meter:
    def __enter__(self) -> Meter:
        gc.collect()
        self.rss_kb = status_kb("VmRSS")
        self.reset = reset_high_water_mark()
        return self

    def __exit__(self, *_: object) -> None:
        self.high_water_kb = status_kb("VmHWM")
        self.maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def result(self, status: object) -> dict[str, Any]:
        return {
            "status": status,
            "peak_mb": self.maxrss_kb / 1024,
            "warm_mb": self.rss_kb / 1024,
            "request_mb": (self.high_water_kb - self.rss_kb) / 1024 if self.reset else None,
        }


def serve_image(data: bytes, work: Path) -> dict[str, Any]:
    from inference.api import handler
    from testing.api_events import http_event
    from testing.lambda_context import FakeLambdaContext
    from testing.worst_inputs import small_digit_png

    def predict(picture: bytes) -> object:
        content_type = "image/jpeg" if picture.startswith(b"\xff\xd8") else "image/png"
        event = http_event("POST", "/models/digits/predict", picture, headers={"content-type": content_type})
        return handler.lambda_handler(event, FakeLambdaContext())["statusCode"]

    assert predict(small_digit_png()) == 200
    with Meter() as meter:
        status = predict(data)
    return meter.result(status)


def serve_texts(data: bytes, work: Path) -> dict[str, Any]:
    from inference.api import handler
    from testing.api_events import http_event, json_event
    from testing.lambda_context import FakeLambdaContext

    warm = json_event("POST", "/models/minilm/predict", {"inputs": ["A man is eating food."] * 8})
    assert handler.lambda_handler(warm, FakeLambdaContext())["statusCode"] == 200
    event = http_event("POST", "/models/minilm/predict", data, headers={"content-type": "application/json"})
    event["body"], event["isBase64Encoded"] = data.decode(), False
    with Meter() as meter:
        status = handler.lambda_handler(event, FakeLambdaContext())["statusCode"]
    return meter.result(status)


def upload_picture(data: bytes, work: Path) -> dict[str, Any]:
    """The UI's Predictions page (AppTest) on the digits model, served by the local API at $API_URL."""
    from streamlit.testing.v1 import AppTest

    from testing.local_stack import REPO

    # The app of the code measured: AppTest puts the script's folder first on sys.path, so its ui package is
    # the one imported (PEAK_UI_DIR points at another checkout's, for a benchmark's "before").
    ui_dir = Path(os.environ.get(UI_DIR_ENV) or REPO / "ui_image")
    app = AppTest.from_file(str(ui_dir / "app.py"), default_timeout=UPLOAD_TIMEOUT_SECONDS).run()
    app.selectbox(key="model_name").set_value("digits").run()
    app.segmented_control(key="input_mode_digits").set_value("Upload").run()
    jpeg = data.startswith(b"\xff\xd8")
    upload = ("upload.jpg", data, "image/jpeg") if jpeg else ("upload.png", data, "image/png")
    with Meter() as meter:
        try:
            app.file_uploader(key="digit_upload").set_value(upload).run()
        except RuntimeError as error:  # AppTest's own timeout: the page was still working on the upload
            if "timed out" not in str(error):
                raise
            timed_out = True
        else:
            timed_out = False
    if timed_out:
        return meter.result(f"still working after {UPLOAD_TIMEOUT_SECONDS} s")
    if app.exception:
        return meter.result("exception")
    return meter.result("shown" if app.image else "not shown")


def serve_json(path: str, warm_body: object) -> Callable[[bytes, Path], dict[str, Any]]:
    """A JSON body POSTed to ``path``, after an honest request ``warm_body`` to it."""

    def serve(data: bytes, work: Path) -> dict[str, Any]:
        from inference.api import handler
        from testing.api_events import http_event, json_event
        from testing.lambda_context import FakeLambdaContext

        assert handler.lambda_handler(json_event("POST", path, warm_body), FakeLambdaContext())["statusCode"] < 300
        event = http_event("POST", path, data, headers={"content-type": "application/json"})
        event["body"], event["isBase64Encoded"] = data.decode(), False
        with Meter() as meter:
            status = handler.lambda_handler(event, FakeLambdaContext())["statusCode"]
        return meter.result(status)

    return serve


SERVE = {
    "image": serve_image,
    "text": serve_texts,
    "upload": upload_picture,
    "predict-json": serve_json("/models/digits/predict", {"inputs": [[0.0] * 64]}),
}


def main(kind: str, input_file: str, work_dir: str) -> None:
    work = Path(work_dir)
    os.environ["DATA_DIR"] = str(work / "data")
    os.environ.setdefault("HOME", str(work))
    data = Path(input_file).read_bytes()
    try:
        result = SERVE[kind](data, work)
    except MemoryError:
        result = {"status": "MemoryError", "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
