"""Bookings through HTTP: create, get, list, update, cancel — statuses, bodies, headers, error codes."""

import pytest

from .conftest import NOSTRIPE, OTHER, RATE_HEADERS, RO, RW, assert_error, booking_body, create

pytestmark = pytest.mark.anyio


async def test_create_booking_valid_slot_returns_201_with_location_and_price(client):
    response = await create(client, attendees=4, notes="Studio mic check 13:55")
    assert response.status_code == 201
    booking = response.json()
    assert response.headers["Location"] == f"/v1/bookings/{booking['id']}"
    assert booking["status"] == "pending_payment"
    assert booking["price"] == {"currency": "GBP", "amount_minor": 8400}
    assert booking["expires_at"] == "2026-05-22T09:30:00Z"
    assert all(h in response.headers for h in RATE_HEADERS)
    assert "Idempotent-Replayed" not in response.headers


async def test_create_booking_guest_booker_returns_guest(client):
    body = booking_body(booked_by={"guest": {"email": "dana@example.com", "name": "Dana"}})
    response = await client.post("/v1/bookings", headers={**RW, "Idempotency-Key": "g1"}, json=body)
    assert response.status_code == 201
    assert response.json()["booked_by"] == {"type": "guest", "guest": {"email": "dana@example.com", "name": "Dana"}}


async def test_create_booking_misaligned_returns_422_slot_misaligned(client):
    assert_error(await create(client, start="2026-05-23T14:10:00Z"), 422, "slot_misaligned", "start_at")


@pytest.mark.parametrize(("start", "end"), [("2026-05-23T06:00:00Z", "2026-05-23T09:00:00Z"), ("2026-05-23T21:00:00Z", "2026-05-23T23:00:00Z")])
async def test_create_booking_outside_opening_hours_returns_409_slot_unavailable(client, start, end):
    assert_error(await create(client, start=start, end=end), 409, "slot_unavailable")


async def test_create_booking_in_blackout_returns_409_slot_unavailable(client):
    response = await create(client, room="rm_boardroom", start="2026-05-24T10:00:00Z", end="2026-05-24T11:00:00Z")
    assert_error(response, 409, "slot_unavailable")


async def test_create_booking_overlapping_returns_409_slot_unavailable(client):
    assert (await create(client)).status_code == 201
    assert_error(await create(client, start="2026-05-23T15:00:00Z", end="2026-05-23T16:00:00Z"), 409, "slot_unavailable")


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"start": "2026-05-21T14:00:00Z", "end": "2026-05-21T15:00:00Z"}, "start_at"),
        ({"end": "2026-05-23T13:00:00Z"}, "end_at"),
        ({"attendees": 9}, "attendees"),
        ({"booked_by": {"member_id": "mem_oscar"}}, "booked_by.member_id"),
    ],
)
async def test_create_booking_domain_bad_input_returns_400_with_param(client, kwargs, param):
    assert_error(await create(client, **kwargs), 400, "invalid_request", param)


async def test_create_booking_unknown_room_returns_400_naming_room_id(client):
    assert_error(await create(client, room="rm_nope"), 400, "invalid_request", "room_id")
    assert_error(await create(client, room="rm_otherstudio"), 400, "invalid_request", "room_id")


async def test_update_booking_unknown_room_returns_400_naming_room_id(client):
    booking = (await create(client)).json()
    assert_error(await client.patch(f"/v1/bookings/{booking['id']}", headers=RW, json={"room_id": "rm_nope"}), 400, "invalid_request", "room_id")


async def test_create_booking_without_stripe_returns_412(client):
    response = await create(client, NOSTRIPE, room="rm_nostripe", booked_by={"member_id": "mem_nina"})
    assert_error(response, 412, "stripe_unconfigured")


async def test_create_booking_read_only_token_returns_403_and_creates_nothing(client, app):
    assert_error(await create(client, RO), 403, "auth_scope_insufficient")
    assert app.backend.store.bookings == {}


async def test_get_booking_existing_returns_it(client):
    created = (await create(client)).json()
    response = await client.get(f"/v1/bookings/{created['id']}", headers=RO)
    assert response.status_code == 200
    assert response.json() == created


async def test_get_booking_unknown_returns_404_booking_not_found(client):
    assert_error(await client.get("/v1/bookings/bk_nope", headers=RW), 404, "booking_not_found", "id")


async def test_get_booking_malformed_id_returns_400(client):
    assert_error(await client.get("/v1/bookings/not-an-id", headers=RW), 400, "invalid_request", "id")


async def test_get_booking_other_workspace_returns_404_not_403(client):
    other = (await create(client, OTHER, room="rm_otherstudio", booked_by={"member_id": "mem_oscar"})).json()
    assert_error(await client.get(f"/v1/bookings/{other['id']}", headers=RW), 404, "booking_not_found")
    assert_error(await client.patch(f"/v1/bookings/{other['id']}", headers=RW, json={"notes": "x"}), 404, "booking_not_found")
    assert_error(await client.post(f"/v1/bookings/{other['id']}/cancel", headers=RW), 404, "booking_not_found")
    mine = await client.get("/v1/bookings", headers=RW, params={"from": "2026-05-22T00:00:00Z"})
    assert mine.json()["data"] == []
    assert (await client.get(f"/v1/bookings/{other['id']}", headers=OTHER)).status_code == 200


async def test_list_bookings_filters_and_defaults(client):
    first = (await create(client)).json()
    second = (await create(client, start="2026-05-24T14:00:00Z", end="2026-05-24T15:00:00Z", booked_by={"member_id": "mem_bob"})).json()
    await client.post(f"/_mock/bookings/{second['id']}/checkout/complete")
    everything = (await client.get("/v1/bookings", headers=RO)).json()
    assert [b["id"] for b in everything["data"]] == [first["id"], second["id"]]
    assert everything["next_cursor"] is None
    confirmed = (await client.get("/v1/bookings", headers=RO, params={"status": "confirmed"})).json()
    assert [b["id"] for b in confirmed["data"]] == [second["id"]]
    bob = (await client.get("/v1/bookings", headers=RO, params={"member_id": "mem_bob"})).json()
    assert [b["id"] for b in bob["data"]] == [second["id"]]
    acme = (await client.get("/v1/bookings", headers=RO, params={"company_id": "co_acme", "room_id": "rm_studio"})).json()
    assert len(acme["data"]) == 2
    window = (await client.get("/v1/bookings", headers=RO, params={"from": "2026-05-23T14:00:00Z", "to": "2026-05-24T14:00:00Z"})).json()
    assert [b["id"] for b in window["data"]] == [first["id"]]


@pytest.mark.parametrize(
    ("params", "param"),
    [({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"limit": "ten"}, "limit"), ({"status": "done"}, "status"),
     ({"from": "yesterday"}, "from"), ({"room_id": "studio"}, "room_id"), ({"cursor": "x" * 600}, "cursor"),
     ({"from": "2026-05-24T00:00:00Z", "to": "2026-05-23T00:00:00Z"}, "to")],
)
async def test_list_bookings_bad_query_returns_400_with_param(client, params, param):
    assert_error(await client.get("/v1/bookings", headers=RO, params=params), 400, "invalid_request", param)


async def test_update_booking_lengthen_confirmed_records_delta_charge(client):
    booking = (await create(client)).json()
    await client.post(f"/_mock/bookings/{booking['id']}/checkout/complete")
    response = await client.patch(
        f"/v1/bookings/{booking['id']}", headers=RW,
        json={"end_at": "2026-05-23T16:00:00Z", "attendees": 6, "notes": "Extended by 30 min — client running over."},
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["price"]["amount_minor"] == 11200
    assert [c["kind"] for c in updated["charges"]] == ["booking", "delta"]
    assert updated["attendees"] == 6


async def test_update_booking_onto_taken_slot_returns_409_and_changes_nothing(client):
    booking = (await create(client)).json()
    await create(client, start="2026-05-23T16:00:00Z", end="2026-05-23T17:00:00Z")
    assert_error(await client.patch(f"/v1/bookings/{booking['id']}", headers=RW, json={"end_at": "2026-05-23T16:30:00Z"}), 409, "slot_unavailable")
    assert (await client.get(f"/v1/bookings/{booking['id']}", headers=RW)).json() == booking


async def test_update_booking_misaligned_returns_422(client):
    booking = (await create(client)).json()
    assert_error(await client.patch(f"/v1/bookings/{booking['id']}", headers=RW, json={"end_at": "2026-05-23T16:10:00Z"}), 422, "slot_misaligned", "end_at")


async def test_update_booking_after_cutoff_returns_409_not_editable(client):
    booking = (await create(client)).json()
    await client.put("/_mock/clock", json={"now": "2026-05-23T13:30:00Z"})
    assert_error(await client.patch(f"/v1/bookings/{booking['id']}", headers=RW, json={"notes": "late"}), 409, "booking_not_editable")


@pytest.mark.parametrize("body", [{}, {"status": "confirmed"}, {"attendees": 0}, {"notes": 5}])
async def test_update_booking_invalid_body_returns_400(client, body):
    booking = (await create(client)).json()
    assert_error(await client.patch(f"/v1/bookings/{booking['id']}", headers=RW, json=body), 400, "invalid_request")


async def test_cancel_booking_confirmed_partial_refunds_half(client):
    booking = (await create(client)).json()
    await client.post(f"/_mock/bookings/{booking['id']}/checkout/complete")
    response = await client.post(
        f"/v1/bookings/{booking['id']}/cancel", headers=RW,
        json={"reason": "member_requested", "refund_policy": "partial", "notify_attendees": True},
    )
    assert response.status_code == 200
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation"]["refund"]["amount"]["amount_minor"] == 4200
    assert cancelled["refunds"] == [cancelled["cancellation"]["refund"]]


async def test_cancel_booking_without_body_uses_defaults(client):
    booking = (await create(client)).json()
    cancellation = (await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=RW)).json()["cancellation"]
    assert (cancellation["reason"], cancellation["refund_policy"], cancellation["notify_attendees"], cancellation["refund"]) == ("other", "full", True, None)


async def test_cancel_booking_twice_returns_409_not_cancellable(client):
    booking = (await create(client)).json()
    assert (await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=RW)).status_code == 200
    assert_error(await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=RW), 409, "booking_not_cancellable")


async def test_cancel_booking_frees_the_slot(client):
    booking = (await create(client)).json()
    await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=RW)
    assert (await create(client)).status_code == 201
