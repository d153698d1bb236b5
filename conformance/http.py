"""The suite's only way to reach a deployment: an httpx client that paces itself and records every exchange."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance.rules import lower_headers, quota_problems

USER_AGENT = "litehq-conformance/1"
BODY_EXCERPT = 600


class DeploymentUnreachable(Exception):
    """The deployment did not answer (connection refused, DNS, TLS, timeout)."""


class RequestBudgetExhausted(Exception):
    """The run hit its request cap; it stops rather than hammer a server indefinitely."""


def mask_secret(value: str) -> str:
    """Show enough of a token to tell tokens apart in a report, never the whole secret."""
    return value if len(value) <= 10 else value[:10] + "…"


@dataclass
class Exchange:
    """One request and the response it got, as the report shows it."""

    method: str
    url: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_s: float
    sent_at: float

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None

    @property
    def error(self) -> dict[str, Any]:
        document = self.json()
        if isinstance(document, dict) and isinstance(document.get("error"), dict):
            return document["error"]
        return {}

    @property
    def error_code(self) -> str | None:
        return self.error.get("code")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def describe(self) -> str:
        """Request and response as a person reads them in a failure report."""
        sent = [f"{self.method} {self.path}"]
        for name in ("authorization", "content-type", "idempotency-key", "litehq-signature", "litehq-event-id", "litehq-event-type"):
            if name in self.request_headers:
                sent.append(f"  {name}: {self.request_headers[name]}")
        if self.request_body:
            sent.append("  body: " + _excerpt(self.request_body))
        shown = ("content-type", "x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                 "ratelimit-policy", "ratelimit", "retry-after", "idempotent-replayed", "www-authenticate", "allow", "location")
        got = [f"HTTP {self.status} ({self.elapsed_s * 1000:.0f} ms)"]
        got += [f"  {name}: {self.headers[name]}" for name in shown if name in self.headers]
        got.append("  body: " + _excerpt(self.body))
        return "\n".join(["request:"] + ["  " + line for line in sent] + ["response:"] + ["  " + line for line in got])


def _excerpt(body: bytes, limit: int = BODY_EXCERPT) -> str:
    text = body[: limit * 2].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + f"… ({len(body)} bytes)"


class QuotaPacer:
    """Keeps one token's requests inside its workspace bucket, learning the bucket from the headers it reports."""

    def __init__(self, reserve: int = 3, max_wait_s: float = 120.0) -> None:
        # A few tokens are kept back so a concurrent client of the same workspace (or our own
        # Schemathesis phase) does not push us into a 429 we did not mean to provoke.
        self.reserve = reserve
        self.max_wait_s = max_wait_s
        self.remaining: int | None = None
        self.refill_per_s: float = 0.0
        self.observed_at = 0.0
        self.blocked_until = 0.0
        self.waited_s = 0.0
        self._lock = threading.Lock()

    def wait_time(self, now: float, tokens: int = 1) -> float:
        """Seconds until `tokens` requests fit in the bucket with the reserve still untouched."""
        with self._lock:
            wait = max(0.0, self.blocked_until - now)
            if self.remaining is not None and self.refill_per_s > 0:
                refilled = (now - self.observed_at) * self.refill_per_s
                missing = self.reserve + tokens - (self.remaining + refilled)
                if missing > 0:
                    wait = max(wait, missing / self.refill_per_s)
            return wait

    def before_request(self, pace: bool = True, tokens: int = 1) -> None:
        now = time.monotonic()
        # Even when a scenario drains the bucket on purpose it never sends inside a 429's retry
        # window: that is an offence, and the second one throttles the key for an hour.
        wait = self.wait_time(now, tokens) if pace else max(0.0, self.blocked_until - now)
        if wait > self.max_wait_s:
            raise RequestBudgetExhausted(
                f"the workspace bucket needs {wait:.0f}s to refill, more than the {self.max_wait_s:.0f}s the suite waits"
            )
        if wait > 0:
            self.waited_s += wait
            time.sleep(wait)
        with self._lock:
            # Spend the token now, not when the response tells us: requests sent in parallel
            # would otherwise all see the same Remaining and overdraw the bucket together.
            if self.remaining is not None:
                self.remaining -= 1

    def make_room(self, tokens: int) -> None:
        """Wait until a burst of `tokens` parallel requests fits in the bucket, reserve included."""
        self.before_request(tokens=tokens)
        with self._lock:
            if self.remaining is not None:
                self.remaining += 1

    def observe(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        _, quota = quota_problems(status, headers, body)
        now = time.monotonic()
        with self._lock:
            if quota is not None:
                self.remaining = quota.remaining
                self.refill_per_s = quota.refill_per_second
                self.observed_at = now
            elif "x-ratelimit-remaining" in headers:
                try:
                    self.remaining = int(headers["x-ratelimit-remaining"])
                    self.observed_at = now
                except ValueError:
                    pass
            if status == 429:
                retry_ms = _retry_after_ms(body, headers)
                # A margin past the advertised instant: arriving inside the window is an offence.
                self.blocked_until = max(self.blocked_until, now + retry_ms / 1000 + 0.05)

    def record_retry_window(self, seconds: float) -> None:
        with self._lock:
            self.blocked_until = max(self.blocked_until, time.monotonic() + seconds)


def _retry_after_ms(body: bytes, headers: Mapping[str, str]) -> int:
    try:
        value = json.loads(body)["error"]["retry_after_ms"]
        if isinstance(value, int) and value >= 0:
            return value
    except (ValueError, KeyError, TypeError):
        pass
    try:
        return int(headers.get("retry-after", "1")) * 1000
    except ValueError:
        return 1000


_UNSET: Any = object()


@dataclass
class RequestLog:
    """The exchanges of the scenario that is running, so a failure can show what was sent and got."""

    exchanges: list[Exchange] = field(default_factory=list)
    total: int = 0
    limit: int = 40

    def add(self, exchange: Exchange) -> None:
        self.total += 1
        self.exchanges.append(exchange)
        if len(self.exchanges) > self.limit:
            del self.exchanges[0]

    def clear(self) -> None:
        self.exchanges.clear()

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None


class Deployment:
    """A LiteHQ Calendar API deployment seen only through HTTP."""

    def __init__(self, base_url: str, token: str, *, timeout_s: float = 10.0, max_requests: int = 5000,
                 pacer_max_wait_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self.max_requests = max_requests
        self.pacer_max_wait_s = pacer_max_wait_s
        self.requests_sent = 0
        self.unexpected_429s = 0
        self.log = RequestLog()
        self._pacers: dict[str, QuotaPacer] = {}
        self._count_lock = threading.Lock()
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s, follow_redirects=False,
                                    headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        self._client.close()

    def pacer(self, token: str | None) -> QuotaPacer:
        key = token or ""
        if key not in self._pacers:
            self._pacers[key] = QuotaPacer(max_wait_s=self.pacer_max_wait_s)
        return self._pacers[key]

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = _UNSET,
        authorization: str | None = _UNSET,
        json_body: Any = _UNSET,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        honour_429: bool = True,
        pace: bool = True,
        client: httpx.Client | None = None,
    ) -> Exchange:
        """Send one request; `token=None` sends no Authorization, `authorization=` sends that header verbatim."""
        token = self.token if token is _UNSET else token
        sent_headers = {k: v for k, v in (headers or {}).items()}
        if authorization is not _UNSET:
            if authorization is not None:
                sent_headers["Authorization"] = authorization
        elif token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        if json_body is not _UNSET:
            content = json.dumps(json_body).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        pacer = self.pacer(token if authorization is _UNSET else None)
        # One retry after an unexpected 429 at most: the suite honours retry_after_ms rather than
        # fail a scenario on another client's traffic, but never loops.
        for attempt in range(2):
            exchange = self._send(method, path, sent_headers, content, params, pacer, client, pace)
            if exchange.status != 429 or not honour_429 or attempt == 1:
                return exchange
            self.unexpected_429s += 1
        return exchange

    def _send(self, method: str, path: str, headers: dict[str, str], content: bytes | None,
              params: Mapping[str, Any] | None, pacer: QuotaPacer, client: httpx.Client | None, pace: bool) -> Exchange:
        with self._count_lock:
            if self.requests_sent >= self.max_requests:
                raise RequestBudgetExhausted(f"the run reached its cap of {self.max_requests} requests (--max-requests)")
            self.requests_sent += 1
        pacer.before_request(pace)
        started = time.monotonic()
        sent_at = time.time()
        try:
            response = (client or self._client).request(
                method, self.base_url + path, headers=headers, content=content, params=params
            )
        except httpx.LocalProtocolError:
            # Our own request was malformed (a scenario bug), not a sign of a dead server.
            raise
        except httpx.TimeoutException as exc:
            raise DeploymentUnreachable(f"{method} {path}: no answer within {self.timeout_s:.0f}s ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise DeploymentUnreachable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        elapsed = time.monotonic() - started
        got = lower_headers(response.headers)
        pacer.observe(response.status_code, got, response.content)
        shown_path = str(response.request.url).removeprefix(self.base_url)
        exchange = Exchange(
            method=method,
            url=str(response.request.url),
            path=_mask_query_token(shown_path),
            request_headers=_redacted(headers),
            request_body=content or b"",
            status=response.status_code,
            headers=got,
            body=response.content,
            elapsed_s=elapsed,
            sent_at=sent_at,
        )
        self.log.add(exchange)
        return exchange


def _redacted(headers: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme, _, secret = value.partition(" ")
            value = f"{scheme} {mask_secret(secret)}" if secret else mask_secret(value)
        out[name.lower()] = value
    return out


def _mask_query_token(path: str) -> str:
    parts = urlsplit(path)
    if "token=" not in parts.query:
        return path
    masked = "&".join(
        f"token={mask_secret(pair[6:])}" if pair.startswith("token=") else pair for pair in parts.query.split("&")
    )
    return f"{parts.path}?{masked}"
