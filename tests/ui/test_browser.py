"""The real UI (`streamlit run` as the image runs it) against the real local API with IAM auth on (as deployed),
driven in headless Chromium: the UI signs every call with the key pair, which the API checks."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, FilePayload, Page, Request, expect, sync_playwright

from inference.models.publishing import publish_version
from local.dev import auth_env
from local.sigv4 import KeyPair
from testing.local_stack import REPO, Running, call, start_server, stop
from tests.models.factory import linked_copy, minilm_dir
from tests.ui.example_model import EXAMPLE_MODEL_DIR, SAMPLES
from tests.ui.images import digit_png
from tests.ui.streamlit_process import running_ui

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = REPO / "test-artifacts" / "ui.png"
WAIT_MS = 30_000
REAL_HANDLER = "inference.api.handler.lambda_handler"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium; its absence skips the test, except where REQUIRE_BROWSER=1 (CI) makes it fail."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        print(f"skipping the browser test: {reason}")
        pytest.skip(reason)
    return CHROMIUM


def serve_stack(folder: Path) -> Iterator[tuple[str, Running]]:
    """The local API (real handler, the example model published, auth iam) and the UI pointed at it, signing with
    the API's key pair as the Fargate task signs with its role: (UI URL, API)."""
    publish_version(EXAMPLE_MODEL_DIR, folder / "data" / "models", "digits")
    linked_copy(minilm_dir(), folder / "data" / "models" / "minilm" / "1")
    keys = KeyPair.generate()
    api_env, ui_env = auth_env(keys)  # what `make dev AUTH=iam` hands the API and the UI
    api = start_server(
        folder / "data", folder / "api.log", "--workers", "1", "--auth", "iam", handler=REAL_HANDLER, env=api_env
    )
    try:
        assert call(api.url, "GET", "/health").status == 403, "the API must refuse unsigned calls"
        with running_ui(Path(sys.executable).parent, api.url, folder / "ui.log", ui_env) as url:
            yield url, api
    finally:
        stop(api)


@pytest.fixture(scope="module")
def ui_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for url, _ in serve_stack(tmp_path_factory.mktemp("browser")):
        yield url


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """A fresh page on ``url`` at 1400 px, once the sidebar says the API is healthy, and every URL it requests."""
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    page.goto(url)
    expect(page.get_by_text("Healthy")).to_be_visible(timeout=WAIT_MS)
    return page, requested


def outside(requested: list[str]) -> list[str]:
    """The requested URLs that leave this machine: anything but 127.0.0.1 (and data:/blob: URLs, which stay)."""
    return [
        url
        for url in requested
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"
    ]


@pytest.fixture
def page(browser: Browser, ui_url: str) -> Iterator[Page]:
    """A fresh browser page on the UI; after the test, no request of the page has left 127.0.0.1."""
    page, requested = open_page(browser, ui_url)
    try:
        yield page
    finally:
        page.close()
    assert requested, "the page's requests were recorded"
    assert outside(requested) == []


def expect_predicted(page: Page, label: str) -> None:
    page.get_by_role("button", name="Predict").click()
    predicted = page.get_by_test_id("stMetric").filter(has_text="Predicted")
    expect(predicted).to_contain_text(label, timeout=WAIT_MS)
    expect(page.get_by_test_id("stVegaLiteChart")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("round trip")).to_be_visible(timeout=WAIT_MS)  # the latency line, last to render


def test_a_person_posts_a_message_and_gets_a_prediction(page: Page) -> None:
    """In Chromium a posted message appears in the list, and the model's first sample (a 0), then its 3, are
    predicted as labelled (samples the example model gets right)."""
    page.get_by_label("New message").fill("Hello from Chromium")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("cell", name="Hello from Chromium")).to_be_visible(timeout=WAIT_MS)

    assert (SAMPLES[0].label, SAMPLES[3].label) == ("0", "3")
    samples = page.get_by_role("combobox", name="One of the model's samples")
    expect(samples).to_have_value("Sample 1, labelled 0")
    expect_predicted(page, "0")

    samples.click()
    page.get_by_role("option", name="Sample 4, labelled 3").click()
    expect(samples).to_have_value("Sample 4, labelled 3")
    expect_predicted(page, "3")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def test_uploaded_and_drawn_digits_are_predicted(page: Page) -> None:
    """An uploaded picture of a 4 is predicted 4 (through Streamlit's XSRF-checked upload, then sent to the API as
    an image); a 7 drawn on the pad, 7."""
    page.get_by_text("Upload", exact=True).click()
    picture = FilePayload(name="four.png", mimeType="image/png", buffer=digit_png("4"))
    page.locator("input[type=file]").set_input_files(files=[picture])
    expect(page.get_by_text("Your image: the server turns it into the model's input")).to_be_visible(timeout=WAIT_MS)
    expect_predicted(page, "4")

    page.get_by_text("Draw", exact=True).click()
    pad = page.get_by_label("Drawing pad")
    expect(pad).to_be_visible(timeout=WAIT_MS)
    box = pad.bounding_box()
    assert box is not None
    x, y = box["x"], box["y"]
    page.mouse.move(x + 60, y + 50)  # a 7: the bar, then the stem
    page.mouse.down()
    page.mouse.move(x + 170, y + 50, steps=10)
    page.mouse.move(x + 100, y + 190, steps=10)
    page.mouse.up()
    expect(page.get_by_role("button", name="Predict")).to_be_enabled(timeout=WAIT_MS)
    expect_predicted(page, "7")
    page.screenshot(path=str(SCREENSHOT.with_name("ui-draw.png")))


def test_the_page_is_the_deployed_one_and_its_table_reads_well(page: Page) -> None:
    """The UI runs with config.toml (no Deploy button), its icon is served locally, a multi-line message keeps its
    lines, and at 1400 px the 'Posted (UTC)' column holds date and time on one line."""
    expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)  # toolbarMode = viewer
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    icon = page.locator("link[rel*='icon']").first.get_attribute("href") or ""
    assert not icon.startswith("http") or urlsplit(icon).hostname == "127.0.0.1", icon

    long_line = "a long second line that fills the column " * 8  # squeezes the other columns, as real text does
    page.get_by_label("New message").fill(f"first line\n{long_line}")
    page.get_by_role("button", name="Post").click()
    cell = page.get_by_role("cell", name="first line")
    expect(cell).to_be_visible(timeout=WAIT_MS)
    assert cell.first.inner_text().splitlines() == ["first line", long_line.strip()]

    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="first line"))
    posted = row.get_by_role("cell").nth(1)
    assert "UTC" not in posted.inner_text() and ":" in posted.inner_text()
    assert posted.evaluate(LINES_OF_TEXT) == 1, "the date and the time are on one line"


# How many lines the first text in an element takes, as laid out: one client rect per line box.
LINES_OF_TEXT = """element => {
    const text = document.createTreeWalker(element, NodeFilter.SHOW_TEXT).nextNode();
    const range = document.createRange();
    range.selectNodeContents(text);
    return range.getClientRects().length;
}"""


@pytest.fixture(scope="module")
def stoppable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Running]]:
    """A stack of its own, whose API a test may stop."""
    yield from serve_stack(tmp_path_factory.mktemp("stoppable"))


def test_the_status_follows_the_api_going_away(browser: Browser, stoppable: tuple[str, Running]) -> None:
    """When the API stops, the next call of a section (Refresh) turns the sidebar's status into one clear error,
    instead of it saying 'Healthy' while the sections fail."""
    url, api = stoppable
    page, requested = open_page(browser, url)
    try:
        stop(api)
        page.get_by_role("button", name="Refresh").click()
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("cannot be reached")).to_be_visible(timeout=WAIT_MS)
        expect(sidebar.get_by_text("Healthy")).to_have_count(0)
        expect(page.get_by_text("cannot be reached")).to_have_count(1)  # said once, in the sidebar
        expect(page.get_by_text("Not loaded: the API does not answer").first).to_be_visible(timeout=WAIT_MS)
    finally:
        page.close()
    assert outside(requested) == []


def test_a_wrong_sample_prediction_is_marked(page: Page) -> None:
    """The sample the example model gets wrong (an 8 it calls 1) is marked as a known miss next to its label."""
    samples = page.get_by_role("combobox", name="One of the model's samples")
    samples.click()
    page.get_by_role("option", name="Sample 9, labelled 8").click()
    page.get_by_role("button", name="Predict").click()
    expect(page.get_by_text("Wrong: this sample is labelled 8")).to_be_visible(timeout=WAIT_MS)


def test_sentences_are_compared_on_their_page(page: Page) -> None:
    """On the Sentence similarity page, the real MiniLM embeds typed sentences: a heat map and the timings."""
    page.get_by_role("link", name="Sentence similarity").click()
    box = page.get_by_label("Sentences, one per line")
    expect(box).to_be_visible(timeout=WAIT_MS)
    box.fill("A man is eating food.\nA man eats a piece of bread.\nThe stock market fell today.")
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_test_id("stVegaLiteChart")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("tokenising")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("3 embeddings of 384 dimensions", exact=False)).to_be_visible(timeout=WAIT_MS)
    page.screenshot(path=str(SCREENSHOT.with_name("ui-sentences.png")))
