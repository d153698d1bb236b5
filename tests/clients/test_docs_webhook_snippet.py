"""The docs' Node webhook snippet (docs/examples/verify_signature.ts: express, raw body, HMAC-SHA256,
timingSafeEqual), compiled with the pinned TypeScript under --strict and run with Node, accepts every
delivery the mock makes — all seven event types — and refuses what is not signed with its secret."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import re
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tools import sdk

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
SNIPPET = EXAMPLES / "verify_signature.ts"
DOCS_PAGE = ROOT / "docs" / "source" / "calendar-api-docs-page.txt"
SECRET = "whsec_docsSnippetTest0123456789abcdef"
RW = {"Authorization": "Bearer sk_test_demo_rw"}
EVENT_TYPES = {"booking.created", "booking.confirmed", "booking.updated", "booking.cancelled",
               "booking.expired", "booking.completed", "booking.no_show"}


def test_verify_signature_ts_is_the_docs_snippet_plus_marked_scaffold():
    lines = DOCS_PAGE.read_text(encoding="utf-8").splitlines()
    start = lines.index("verify_signature.node") + 2
    end = lines.index("Section 6", start)
    documented = "\n".join(lines[start:end]).strip("\n")
    ours = "\n".join(line for line in SNIPPET.read_text(encoding="utf-8").splitlines() if "// scaffold" not in line).strip("\n")
    assert ours == documented


class Receiver:
    """`node verify_signature.js` on a free port; its one-JSON-line-per-request log read in a thread."""

    def __init__(self, script: Path, node_modules: Path, port: int) -> None:
        env = {**os.environ, "PORT": str(port), "LITEHQ_WEBHOOK_SECRET": SECRET, "NODE_PATH": str(node_modules)}
        self.url = f"http://127.0.0.1:{port}/webhooks/litehq"
        self.process = subprocess.Popen(["node", str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[dict] = queue.Queue()
        self.other: list[str] = []
        self.seen: dict[str | None, dict] = {}
        threading.Thread(target=self._read, daemon=True).start()
        first = self.next(timeout=15)
        assert "listening" in first, first

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.lines.put(json.loads(line))
            except json.JSONDecodeError:
                self.other.append(line)

    def next(self, timeout: float) -> dict:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the receiver logged nothing in {timeout}s; other output: {self.other[-5:]}") from None

    def logged(self, event_id: str, timeout: float = 15) -> dict:
        """The log line of the request that carried `LiteHQ-Event-Id: event_id` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while event_id not in self.seen:
            line = self.next(timeout=max(0.1, deadline - time.monotonic()))
            self.seen[line.get("event_id")] = line  # deliveries of different bookings may interleave
        return self.seen.pop(event_id)

    def drain(self) -> None:
        """Forget what was logged so far (each test reads only its own requests)."""
        while not self.lines.empty():
            self.lines.get_nowait()
        self.seen.clear()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def receiver(node, free_port, tmp_path_factory):  # type: ignore[no-untyped-def]
    bin_dir = sdk.npm_install(EXAMPLES, ("tsc",))
    out = tmp_path_factory.mktemp("webhook-snippet")
    # Compiled with the examples' own tsconfig (strict) into a temporary folder; express is found
    # through NODE_PATH in docs/examples/node_modules.
    subprocess.run([str(bin_dir / "tsc"), "--project", str(EXAMPLES / "tsconfig.json"), "--outDir", str(out)],
                   check=True, capture_output=True, text=True, timeout=120)
    running = Receiver(out / "verify_signature.js", EXAMPLES / "node_modules", free_port())
    try:
        yield running
    finally:
        running.stop()


def _wait_until(predicate, timeout: float = 60.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll until predicate() is truthy; bounded, and generous for a loaded 2-core machine."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def test_the_docs_snippet_accepts_every_delivery_of_all_seven_event_types(receiver, start_mock):
    receiver.drain()
    mock = start_mock()
    control = f"{mock.url}/_mock"
    registered = httpx.put(f"{control}/workspaces/ws_demo/webhook", timeout=10,
                           json={"url": receiver.url, "secret": SECRET, "max_attempts": 3, "base_delay_ms": 100})
    assert registered.status_code == 200, registered.text

    def create(hour: int) -> str:
        day = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d")
        response = httpx.post(f"{mock.url}/v1/bookings", headers={**RW, "Idempotency-Key": f"hook-{hour}"}, timeout=10, json={
            "room_id": "rm_studio", "start_at": f"{day}T{hour:02d}:00:00Z", "end_at": f"{day}T{hour + 1:02d}:00:00Z",
            "booked_by": {"member_id": "mem_alice"}})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    changed, expired, attended = create(9), create(11), create(13)
    for booking in (changed, attended):
        httpx.post(f"{control}/bookings/{booking}/checkout/complete", timeout=10).raise_for_status()
    assert httpx.patch(f"{mock.url}/v1/bookings/{changed}", headers=RW, json={"attendees": 3}, timeout=10).status_code == 200
    assert httpx.post(f"{mock.url}/v1/bookings/{changed}/cancel", headers=RW, json={"reason": "member_requested"}, timeout=10).status_code == 200
    httpx.post(f"{control}/bookings/{expired}/checkout/fail", timeout=10).raise_for_status()
    # Past the attended booking's end (the clock fires `completed`), then the operator marks a no-show.
    day_after = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    httpx.put(f"{control}/clock", json={"now": day_after}, timeout=10).raise_for_status()
    httpx.post(f"{control}/bookings/{attended}/no-show", timeout=10).raise_for_status()

    events = httpx.get(f"{control}/workspaces/ws_demo/events", timeout=10).json()["data"]
    assert {event["type"] for event in events} == EVENT_TYPES

    def delivered():  # type: ignore[no-untyped-def]
        deliveries = httpx.get(f"{control}/workspaces/ws_demo/deliveries", timeout=10).json()["data"]
        done = [d for d in deliveries if d["status"] != "pending"]
        return deliveries if len(done) == len(events) == len(deliveries) else None

    deliveries = _wait_until(delivered)
    assert deliveries, httpx.get(f"{control}/workspaces/ws_demo/deliveries", timeout=10).text
    # Every delivery succeeded on its first attempt: the snippet answered 200 'ok' to each.
    assert [(d["event_id"], d["status"], [a["response_status"] for a in d["attempts"]]) for d in deliveries] == [
        (event["id"], "succeeded", [200]) for event in events], (deliveries, receiver.other[-5:])
    for event in events:
        line = receiver.logged(event["id"])
        assert (line["event_type"], line["status"]) == (event["type"], 200)


def test_the_docs_snippet_refuses_what_its_secret_did_not_sign(receiver, start_mock):
    receiver.drain()
    body = json.dumps({"id": "evt_forged", "type": "booking.cancelled"}).encode()
    forged = hmac.new(b"whsec_someoneElsesSecret", body, hashlib.sha256).hexdigest()
    refused = httpx.post(receiver.url, content=body, timeout=10, headers={
        "Content-Type": "application/json", "LiteHQ-Signature": forged, "LiteHQ-Event-Id": "evt_forged"})
    assert (refused.status_code, refused.text) == (401, "bad signature")
    tampered = body.replace(b"cancelled", b"confirmed")
    genuine = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    refused = httpx.post(receiver.url, content=tampered, timeout=10, headers={
        "Content-Type": "application/json", "LiteHQ-Signature": genuine, "LiteHQ-Event-Id": "evt_tampered"})
    assert refused.status_code == 401
    assert receiver.logged("evt_forged")["status"] == 401 and receiver.logged("evt_tampered")["status"] == 401

    # The mock signing with another secret than the receiver's: every attempt is refused with 401.
    mock = start_mock()
    control = f"{mock.url}/_mock"
    httpx.put(f"{control}/workspaces/ws_demo/webhook", timeout=10, json={
        "url": receiver.url, "secret": "whsec_notTheReceiversSecret0123", "max_attempts": 2, "base_delay_ms": 50}).raise_for_status()
    day = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d")
    httpx.post(f"{mock.url}/v1/bookings", headers={**RW, "Idempotency-Key": "wrong-secret"}, timeout=10, json={
        "room_id": "rm_studio", "start_at": f"{day}T15:00:00Z", "end_at": f"{day}T16:00:00Z",
        "booked_by": {"member_id": "mem_alice"}}).raise_for_status()
    failed = _wait_until(lambda: [d for d in httpx.get(f"{control}/workspaces/ws_demo/deliveries", timeout=10).json()["data"]
                                  if d["status"] == "failed"])
    assert failed and [a["response_status"] for a in failed[0]["attempts"]] == [401, 401]


def test_the_docs_snippet_answers_500_to_a_signature_of_the_wrong_length(receiver):
    """A flaw of the docs' snippet, kept as printed (README, "Errata"): timingSafeEqual throws on
    buffers of different lengths, so a missing or short LiteHQ-Signature is a 500, not a 401."""
    receiver.drain()
    response = httpx.post(receiver.url, content=b"{}", timeout=10, headers={
        "Content-Type": "application/json", "LiteHQ-Signature": "abc", "LiteHQ-Event-Id": "evt_short"})
    assert response.status_code == 500
    assert re.search(r"Input buffers must have the same byte length", response.text)
    assert receiver.logged("evt_short")["status"] == 500
