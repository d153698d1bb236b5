"""What readers and SDK authors run, run for real: the generated clients, the docs' examples and the
reference pages, against live mocks on free 127.0.0.1 ports.

Node.js (openapi-typescript, tsc, the webhook snippet): as with Chromium for tests/browser/, a test
that needs it never skips silently. Without node and npm it FAILS, naming the fix, unless
LITEHQ_SKIP_NODE_TESTS=1 says to skip those tests knowingly. CI never sets it, so CI always runs them.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import conformance_harness as harness  # tests/support/, on the path via tests/conftest.py
import pytest

from tools import sdk

NODE_OPT_OUT = "LITEHQ_SKIP_NODE_TESTS"



@pytest.fixture(scope="session")
def node() -> None:
    if sdk.node_available():
        return
    if os.environ.get(NODE_OPT_OUT, "").strip() == "1":
        pytest.skip(f"{sdk.NODE_HINT} ({NODE_OPT_OUT}=1)")
    pytest.fail(f"{sdk.NODE_HINT} Or set {NODE_OPT_OUT}=1 to skip the tests that need them knowingly.", pytrace=False)


@pytest.fixture(scope="session")
def shell_tools() -> None:
    """bash, curl and sed, which the docs' examples and docs/examples/run.sh use."""
    for tool in ("bash", "curl", "sed"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed to run the docs' curl examples (docs/examples/run.sh)", pytrace=False)


@pytest.fixture(scope="session")
def start_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """start_mock(*options) → a started `python -m mock_server` on a free port; all stopped at the end."""
    started = []

    def start(*options: str):  # type: ignore[no-untyped-def]
        mock = harness.MockProcess(tmp_path_factory.mktemp("clients-mock") / "mock.log", args=options)
        started.append(mock)
        return mock.start()

    try:
        yield start
    finally:
        for mock in started:
            mock.stop()


@pytest.fixture(scope="session")
def free_port():  # type: ignore[no-untyped-def]
    """free_port() → a port nothing listens on at 127.0.0.1."""
    return harness.free_port


@pytest.fixture(scope="session")
def live_mock(start_mock):  # type: ignore[no-untyped-def]
    """One mock with the demo fixture, real-time clock, default options."""
    return start_mock()


@pytest.fixture(scope="session")
def python_sdk(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The Python client generated from dist/openapi.json (as `make sdk` does), imported."""
    out = sdk.generate_python(tmp_path_factory.mktemp("sdk") / "python")
    sys.path.insert(0, str(out))
    try:
        import litehq_calendar

        yield litehq_calendar
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == "litehq_calendar" or n.startswith("litehq_calendar.")]:
            del sys.modules[name]


@pytest.fixture(scope="session")
def typescript_types(node, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """build/sdk/typescript/litehq-calendar.d.ts's equivalent, generated into a temporary folder."""
    return sdk.generate_typescript(tmp_path_factory.mktemp("sdk-ts"))
