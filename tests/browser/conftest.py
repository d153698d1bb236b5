"""Headless Chromium (Debian's, at /usr/bin/chromium) driven by Playwright, against a live mock.

A browser test never skips silently: without Chromium (or Playwright) it FAILS, naming the fix,
unless LITEHQ_SKIP_BROWSER_TESTS=1 says to skip it knowingly. `.ci/run` installs Chromium, so CI
always runs it.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import conformance_harness as harness  # tests/support/, on the path via tests/conftest.py
import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Without these, Chromium reaches for Google's services at start, which this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
OPT_OUT = "LITEHQ_SKIP_BROWSER_TESTS"



def _unavailable(reason: str) -> None:
    if os.environ.get(OPT_OUT, "").strip() == "1":
        pytest.skip(f"{reason} ({OPT_OUT}=1)")
    pytest.fail(f"{reason}. Install it (`apt-get install -y --no-install-recommends chromium`, as .ci/run does; "
                f"Playwright comes with `make venv`), or set {OPT_OUT}=1 to skip the browser tests knowingly.", pytrace=False)


# Module scope, not session: while Playwright's sync API is open its event loop counts as running,
# and every async test after it (anyio, tests/mock/) would fail with "another loop is running".
@pytest.fixture(scope="module")
def browser() -> Iterator:  # type: ignore[no-untyped-def]
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"Chromium is not at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def live_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    mock = harness.MockProcess(tmp_path_factory.mktemp("browser-mock") / "mock.log").start()
    try:
        yield mock
    finally:
        mock.stop()
