"""Availability and the iCal feed through HTTP."""

import pytest
from icalendar import Calendar

from .conftest import OTHER, RO, RW, assert_error, create

pytestmark = pytest.mark.anyio


async def test_get_availability_room_day_lists_busy_and_free(client):
    await create(client)
    response = await client.get("/v1/availability", headers=RO, params={"room_id": "rm_studio", "from": "2026-05-23T00:00:00Z"})
    assert response.status_code == 200
    (room,) = response.json()["rooms"]
    assert [(w["start_at"], w["reason"]) for w in room["busy"]] == [
        ("2026-05-23T00:00:00Z", "closed"), ("2026-05-23T14:00:00Z", "booking"), ("2026-05-23T22:00:00Z", "closed")]
    assert room["free"] == [
        {"start_at": "2026-05-23T08:00:00Z", "end_at": "2026-05-23T14:00:00Z"},
        {"start_at": "2026-05-23T15:30:00Z", "end_at": "2026-05-23T22:00:00Z"},
    ]


async def test_get_availability_by_tier_and_default_range(client):
    body = (await client.get("/v1/availability", headers=RO, params={"tier": "meeting"})).json()
    assert [r["room"]["id"] for r in body["rooms"]] == ["rm_boardroom"]
    assert (body["from"], body["to"]) == ("2026-05-22T09:00:00Z", "2026-05-23T09:00:00Z")


@pytest.mark.parametrize(
    ("params", "status", "code", "param"),
    [
        ({"room_id": "rm_otherstudio"}, 404, "room_not_found", "room_id"),
        ({"from": "2026-05-23T00:00:00Z", "to": "2026-05-22T00:00:00Z"}, 400, "invalid_request", "to"),
        ({"from": "2026-05-01T00:00:00Z", "to": "2026-06-02T00:00:00Z"}, 400, "invalid_request", "to"),
        ({"tier": "Not A Tier"}, 400, "invalid_request", "tier"),
    ],
)
async def test_get_availability_bad_query_returns_error(client, params, status, code, param):
    assert_error(await client.get("/v1/availability", headers=RO, params=params), status, code, param)


async def test_get_calendar_feed_with_query_token_is_rfc5545(client):
    booking = (await create(client)).json()
    await client.patch(f"/v1/bookings/{booking['id']}", headers=RW, json={"attendees": 3})
    response = await client.get("/v1/calendar.ics", params={"token": "sk_test_demo_ro"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar"
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["uid"]) == f"{booking['id']}@litehq"
    assert str(event["status"]) == "TENTATIVE" and int(event["sequence"]) == 1
    assert event.decoded("dtstart").isoformat() == "2026-05-23T14:00:00+00:00"


async def test_get_calendar_feed_with_bearer_token(client):
    assert (await client.get("/v1/calendar.ics", headers=RO)).status_code == 200


@pytest.mark.parametrize("token", ["sk_test_demo_revoked", "sk_test_nope"])
async def test_get_calendar_feed_bad_query_token_returns_401(client, token):
    assert_error(await client.get("/v1/calendar.ics", params={"token": token}), 401, "auth_invalid")


async def test_get_calendar_feed_is_scoped_to_the_token_workspace(client):
    await create(client, OTHER, room="rm_otherstudio", booked_by={"member_id": "mem_oscar"})
    feed = Calendar.from_ical((await client.get("/v1/calendar.ics", headers=RO)).content)
    assert feed.walk("VEVENT") == []
