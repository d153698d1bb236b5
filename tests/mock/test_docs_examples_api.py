"""The docs page's own requests work unchanged against the mock, but for host, token and ids."""

import pytest

from .conftest import RW

pytestmark = pytest.mark.anyio


async def test_docs_examples_list_create_patch_cancel_work_as_written(client):
    created = await client.post(
        "/v1/bookings",
        headers={**RW, "Content-Type": "application/json", "Idempotency-Key": "0e8a-4d6f-bc14"},
        content=b"""{
    "room_id": "rm_studio",
    "start_at": "2026-05-23T14:00:00Z",
    "end_at":   "2026-05-23T15:30:00Z",
    "booked_by": { "member_id": "mem_alice" },
    "notes": "Studio mic check 13:55",
    "attendees": 4
  }""",
    )
    assert created.status_code == 201, created.text
    booking = created.json()
    assert {k: booking[k] for k in ("status", "room", "start_at", "end_at", "price")} == {
        "status": "pending_payment",
        "room": {"id": "rm_studio", "name": "Studio"},
        "start_at": "2026-05-23T14:00:00Z",
        "end_at": "2026-05-23T15:30:00Z",
        "price": {"currency": "GBP", "amount_minor": 8400},
    }
    await client.post(f"/_mock/bookings/{booking['id']}/checkout/complete")

    listed = await client.get(
        "/v1/bookings", headers=RW,
        params={"from": "2026-05-22T00:00:00Z", "to": "2026-05-29T00:00:00Z", "status": "confirmed", "limit": "100"},
    )
    assert [b["id"] for b in listed.json()["data"]] == [booking["id"]]

    patched = await client.patch(
        f"/v1/bookings/{booking['id']}",
        headers={**RW, "Content-Type": "application/json"},
        content='{"end_at": "2026-05-23T16:00:00Z", "attendees": 6, "notes": "Extended by 30 min — client running over."}'.encode(),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["charges"][-1]["kind"] == "delta"

    cancelled = await client.post(
        f"/v1/bookings/{booking['id']}/cancel",
        headers={**RW, "Content-Type": "application/json"},
        content=b'{"reason": "member_requested", "refund_policy": "full", "notify_attendees": true}',
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["cancellation"]["refund"]["amount"]["amount_minor"] == 11200
