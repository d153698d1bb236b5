"""Rate limits through HTTP: headers on every authenticated response, 429, penalty, configuration, off."""

import pytest

from .conftest import OTHER, RATE_HEADERS, RO, RW, assert_error, create

pytestmark = pytest.mark.anyio


async def shrink(client, **settings):
    response = await client.patch("/_mock/workspaces/ws_demo", json={"rate_limit": settings})
    assert response.status_code == 200, response.text


async def test_any_authenticated_response_carries_rate_headers(client):
    responses = [
        await client.get("/v1/rooms", headers=RO),
        await client.get("/v1/bookings", headers=RO, params={"limit": 0}),
        await client.get("/v1/bookings/bk_nope", headers=RO),
        await create(client, RO),
        await create(client, start="2026-05-23T14:10:00Z"),
        await client.get("/v1/calendar.ics", params={"token": "sk_test_demo_ro"}),
    ]
    for response in responses:
        assert all(h in response.headers for h in RATE_HEADERS), response.request.url
    assert responses[0].headers["X-RateLimit-Remaining"] == "499"


async def test_any_request_remaining_counts_down_per_workspace(client):
    first = await client.get("/v1/rooms", headers=RW)
    second = await client.get("/v1/rooms", headers=RO)
    other = await client.get("/v1/rooms", headers=OTHER)
    assert int(first.headers["X-RateLimit-Remaining"]) - 1 == int(second.headers["X-RateLimit-Remaining"])
    assert other.headers["X-RateLimit-Remaining"] == "499"


async def test_any_request_empty_bucket_returns_429_with_retry_after(client):
    await shrink(client, capacity=3, refill_per_minute=60)
    for _ in range(3):
        assert (await client.get("/v1/rooms", headers=RW)).status_code == 200
    response = await client.get("/v1/rooms", headers=RW)
    error = assert_error(response, 429, "rate_limited")
    assert error["retry_after_ms"] == 1000
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["RateLimit"].startswith('"workspace";r=0;')


async def test_any_request_rate_limit_runs_before_validation(client):
    await shrink(client, capacity=1, refill_per_minute=1)
    await client.get("/v1/rooms", headers=RW)
    assert_error(await client.get("/v1/bookings", headers=RW, params={"limit": 0}), 429, "rate_limited")


async def test_any_request_bucket_refills_with_the_clock(client):
    await shrink(client, capacity=2, refill_per_minute=60)
    for _ in range(2):
        await client.get("/v1/rooms", headers=RW)
    assert (await client.get("/v1/rooms", headers=RW)).status_code == 429
    await client.post("/_mock/clock/advance", json={"seconds": 2})
    assert (await client.get("/v1/rooms", headers=RW)).status_code == 200


async def test_any_request_second_offence_throttles_key_to_20_per_minute(client):
    await shrink(client, capacity=2, refill_per_minute=60)
    for _ in range(2):
        await client.get("/v1/rooms", headers=RW)
    statuses = [(await client.get("/v1/rooms", headers=RW)).status_code for _ in range(3)]
    assert statuses == [429, 429, 429]  # the 2nd and 3rd arrived inside the retry window
    response = await client.get("/v1/rooms", headers=RW)
    assert response.headers["X-RateLimit-Limit"] == "20"
    assert response.headers["RateLimit-Policy"] == '"penalty";q=20;w=60'
    await client.post("/_mock/clock/advance", json={"seconds": 6})
    ok = await client.get("/v1/rooms", headers=RW)
    assert ok.status_code == 200 and ok.headers["X-RateLimit-Limit"] == "20"
    # the read-only key of the same workspace is not throttled
    assert (await client.get("/v1/rooms", headers=RO)).headers["X-RateLimit-Limit"] == "2"


async def test_any_request_off_mode_never_429s(client):
    await shrink(client, enabled=False, capacity=1)
    statuses = {(await client.get("/v1/rooms", headers=RW)).status_code for _ in range(20)}
    assert statuses == {200}


async def test_control_api_is_not_rate_limited(client):
    await shrink(client, capacity=1, refill_per_minute=1)
    for _ in range(5):
        response = await client.get("/_mock/clock")
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers
