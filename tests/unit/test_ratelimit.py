"""The per-workspace token bucket, its headers, and the penalty for ignoring 429s."""

from datetime import timedelta

import pytest

from mock_server.domain.clock import MockClock
from mock_server.domain.errors import RateLimited
from mock_server.domain.models import RateLimitPolicy
from mock_server.domain.ratelimit import RateLimiter

from .conftest import NOW


@pytest.fixture
def limiter(clock: MockClock) -> RateLimiter:
    return RateLimiter(clock)


def drain(limiter, n, policy, key="sk_a", ws="ws_a"):
    for _ in range(n):
        limiter.admit(ws, key, policy)


def test_admit_first_request_reports_full_bucket_minus_one(limiter):
    headers = limiter.admit("ws_a", "sk_a", RateLimitPolicy()).headers()
    assert headers["X-RateLimit-Limit"] == "500"
    assert headers["X-RateLimit-Remaining"] == "499"
    assert headers["RateLimit-Policy"] == '"workspace";q=500;w=300'
    # one token short of full at 100/min → full again in 0.6 s, reported rounded up
    assert headers["RateLimit"] == '"workspace";r=499;t=1'
    assert int(headers["X-RateLimit-Reset"]) == int(NOW.timestamp()) + 1


def test_admit_empty_bucket_raises_rate_limited_with_retry_after(limiter):
    policy = RateLimitPolicy()
    drain(limiter, 500, policy)
    with pytest.raises(RateLimited) as exc:
        limiter.admit("ws_a", "sk_a", policy)
    assert exc.value.retry_after_ms == 600
    assert exc.value.headers["Retry-After"] == "1"
    assert exc.value.headers["X-RateLimit-Remaining"] == "0"


def test_admit_bucket_refills_at_sustained_rate(limiter, clock):
    policy = RateLimitPolicy()
    drain(limiter, 500, policy)
    clock.advance(timedelta(seconds=6))  # 10 tokens at 100/min
    drain(limiter, 10, policy)
    with pytest.raises(RateLimited):
        limiter.admit("ws_a", "sk_a", policy)


def test_admit_buckets_are_per_workspace(limiter):
    policy = RateLimitPolicy(capacity=2)
    drain(limiter, 2, policy)
    limiter.admit("ws_b", "sk_b", policy)


def test_admit_second_offence_throttles_key_to_penalty_rate(limiter, clock):
    policy = RateLimitPolicy(capacity=5, refill_per_minute=60)
    drain(limiter, 5, policy)
    with pytest.raises(RateLimited):
        limiter.admit("ws_a", "sk_a", policy)  # the 429 itself is no offence
    for _ in range(2):  # two requests inside the retry window: offences
        with pytest.raises(RateLimited) as exc:
            limiter.admit("ws_a", "sk_a", policy)
    assert exc.value.headers["X-RateLimit-Limit"] == "20"
    assert exc.value.headers["RateLimit-Policy"] == '"penalty";q=20;w=60'
    clock.advance(timedelta(seconds=30))  # workspace bucket full again (5); penalty bucket has 10
    drain(limiter, 4, policy)
    state = limiter.admit("ws_a", "sk_a", policy)
    assert (state.limit, state.remaining) == (20, 5)
    # another key of the workspace is not throttled
    assert limiter.peek("ws_a", "sk_other", policy).limit == 5


def test_admit_penalty_ends_after_penalty_period(limiter, clock):
    policy = RateLimitPolicy(capacity=1, refill_per_minute=60, penalty_seconds=120)
    drain(limiter, 1, policy)
    for _ in range(3):
        with pytest.raises(RateLimited):
            limiter.admit("ws_a", "sk_a", policy)
    clock.advance(timedelta(seconds=121))
    assert limiter.admit("ws_a", "sk_a", policy).limit == 1


def test_admit_waiting_out_the_window_is_no_offence(limiter, clock):
    policy = RateLimitPolicy(capacity=1, refill_per_minute=60)
    for _ in range(5):
        limiter.admit("ws_a", "sk_a", policy)
        with pytest.raises(RateLimited) as exc:
            limiter.admit("ws_a", "sk_a", policy)
        clock.advance(timedelta(milliseconds=exc.value.retry_after_ms))
    assert limiter.admit("ws_a", "sk_a", policy).limit == 1


def test_admit_off_mode_never_limits(limiter):
    policy = RateLimitPolicy(enabled=False, capacity=1)
    drain(limiter, 50, policy)
    assert limiter.admit("ws_a", "sk_a", policy).remaining == 1


def test_peek_does_not_take_a_token(limiter):
    policy = RateLimitPolicy()
    limiter.peek("ws_a", "sk_a", policy)
    assert limiter.admit("ws_a", "sk_a", policy).remaining == 499


def test_admit_clock_set_backwards_does_not_drain(limiter, clock):
    policy = RateLimitPolicy()
    limiter.admit("ws_a", "sk_a", policy)
    clock.set(NOW - timedelta(hours=1))
    assert limiter.admit("ws_a", "sk_a", policy).remaining == 498
