"""Per-workspace token buckets, and the throttle for API keys that keep ignoring 429s."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .clock import Clock
from .errors import RateLimited
from .models import RateLimitPolicy


@dataclass(slots=True)
class TokenBucket:
    """`capacity` tokens, refilled continuously at `per_minute`; one request takes one token."""

    capacity: int
    per_minute: float
    tokens: float
    updated_at: datetime

    def refill(self, now: datetime) -> None:
        # A clock set backwards must not drain the bucket.
        elapsed = max(0.0, (now - self.updated_at).total_seconds())
        self.tokens = min(float(self.capacity), self.tokens + elapsed * self.per_minute / 60.0)
        self.updated_at = now

    def seconds_until(self, tokens: float) -> float:
        missing = tokens - self.tokens
        return 0.0 if missing <= 0 else missing * 60.0 / self.per_minute

    def resize(self, capacity: int, per_minute: float) -> None:
        self.capacity, self.per_minute = capacity, per_minute
        self.tokens = min(self.tokens, float(capacity))


@dataclass(slots=True)
class _KeyRecord:
    """What the limiter remembers about one API key."""

    retry_until: datetime | None = None
    offences: list[datetime] = field(default_factory=list)
    penalty_until: datetime | None = None
    penalty_bucket: TokenBucket | None = None


@dataclass(slots=True, frozen=True)
class RateLimitState:
    """The bucket a response reports on, as its headers say it."""

    name: str
    limit: int
    remaining: int
    reset_at: int  # unix seconds, rounded up
    seconds_to_full: int
    window_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
            "RateLimit-Policy": f'"{self.name}";q={self.limit};w={self.window_seconds}',
            "RateLimit": f'"{self.name}";r={self.remaining};t={self.seconds_to_full}',
        }


class RateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._keys: dict[str, _KeyRecord] = {}

    def admit(self, workspace_id: str, api_key: str, policy: RateLimitPolicy) -> RateLimitState:
        """Take one token for a request, or raise RateLimited (its headers set) if there is none."""
        now = self._clock.now()
        bucket = self._bucket(workspace_id, policy, now)
        if not policy.enabled:
            return self._state("workspace", bucket, now)

        record = self._keys.setdefault(api_key, _KeyRecord())
        penalty = self._penalty_bucket(record, policy, now)
        if record.retry_until is not None and now < record.retry_until:
            penalty = self._offence(record, policy, now) or penalty

        limiting = [b for b in (bucket, penalty) if b is not None and b.tokens < 1.0]
        if limiting:
            wait = max(b.seconds_until(1.0) for b in limiting)
            retry_after_ms = max(1, math.ceil(wait * 1000))
            record.retry_until = now + timedelta(milliseconds=retry_after_ms)
            reported = penalty if penalty is not None else bucket
            state = self._state("penalty" if penalty is not None else "workspace", reported, now)
            raise RateLimited(
                f"Rate limit exceeded: {reported.capacity} requests burst, {reported.per_minute:g}/min sustained. "
                f"Retry in {retry_after_ms} ms.",
                retry_after_ms=retry_after_ms,
                headers=state.headers(),
            )
        bucket.tokens -= 1.0
        if penalty is not None:
            penalty.tokens -= 1.0
            return self._state("penalty", penalty, now)
        return self._state("workspace", bucket, now)

    def peek(self, workspace_id: str, api_key: str, policy: RateLimitPolicy) -> RateLimitState:
        """The state a request that never reached the limiter (401 revoked, 403 scope) reports."""
        now = self._clock.now()
        bucket = self._bucket(workspace_id, policy, now)
        record = self._keys.get(api_key)
        penalty = self._penalty_bucket(record, policy, now) if record and policy.enabled else None
        if penalty is not None:
            return self._state("penalty", penalty, now)
        return self._state("workspace", bucket, now)

    def forget(self, workspace_id: str, api_keys: list[str]) -> None:
        """Start a workspace over: full bucket, no offences or penalties on its keys."""
        self._buckets.pop(workspace_id, None)
        for key in api_keys:
            self._keys.pop(key, None)

    def _bucket(self, workspace_id: str, policy: RateLimitPolicy, now: datetime) -> TokenBucket:
        bucket = self._buckets.get(workspace_id)
        if bucket is None:
            bucket = self._buckets[workspace_id] = TokenBucket(
                policy.capacity, policy.refill_per_minute, float(policy.capacity), now
            )
        elif (bucket.capacity, bucket.per_minute) != (policy.capacity, policy.refill_per_minute):
            bucket.resize(policy.capacity, policy.refill_per_minute)
        bucket.refill(now)
        return bucket

    @staticmethod
    def _penalty_bucket(record: _KeyRecord, policy: RateLimitPolicy, now: datetime) -> TokenBucket | None:
        if record.penalty_until is None or record.penalty_bucket is None:
            return None
        if now >= record.penalty_until:
            record.penalty_until = record.penalty_bucket = None
            return None
        record.penalty_bucket.refill(now)
        return record.penalty_bucket

    @staticmethod
    def _offence(record: _KeyRecord, policy: RateLimitPolicy, now: datetime) -> TokenBucket | None:
        """Count a request inside a 429's retry window; the second one throttles the key."""
        horizon = now - timedelta(seconds=policy.penalty_seconds)
        record.offences = [t for t in record.offences if t > horizon]
        record.offences.append(now)
        if len(record.offences) < 2 or record.penalty_bucket is not None:
            return None
        record.offences.clear()
        record.penalty_until = now + timedelta(seconds=policy.penalty_seconds)
        # Starts empty: the key has just shown it was sending faster than it may.
        record.penalty_bucket = TokenBucket(policy.penalty_per_minute, float(policy.penalty_per_minute), 0.0, now)
        return record.penalty_bucket

    @staticmethod
    def _state(name: str, bucket: TokenBucket, now: datetime) -> RateLimitState:
        to_full = math.ceil(bucket.seconds_until(float(bucket.capacity)))
        return RateLimitState(
            name=name,
            limit=bucket.capacity,
            remaining=max(0, math.floor(bucket.tokens + 1e-9)),
            reset_at=math.ceil(now.timestamp()) + to_full,
            seconds_to_full=to_full,
            window_seconds=math.ceil(bucket.capacity * 60.0 / bucket.per_minute),
        )
