"""A webhook receiver on a local port: keeps every delivery's raw bytes and answers as told.

It judges nothing itself (the webhook area does, from what it kept), so it can also stand in for a
misbehaving receiver in tests: fail the next N deliveries, answer slowly, or go down and come back
on the same port. Standard library only; serves from a background thread.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ReceivedDelivery:
    """One POST as it arrived, and what the receiver answered."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    answered: int
    received_at: float  # time.monotonic()

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops connections when many deliveries arrive at once,
    # and the sender's SYN retry then costs it a whole second.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A sender that hangs up early (timed out, or did not read the answer) is its own business.
        return


class WebhookReceiver:
    """`start()` listens on host:port (port 0 picks a free one); `url` is where to send deliveries."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, path: str = "/webhooks/litehq") -> None:
        self.host = host
        self.port = port
        self.path = path
        self._lock = threading.Lock()
        self._received: list[ReceivedDelivery] = []
        self._failures_left = 0
        self._failure_status = 500
        self._delay_s = 0.0
        self._answer: Callable[[ReceivedDelivery], int] | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- running ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    @property
    def listening(self) -> bool:
        return self._server is not None

    def start(self) -> WebhookReceiver:
        """Listen (again, on the same port once one was picked)."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), self._handler_class())
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                                        name=f"webhook-receiver:{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start()` again."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour --------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next `count` deliveries with `status` instead of 200."""
        with self._lock:
            self._failures_left, self._failure_status = count, status

    def answer_slowly(self, seconds: float) -> None:
        """Wait this long before answering each delivery (0 for at once)."""
        self._delay_s = seconds

    def answer_with(self, rule: Callable[[ReceivedDelivery], int] | None) -> None:
        """Decide each answer's status from the delivery (None: 200, or what fail_next says)."""
        self._answer = rule

    # -- what arrived -----------------------------------------------------------------------
    @property
    def received(self) -> list[ReceivedDelivery]:
        with self._lock:
            return list(self._received)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def wait_until(self, condition: Callable[[list[ReceivedDelivery]], bool], timeout_s: float, poll_s: float = 0.02) -> bool:
        """Poll until `condition(received)` holds or `timeout_s` passes; whether it held."""
        deadline = time.monotonic() + timeout_s
        while True:
            if condition(self.received):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)

    # -- HTTP -------------------------------------------------------------------------------
    def _decide(self, delivery: ReceivedDelivery) -> int:
        with self._lock:
            if self._failures_left > 0:
                self._failures_left -= 1
                return self._failure_status
        return self._answer(delivery) if self._answer is not None else 200

    def _keep(self, delivery: ReceivedDelivery) -> None:
        with self._lock:
            self._received.append(delivery)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self._read_body()
                if body is None:
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._decide(ReceivedDelivery("POST", self.path, headers, body, 0, time.monotonic()))
                if receiver._delay_s:
                    time.sleep(receiver._delay_s)
                receiver._keep(ReceivedDelivery("POST", self.path, headers, body, status, time.monotonic()))
                self._answer(status, b"ok" if status < 300 else b"not acknowledged")

            def do_GET(self) -> None:  # noqa: N802
                self._answer(405, b"webhook receiver: POST only")

            def _read_body(self) -> bytes | None:
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    chunks = []
                    total = 0
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        total += size
                        if total > MAX_BODY_BYTES:
                            self._answer(413, b"too large")
                            return None
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY_BYTES:
                    self._answer(413, b"too large")
                    return None
                return self.rfile.read(length)

            def _answer(self, status: int, text: bytes) -> None:
                # One delivery per connection: a kept-alive connection would outlive stop(), and the
                # sender's next delivery would land on a receiver that is meant to be down.
                self.close_connection = True
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logging
                return

        return Handler
