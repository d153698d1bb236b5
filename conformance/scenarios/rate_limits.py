"""Rate limits: coherent quota headers on every response, 429 with a wait that works, the documented refill and penalty."""
from __future__ import annotations

import math
import time

from conformance.http import Exchange
from conformance.rules import Quota, quota_problems
from conformance.scenario import Need, RuleBroken, ScenarioSkipped, expect, expect_error, expect_status, scenario
from conformance.world import World

AREA = "rate_limits"
# A bucket the control API shrinks to, so draining it takes a handful of requests and refilling it
# a second or two: 4 tokens, 2 per second ("workspace";q=4;w=2).
SMALL_BUCKET = {"capacity": 4, "refill_per_minute": 120}
DOCUMENTED_POLICY = (500, 300)
THROTTLED_LIMIT, THROTTLED_WINDOW_S = 20, 60


def _quota(exchange: Exchange, what: str, world: World | None = None) -> Quota:
    now = world.control.now().timestamp() if world is not None and world.control is not None else None
    problems, quota = quota_problems(exchange.status, exchange.headers, exchange.body, now=now)
    if problems or quota is None:
        raise RuleBroken(f"{what}: " + ("; ".join(problems) or "rate-limit headers missing"), exchange)
    return quota


def _drainable_token(world: World) -> str:
    """A token whose bucket may be emptied: RATE_LIMIT_TOKEN, or one the control API shrank for the suite."""
    if world.rate_limit_token and not world.may_drive_mock:
        return world.rate_limit_token
    if not world.may_drive_mock or world.control is None:
        raise ScenarioSkipped(world.skip_reason(Need.RATE_LIMIT_TOKEN))
    token = world.rate_limit_token or world.other_token or world.nostripe_token
    if not token:
        raise ScenarioSkipped("the control API lists no second workspace whose bucket the suite could shrink")
    if not world.cache.get("bucket_shrunk"):
        workspace = world.control.workspace_of(token)
        if workspace is None:
            raise ScenarioSkipped(f"the control API does not know the workspace of token {token[:12]}…")
        world.control.configure_workspace(workspace.id, rate_limit=SMALL_BUCKET)
        world.cache["bucket_shrunk"] = True
    return token


def _drain(world: World, token: str) -> Exchange:
    """Spend the bucket until the API answers 429 (bounded by the bucket size it reports)."""
    first = world.get("/v1/rooms", token=token, params={"limit": 1}, pace=False, honour_429=False)
    if first.status == 429:
        return first
    limit = _quota(first, "draining the bucket", world).limit
    for _ in range(limit + 5):
        reply = world.get("/v1/rooms", token=token, params={"limit": 1}, pace=False, honour_429=False)
        if reply.status == 429:
            return reply
    raise RuleBroken(f"{limit + 6} requests in a row never got 429 from a bucket of {limit}", reply)


def _wait_out(exchange: Exchange, extra_s: float = 0.0) -> None:
    time.sleep(exchange.error.get("retry_after_ms", 1000) / 1000 + 0.1 + extra_s)


@scenario(reads_only=True)
def test_policy_advertises_a_500_burst_refilled_over_300_seconds(world: World) -> None:
    """An unthrottled workspace reports "workspace";q=500;w=300: a 500 burst refilled at 100/min."""
    reply = expect_status(world.get("/v1/rooms", params={"limit": 1}), 200, "GET /v1/rooms")
    quota = _quota(reply, "GET /v1/rooms", world)
    expect((quota.limit, quota.window_s) == DOCUMENTED_POLICY,
           f"the docs promise a 500 burst refilled at 100/min (q=500;w=300); the API says q={quota.limit};w={quota.window_s}", reply)


@scenario(reads_only=True)
def test_every_response_carries_coherent_rate_limit_headers_errors_included(world: World) -> None:
    """200s, 400s and 404s all carry X-RateLimit-* and RateLimit/RateLimit-Policy that agree with each other."""
    checks = [
        (world.get("/v1/bookings", params={"limit": 1}), "200 listing"),
        (world.get("/v1/bookings/bk_conformanceNoSuchBooking"), "404 booking_not_found"),
        (world.get("/v1/bookings", params={"limit": 0}), "400 invalid_request"),
        (world.get("/v1/availability", params={"room_id": "rm_conformanceNoSuchRoom"}), "404 room_not_found"),
        (world.get("/v1/calendar.ics"), "200 calendar feed"),
    ]
    if world.has(Need.READONLY_TOKEN) and world.has(Need.WRITES):
        checks.append((world.post("/v1/bookings", {}, token=world.readonly_token), "403 auth_scope_insufficient"))
    for reply, what in checks:
        _quota(reply, what, world)


@scenario(reads_only=True)
def test_remaining_falls_by_one_per_request(world: World) -> None:
    """Each request takes one token: X-RateLimit-Remaining drops by one per request, give or take the refill."""
    replies = [world.get("/v1/rooms", params={"limit": 1}) for _ in range(6)]
    quotas = [_quota(r, "GET /v1/rooms", world) for r in replies]
    first, last = quotas[0], quotas[-1]
    requests = len(quotas) - 1
    elapsed = replies[-1].sent_at + replies[-1].elapsed_s - replies[0].sent_at
    refilled = math.ceil(first.refill_per_second * elapsed)
    most = min(first.limit, first.remaining - requests + 1 + refilled)
    expect(last.remaining <= most,
           f"{requests} requests took Remaining from {first.remaining} to {last.remaining}; at most {most} may remain "
           f"(one token each, {refilled} refilled in {elapsed:.2f}s)", replies[-1])
    if world.control is not None:
        # Only on the mock is the suite sure to be the workspace's one client, so a steeper fall is an error too.
        least = first.remaining - requests
        expect(last.remaining >= least, f"{requests} requests took Remaining from {first.remaining} to {last.remaining}: more than one token each", replies[-1])


@scenario(reads_only=True)
def test_reset_is_when_the_bucket_would_be_full_again(world: World) -> None:
    """X-RateLimit-Reset (and RateLimit t) is when the bucket refills to Limit at the policy's rate."""
    reply = world.get("/v1/rooms", params={"limit": 1})
    quota = _quota(reply, "GET /v1/rooms", world)
    rate = quota.refill_per_second
    earliest = math.floor(max(0, quota.limit - quota.remaining - 1) / rate) if rate else 0
    latest = math.ceil((quota.limit - quota.remaining) / rate) + 1 if rate else 0
    expect(earliest <= quota.seconds_to_full <= latest,
           f"with {quota.remaining}/{quota.limit} tokens at {rate:.3f}/s the bucket is full in {earliest}–{latest}s; RateLimit says t={quota.seconds_to_full}",
           reply)


@scenario(Need.RATE_LIMIT_TOKEN, reads_only=True)
def test_exhausted_bucket_gives_429_rate_limited_with_retry_after(world: World) -> None:
    """An empty bucket answers 429 rate_limited with Retry-After and error.retry_after_ms, and Remaining 0."""
    token = _drainable_token(world)
    limited = _drain(world, token)
    expect_error(limited, 429, "rate_limited", "request on an empty bucket")
    quota = _quota(limited, "the 429", world)
    expect(quota.remaining == 0, f"a 429 must report X-RateLimit-Remaining 0, got {quota.remaining}", limited)
    retry_ms = limited.error.get("retry_after_ms")
    expect(isinstance(retry_ms, int) and 0 < retry_ms <= math.ceil(1000 / quota.refill_per_second) + 1000,
           f"retry_after_ms {retry_ms!r} must be the wait for the next token (≈{1000 / quota.refill_per_second:.0f} ms at q={quota.limit};w={quota.window_s})",
           limited)
    _wait_out(limited)


@scenario(Need.RATE_LIMIT_TOKEN, reads_only=True)
def test_waiting_retry_after_ms_restores_service(world: World) -> None:
    """After waiting retry_after_ms the next request succeeds."""
    token = _drainable_token(world)
    limited = _drain(world, token)
    _wait_out(limited)
    after = world.get("/v1/rooms", token=token, params={"limit": 1}, pace=False, honour_429=False)
    expect_status(after, 200, f"request {limited.error.get('retry_after_ms')} ms after the 429 (its retry_after_ms)")


@scenario(Need.RATE_LIMIT_TOKEN, reads_only=True)
def test_refill_rate_matches_the_policy_header(world: World) -> None:
    """An empty bucket regains q/w tokens per second, as RateLimit-Policy says."""
    token = _drainable_token(world)
    limited = _drain(world, token)
    quota = _quota(limited, "the 429", world)
    rate = quota.refill_per_second
    tokens = min(3, quota.limit)
    _wait_out(limited, extra_s=(tokens - 1) / rate)
    after = world.get("/v1/rooms", token=token, params={"limit": 1}, pace=False, honour_429=False)
    expect_status(after, 200, "request after waiting for tokens")
    got = _quota(after, "after the wait", world).remaining
    expect(tokens - 2 <= got <= tokens, f"after waiting for {tokens} tokens at {rate:.2f}/s one request should leave {tokens - 1} (±1); Remaining is {got}", after)


@scenario(Need.CONTROL, Need.RATE_LIMIT_TOKEN, reads_only=True)
def test_second_offence_throttles_the_key_to_20_per_minute(world: World) -> None:
    """Two requests inside a 429's retry window throttle the key to 20 requests/min ("workspace";q=20;w=60)."""
    token = _drainable_token(world)
    _drain(world, token)
    # The offences are the point here, so the suite's own guard against them is bypassed on purpose.
    world.deployment.pacer(token).blocked_until = 0
    for _ in range(2):
        world.deployment.pacer(token).blocked_until = 0
        offence = world.get("/v1/rooms", token=token, params={"limit": 1}, pace=False, honour_429=False)
        expect_error(offence, 429, "rate_limited", "request inside the retry window")
    time.sleep(offence.error.get("retry_after_ms", 3000) / 1000 + 0.1)
    throttled = world.get("/v1/rooms", token=token, params={"limit": 1}, pace=False, honour_429=False)
    quota = _quota(throttled, "after the second offence", world)
    expect((quota.limit, quota.window_s) == (THROTTLED_LIMIT, THROTTLED_WINDOW_S),
           f"after a second offence the key is throttled to 20/min (q=20;w=60); the API says q={quota.limit};w={quota.window_s}", throttled)
