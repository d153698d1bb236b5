"""A fresh mock per test session for the conformance suite's own tests."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance_harness import MockProcess


@pytest.fixture(scope="session")
def mock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockProcess]:
    mock = MockProcess(tmp_path_factory.mktemp("mock") / "mock.log").start()
    try:
        yield mock
    finally:
        mock.stop()
