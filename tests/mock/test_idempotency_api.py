"""Idempotency keys through HTTP: replay, conflict, in progress, what is stored, retention, scope."""

import asyncio

import pytest

from .conftest import OTHER, RW, assert_error, booking_body, create

pytestmark = pytest.mark.anyio


async def test_create_booking_same_key_same_body_replays_stored_response(client, app):
    first = await create(client, key="k1")
    again = await create(client, key="k1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert len(app.backend.store.bookings) == 1
    assert [e.type for e in app.backend.events_of("ws_demo")] == ["booking.created"]


async def test_create_booking_key_in_body_or_header_is_the_same_request(client, app):
    first = await client.post("/v1/bookings", headers=RW, json=booking_body(idempotency_key="k2"))
    assert first.status_code == 201
    again = await client.post("/v1/bookings", headers={**RW, "Idempotency-Key": "k2"}, json=booking_body())
    assert again.headers["Idempotent-Replayed"] == "true"
    both = await client.post("/v1/bookings", headers={**RW, "Idempotency-Key": "k2"}, json=booking_body(idempotency_key="k2"))
    assert both.headers["Idempotent-Replayed"] == "true"
    assert len(app.backend.store.bookings) == 1


async def test_create_booking_without_key_returns_400(client):
    assert_error(await client.post("/v1/bookings", headers=RW, json=booking_body()), 400, "invalid_request", "Idempotency-Key")


async def test_create_booking_header_and_body_keys_differ_returns_400(client):
    response = await client.post("/v1/bookings", headers={**RW, "Idempotency-Key": "a"}, json=booking_body(idempotency_key="b"))
    assert_error(response, 400, "invalid_request", "idempotency_key")


async def test_create_booking_same_key_other_body_returns_409_conflict(client):
    await create(client, key="k3")
    error = assert_error(await create(client, key="k3", attendees=2), 409, "idempotency_conflict", "Idempotency-Key")
    assert "k3" in error["message"]


async def test_update_booking_same_key_on_other_path_returns_409_conflict(client):
    a = (await create(client)).json()
    b = (await create(client, start="2026-05-23T16:00:00Z", end="2026-05-23T17:00:00Z")).json()
    assert (await client.patch(f"/v1/bookings/{a['id']}", headers={**RW, "Idempotency-Key": "p"}, json={"notes": "x"})).status_code == 200
    response = await client.patch(f"/v1/bookings/{b['id']}", headers={**RW, "Idempotency-Key": "p"}, json={"notes": "x"})
    assert_error(response, 409, "idempotency_conflict")


async def test_create_booking_domain_error_is_stored_and_replayed(client):
    await create(client)
    first = await create(client, key="k4", start="2026-05-23T15:00:00Z", end="2026-05-23T16:00:00Z")
    assert_error(first, 409, "slot_unavailable")
    again = await create(client, key="k4", start="2026-05-23T15:00:00Z", end="2026-05-23T16:00:00Z")
    error = assert_error(again, 409, "slot_unavailable")  # request_id is the replay's own
    assert again.headers["Idempotent-Replayed"] == "true"
    assert error["message"] == first.json()["error"]["message"]


async def test_create_booking_validation_error_is_not_stored(client):
    bad = await client.post("/v1/bookings", headers={**RW, "Idempotency-Key": "k5"}, json={**booking_body(), "attendees": 0})
    assert_error(bad, 400, "invalid_request")
    past = await create(client, key="k5", start="2026-05-21T14:00:00Z", end="2026-05-21T15:00:00Z")
    assert_error(past, 400, "invalid_request", "start_at")
    fixed = await create(client, key="k5")
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


async def test_create_booking_key_while_first_executes_returns_409_in_progress(client, app):
    await client.patch("/_mock/workspaces/ws_demo", json={"processing_delay_ms": 200})
    first, second = await asyncio.gather(create(client, key="k6"), _after(0.05, create(client, key="k6")))
    assert first.status_code == 201
    assert_error(second, 409, "idempotency_in_progress", "Idempotency-Key")
    third = await create(client, key="k6")
    assert third.headers["Idempotent-Replayed"] == "true"
    assert len(app.backend.store.bookings) == 1


async def _after(seconds, awaitable):
    await asyncio.sleep(seconds)
    return await awaitable


async def test_create_booking_key_forgotten_after_24_hours(client):
    await create(client, key="k7")
    await client.post("/_mock/clock/advance", json={"seconds": 24 * 3600 - 1})
    assert (await create(client, key="k7")).headers.get("Idempotent-Replayed") == "true"
    await client.post("/_mock/clock/advance", json={"seconds": 1})
    fresh = await create(client, key="k7", start="2026-05-24T14:00:00Z", end="2026-05-24T15:00:00Z")
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers


async def test_create_booking_keys_are_scoped_per_workspace(client):
    await create(client, key="shared")
    other = await create(client, OTHER, key="shared", room="rm_otherstudio", booked_by={"member_id": "mem_oscar"})
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers


async def test_cancel_booking_same_key_replays_instead_of_409(client):
    booking = (await create(client)).json()
    path = f"/v1/bookings/{booking['id']}/cancel"
    first = await client.post(path, headers={**RW, "Idempotency-Key": "c1"}, json={"refund_policy": "none"})
    again = await client.post(path, headers={**RW, "Idempotency-Key": "c1"}, json={"refund_policy": "none"})
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_create_booking_64_concurrent_same_key_make_one_booking(client, app):
    responses = await asyncio.gather(*(create(client, key="burst") for _ in range(64)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in responses) == 1
    assert len(app.backend.store.bookings) == 1


async def test_create_booking_64_concurrent_same_key_with_delay_one_executes_rest_in_progress(client, app):
    await client.patch("/_mock/workspaces/ws_demo", json={"processing_delay_ms": 100})
    responses = await asyncio.gather(*(create(client, key="slow") for _ in range(64)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1 and statuses.count(409) == 63
    assert all(r.json()["error"]["code"] == "idempotency_in_progress" for r in responses if r.status_code == 409)
    assert len(app.backend.store.bookings) == 1


async def test_create_booking_64_concurrent_creates_of_one_slot_make_exactly_one(client, app):
    responses = await asyncio.gather(*(create(client) for _ in range(64)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1 and statuses.count(409) == 63
    assert all(r.json()["error"]["code"] == "slot_unavailable" for r in responses if r.status_code == 409)
    assert len(app.backend.store.bookings) == 1


async def test_create_booking_64_concurrent_creates_with_delay_still_make_exactly_one(client, app):
    await client.patch("/_mock/workspaces/ws_demo", json={"processing_delay_ms": 20})
    responses = await asyncio.gather(*(create(client) for _ in range(64)))
    assert sorted(r.status_code for r in responses).count(201) == 1
    assert len(app.backend.store.bookings) == 1
