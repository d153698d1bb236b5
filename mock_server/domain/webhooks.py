"""Webhook endpoints, their retry policy, signing, and the record of every delivery and attempt.

Plain data and rules: no HTTP here. The dispatcher (`mock_server/webhooks.py`) does the sending on
the event loop and writes what happened into a `Delivery`; the control API reads it back.

Deliveries run on real time, not on the mock clock: a frozen mock clock must not hold a receiver's
events back, and jumping the clock ahead must not exhaust retries. Attempts are stamped by the
injected `wall_clock`.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from .clock import Clock
from .errors import InvalidRequest, WebhookNotFound
from .models import Event

SECRET_PATTERN = re.compile(r"^whsec_[A-Za-z0-9]{1,200}$")
URL_MAX_LENGTH = 2048


def format_moment(instant: datetime) -> str:
    """UTC with milliseconds (`2026-05-22T09:00:00.125Z`): attempts and retries are often under a second apart."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def sign(secret: str, body: bytes) -> str:
    """`LiteHQ-Signature`: lowercase hex HMAC-SHA256 of the raw body, keyed with the whole secret string
    (`whsec_` prefix included) as UTF-8 — what the docs' Node sample computes with `createHmac('sha256', secret)`."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    """How hard one delivery tries: `max_attempts` in all, waiting `base_delay_s` × 2^(n-1) (at most
    `max_delay_s`) after the n-th failure, each attempt bounded by `timeout_s` in total."""

    max_attempts: int = 10
    base_delay_s: float = 1.0
    max_delay_s: float = 300.0
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= 100:
            raise ValueError("max_attempts must be between 1 and 100")
        if not 0 <= self.base_delay_s <= 3600 or not 0 <= self.max_delay_s <= 86400:
            raise ValueError("delays must be between 0 and an hour (base) / a day (cap)")
        if not 0 < self.timeout_s <= 120:
            raise ValueError("timeout_s must be above 0 and at most 120")

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th failed attempt (1-based); no jitter, so runs repeat."""
        return min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))

    def to_wire(self) -> dict:
        return {
            "max_attempts": self.max_attempts,
            "base_delay_ms": round(self.base_delay_s * 1000),
            "max_delay_ms": round(self.max_delay_s * 1000),
            "timeout_ms": round(self.timeout_s * 1000),
        }


@dataclass(slots=True, frozen=True)
class WebhookEndpoint:
    """The one endpoint of a workspace: where its events go and the secret that signs them."""

    workspace_id: str
    url: str
    secret: str
    policy: RetryPolicy
    # Set from the command line (`--webhook-url`): such an endpoint comes back after every reset.
    from_startup: bool = False

    def to_wire(self) -> dict:
        return {"workspace_id": self.workspace_id, "url": self.url, "secret": self.secret, **self.policy.to_wire()}


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # queued, in flight, or waiting for its next retry
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every attempt failed, or the endpoint was removed


@dataclass(slots=True)
class Attempt:
    """One POST of an event to the endpoint, and how it went."""

    number: int
    attempted_at: datetime
    url: str
    succeeded: bool
    response_status: int | None  # None when no response came (refused, timed out, broken)
    latency_ms: int
    error: str | None = None
    next_retry_at: datetime | None = None

    def to_wire(self) -> dict:
        return {
            "number": self.number,
            "attempted_at": format_moment(self.attempted_at),
            "url": self.url,
            "outcome": "succeeded" if self.succeeded else "failed",
            "response_status": self.response_status,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "next_retry_at": format_moment(self.next_retry_at) if self.next_retry_at else None,
        }


@dataclass(slots=True)
class Delivery:
    """Getting one event to the endpoint: the automatic delivery, or a redelivery asked for later."""

    event: Event
    redelivery: bool
    queued_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: datetime | None = None
    # Why a failed delivery ended: its attempts ran out, or its endpoint was removed.
    failure: str | None = None
    # The exact bytes every attempt sends (and signs): encoded once, so retries repeat them.
    body: bytes | None = None

    @property
    def workspace_id(self) -> str:
        return self.event.workspace_id

    @property
    def booking_id(self) -> str:
        return self.event.booking_id

    def to_wire(self) -> dict:
        return {
            "event_id": self.event.id,
            "event_type": self.event.type,
            "booking_id": self.event.booking_id,
            "redelivery": self.redelivery,
            "status": self.status.value,
            "queued_at": format_moment(self.queued_at),
            "next_attempt_at": format_moment(self.next_attempt_at) if self.next_attempt_at else None,
            "failure": self.failure,
            "attempts": [a.to_wire() for a in self.attempts],
        }


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX_LENGTH:
        raise InvalidRequest("url must be an absolute http:// or https:// URL.", param="url")
    return url


def check_secret(secret: str) -> str:
    if not SECRET_PATTERN.match(secret):
        raise InvalidRequest("secret must look like whsec_ followed by 1-200 letters and digits.", param="secret")
    return secret


class WebhookRegistry:
    """Every workspace's endpoint and every delivery made; rebuilt (empty) by `Backend.reset()`."""

    def __init__(self, wall_clock: Clock) -> None:
        self.wall_clock = wall_clock
        self._endpoints: dict[str, WebhookEndpoint] = {}
        self._deliveries: dict[str, list[Delivery]] = defaultdict(list)

    # -- endpoints ------------------------------------------------------------------------------

    def endpoint_for(self, workspace_id: str) -> WebhookEndpoint | None:
        return self._endpoints.get(workspace_id)

    def register(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self._endpoints[endpoint.workspace_id] = endpoint
        return endpoint

    def remove(self, workspace_id: str) -> WebhookEndpoint:
        endpoint = self._endpoints.pop(workspace_id, None)
        if endpoint is None:
            raise WebhookNotFound(f"Workspace {workspace_id} has no webhook endpoint.")
        return endpoint

    @property
    def any_endpoint(self) -> bool:
        return bool(self._endpoints)

    # -- deliveries -----------------------------------------------------------------------------

    def open_delivery(self, event: Event, *, redelivery: bool = False) -> Delivery:
        delivery = Delivery(event, redelivery, self.wall_clock.now())
        self._deliveries[event.workspace_id].append(delivery)
        return delivery

    def deliveries_of(self, workspace_id: str, *, event_id: str | None = None, status: str | None = None) -> list[Delivery]:
        return [
            d
            for d in self._deliveries.get(workspace_id, [])
            if (event_id is None or d.event.id == event_id) and (status is None or d.status.value == status)
        ]

    def record_attempt(
        self,
        delivery: Delivery,
        *,
        url: str,
        started_at: datetime,
        latency_ms: int,
        response_status: int | None,
        error: str | None,
        policy: RetryPolicy,
    ) -> float | None:
        """Write down one attempt; returns the seconds to wait before the next, or None when done."""
        succeeded = response_status is not None and 200 <= response_status < 300
        number = len(delivery.attempts) + 1
        attempt = Attempt(number, started_at, url, succeeded, response_status, latency_ms, error)
        delivery.attempts.append(attempt)
        if succeeded:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, None
            return None
        if number >= policy.max_attempts:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            delivery.failure = f"not acknowledged after {number} attempt{'s' if number > 1 else ''}"
            return None
        delay = policy.delay_after(number)
        attempt.next_retry_at = delivery.next_attempt_at = self.wall_clock.now() + timedelta(seconds=delay)
        return delay

    def give_up(self, delivery: Delivery, reason: str) -> None:
        """The delivery ends failed without another attempt (its endpoint was removed, or the mock shut down)."""
        if delivery.status is DeliveryStatus.PENDING:
            delivery.status, delivery.next_attempt_at, delivery.failure = DeliveryStatus.FAILED, None, reason
            if delivery.attempts:
                delivery.attempts[-1].next_retry_at = None


def with_policy(policy: RetryPolicy, **changes: float | int | None) -> RetryPolicy:
    """`policy` with the given fields replaced (None keeps the field), validated."""
    picked = {name: value for name, value in changes.items() if value is not None}
    try:
        return replace(policy, **picked)
    except ValueError as exc:
        raise InvalidRequest(f"{exc}.") from None
