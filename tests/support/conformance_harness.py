"""Starts a fresh mock as a subprocess on a free 127.0.0.1 port, for the conformance suite's own tests."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_TOKEN = "sk_test_demo_rw"
STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MockProcess:
    """`python -m mock_server --host 127.0.0.1 --port N`, killed on stop(); its output kept for diagnosis."""

    def __init__(self, log_path: Path, args: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.args = list(args)  # extra `python -m mock_server` options, e.g. ["--seed", "docs"]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MockProcess:
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process in stop()
        self._log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", str(self.port), *self.args],
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the mock exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/v1/rooms", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=1.0).status_code < 500:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the mock did not answer within {STARTUP_TIMEOUT_S:.0f}s:\n{self.output()}")

    def output(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if getattr(self, "_log", None) is not None:
            self._log.close()


# Defects of the mock the suite finds, each stated precisely. A scenario listed here may fail
# against the mock; tests check that it still does, so a fixed mock prompts removing the entry.
KNOWN_FINDINGS: dict[str, str] = {}
# The same defects as Schemathesis meets them by chance: (request pattern, finding).
KNOWN_GENERATED_DEFECTS: list[tuple[re.Pattern[str], str]] = []


def unexpected_failures(result):  # type: ignore[no-untyped-def]
    """Failed outcomes of a run that no known finding explains."""
    from conformance.outcome import ERROR, FAILED

    unexplained = []
    for area in result.areas:
        for outcome in area.outcomes:
            if outcome.status not in (FAILED, ERROR) or outcome.name in KNOWN_FINDINGS:
                continue
            if outcome.area == "generated" and outcome.evidence and all(
                any(pattern.match(e.request) for pattern, _ in KNOWN_GENERATED_DEFECTS) for e in outcome.evidence
            ):
                continue
            unexplained.append(outcome)
    return unexplained
