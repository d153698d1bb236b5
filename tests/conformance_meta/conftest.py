"""A fresh mock behind a fault-injecting proxy, shared by the meta-tests of one session."""
from __future__ import annotations

from collections.abc import Iterator

import conformance_harness as harness  # tests/support/, on the path via tests/conftest.py
import pytest
from fault_proxy import FaultProxy, ProxyServer

READONLY_TOKEN = "sk_test_demo_ro"


@pytest.fixture(scope="session")
def faulty_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyServer]:
    mock = harness.MockProcess(tmp_path_factory.mktemp("meta-mock") / "mock.log").start()
    proxy = FaultProxy(mock.url, readwrite_token=harness.DEMO_TOKEN, readonly_token=READONLY_TOKEN)
    server = ProxyServer(proxy, harness.free_port()).start()
    try:
        yield server
    finally:
        server.stop()
        mock.stop()
