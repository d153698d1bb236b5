"""A fresh mock behind a fault-injecting proxy, shared by the meta-tests of one session."""
from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fault_proxy import FaultProxy, ProxyServer


def _load_harness():  # type: ignore[no-untyped-def]
    # tests/ is not a package (a tests/conformance package would shadow the real `conformance`), so
    # the sibling directory's harness is loaded by path rather than imported.
    path = Path(__file__).resolve().parent.parent / "conformance" / "conformance_harness.py"
    if "conformance_harness" not in sys.modules:
        spec = importlib.util.spec_from_file_location("conformance_harness", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["conformance_harness"] = module
        spec.loader.exec_module(module)
    return sys.modules["conformance_harness"]


harness = _load_harness()
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
