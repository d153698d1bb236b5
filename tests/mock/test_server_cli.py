"""`python -m mock_server` as users run it: a live uvicorn on a free 127.0.0.1 port."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mock_server", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", str(port), "--seed", "3", "--rate-limit", "off"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    banner = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/_mock/clock", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
            if process.poll() is not None:
                break
        else:
            pytest.fail("mock did not start within 30 s")
        yield base, process, banner
    finally:
        process.send_signal(signal.SIGINT)
        try:
            out, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        banner.append(out)


def test_main_serves_demo_api_and_prints_base_url_and_tokens(server):
    base, process, banner = server
    rooms = httpx.get(f"{base}/v1/rooms", headers={"Authorization": "Bearer sk_test_demo_rw"}, timeout=5)
    assert rooms.status_code == 200 and rooms.headers["content-type"] == "application/json"
    assert rooms.headers["X-RateLimit-Limit"] == "500"
    assert len(rooms.headers.get_list("date")) == 1  # the mock clock's, not a second one from uvicorn
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=10)
    assert f"{base}/v1" in out
    for token in ("sk_test_demo_rw", "sk_test_demo_ro", "sk_test_demo_revoked", "sk_test_nostripe_rw", "sk_test_other_rw"):
        assert token in out
    assert "Traceback" not in out


def test_main_help_documents_every_option():
    help_text = run_cli("--help").stdout
    for option in ("--host", "--port", "--fixture", "--seed", "--rate-limit", "--clock", "--frozen", "--public-url",
                   "--validate-responses", "--access-log", "--log-level", "--workers"):
        assert option in help_text


def test_main_more_than_one_worker_is_refused():
    result = run_cli("--workers", "2")
    assert result.returncode == 2
    assert "in memory" in result.stderr


def test_main_broken_fixture_exits_with_message(tmp_path):
    fixture = tmp_path / "broken.yaml"
    fixture.write_text("workspaces: [{id: 'not a ws id'}]\n")
    result = run_cli("--fixture", str(fixture), "--port", str(free_port()))
    assert result.returncode == 2
    assert "not a valid id" in result.stderr and "Traceback" not in result.stderr


def test_main_bad_rate_limit_is_a_usage_error():
    result = run_cli("--rate-limit", "lots")
    assert result.returncode == 2 and "--rate-limit" in result.stderr
