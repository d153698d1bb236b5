"""The lifecycle under the controlled clock, through the control API, with its events."""

import pytest

from .conftest import RW, assert_error, create

pytestmark = pytest.mark.anyio


async def events(client, workspace="ws_demo"):
    response = await client.get(f"/_mock/workspaces/{workspace}/events")
    assert response.status_code == 200
    return response.json()["data"]


async def status_of(client, booking_id):
    return (await client.get(f"/v1/bookings/{booking_id}", headers=RW)).json()["status"]


async def test_get_booking_after_checkout_window_is_expired(client):
    booking = (await create(client)).json()
    advanced = (await client.post("/_mock/clock/advance", json={"seconds": 1799})).json()
    assert advanced["fired"] == 0
    assert await status_of(client, booking["id"]) == "pending_payment"
    assert (await client.post("/_mock/clock/advance", json={"seconds": 1})).json()["fired"] == 1
    expired = (await client.get(f"/v1/bookings/{booking['id']}", headers=RW)).json()
    assert (expired["status"], expired["updated_at"], expired["checkout_url"]) == ("expired", "2026-05-22T09:30:00Z", None)
    assert [e["type"] for e in await events(client)] == ["booking.created", "booking.expired"]


async def test_complete_checkout_confirms_then_end_completes(client):
    booking = (await create(client)).json()
    confirmed = await client.post(f"/_mock/bookings/{booking['id']}/checkout/complete")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["charges"][0]["amount"]["amount_minor"] == 8400
    await client.put("/_mock/clock", json={"now": "2026-05-23T15:30:00Z"})
    assert await status_of(client, booking["id"]) == "completed"
    history = await events(client)
    assert [e["type"] for e in history] == ["booking.created", "booking.confirmed", "booking.completed"]
    assert history[-1]["created_at"] == "2026-05-23T15:30:00Z"
    assert history[-1]["data"]["object"]["status"] == "completed"


async def test_set_clock_far_ahead_fires_due_transitions_in_time_order(client):
    late = (await create(client, start="2026-05-25T14:00:00Z", end="2026-05-25T15:00:00Z")).json()
    early = (await create(client)).json()
    pending = (await create(client, start="2026-05-26T14:00:00Z", end="2026-05-26T15:00:00Z")).json()
    for booking in (late, early):
        await client.post(f"/_mock/bookings/{booking['id']}/checkout/complete")
    fired = (await client.put("/_mock/clock", json={"now": "2026-06-01T00:00:00Z"})).json()["fired"]
    assert fired == 3
    history = [(e["type"], e["data"]["object"]["id"]) for e in await events(client)][-3:]
    assert history == [("booking.expired", pending["id"]), ("booking.completed", early["id"]), ("booking.completed", late["id"])]


async def test_fail_checkout_expires_now_and_frees_slot(client):
    booking = (await create(client)).json()
    failed = await client.post(f"/_mock/bookings/{booking['id']}/checkout/fail")
    assert failed.json()["status"] == "expired"
    assert (await create(client)).status_code == 201


async def test_complete_checkout_not_pending_returns_409(client):
    booking = (await create(client)).json()
    await client.post(f"/_mock/bookings/{booking['id']}/checkout/fail")
    assert_error(await client.post(f"/_mock/bookings/{booking['id']}/checkout/complete"), 409, "checkout_not_pending")
    assert_error(await client.post("/_mock/bookings/bk_nope/checkout/complete"), 404, "booking_not_found")


async def test_mark_no_show_after_start_sets_mark_and_event(client):
    booking = (await create(client)).json()
    await client.post(f"/_mock/bookings/{booking['id']}/checkout/complete")
    assert_error(await client.post(f"/_mock/bookings/{booking['id']}/no-show"), 409, "no_show_not_allowed")
    await client.put("/_mock/clock", json={"now": "2026-05-23T14:20:00Z"})
    marked = (await client.post(f"/_mock/bookings/{booking['id']}/no-show")).json()
    assert (marked["status"], marked["no_show_at"]) == ("confirmed", "2026-05-23T14:20:00Z")
    assert (await events(client))[-1]["type"] == "booking.no_show"


async def test_update_booking_fires_updated_and_cancel_fires_cancelled(client):
    booking = (await create(client)).json()
    await client.patch(f"/v1/bookings/{booking['id']}", headers=RW, json={"notes": "n"})
    await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=RW)
    assert [e["type"] for e in await events(client)] == ["booking.created", "booking.updated", "booking.cancelled"]
