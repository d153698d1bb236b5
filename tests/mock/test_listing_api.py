"""Listing through HTTP: keyset pages under concurrent inserts, signed cursors, rooms."""

import asyncio
from datetime import datetime, timedelta

import pytest

from .conftest import NOW, OTHER, RO, RW, assert_error, create

pytestmark = pytest.mark.anyio


def slot(day: int, quarter: int) -> dict:
    start = (NOW + timedelta(days=day)).replace(hour=0, minute=0) + timedelta(minutes=15 * quarter)
    return {"room": "rm_focus", "start": start.isoformat(), "end": (start + timedelta(minutes=15)).isoformat()}


async def walk(client, limit, params=None, between_pages=None):
    seen, cursor = [], None
    for page_number in range(500):
        query = {**(params or {}), "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/bookings", headers=RO, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [b["id"] for b in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        if between_pages:
            await between_pages(page_number)
    raise AssertionError("walk did not end")


async def test_list_bookings_walk_under_concurrent_inserts_never_repeats_or_skips(client):
    created = await asyncio.gather(*(create(client, **slot(1 + i % 5, 4 + i // 5)) for i in range(40)))
    original = [r.json()["id"] for r in created]

    async def insert_some(page_number):
        # before, inside and after the walk's current position, concurrently
        await asyncio.gather(*(create(client, **slot(1 + k, 60 + page_number)) for k in range(5)))

    seen = await walk(client, 3, between_pages=insert_some)
    assert len(seen) == len(set(seen))
    assert set(original) <= set(seen)


async def test_list_bookings_walk_visits_in_start_then_id_order(client):
    await asyncio.gather(*(create(client, **slot(1 + i % 3, 4 + i // 3)) for i in range(20)))
    bookings = (await client.get("/v1/bookings", headers=RO, params={"limit": 200})).json()["data"]
    keys = [(b["start_at"], b["id"]) for b in bookings]
    assert keys == sorted(keys)
    assert await walk(client, 7) == [b["id"] for b in bookings]


async def test_list_bookings_next_cursor_null_exactly_at_end(client):
    await asyncio.gather(*(create(client, **slot(1, q)) for q in range(4)))
    full = (await client.get("/v1/bookings", headers=RO, params={"limit": 4})).json()
    assert len(full["data"]) == 4 and full["next_cursor"] is None
    partial = (await client.get("/v1/bookings", headers=RO, params={"limit": 3})).json()
    assert partial["next_cursor"] is not None


async def test_list_bookings_cursor_with_other_filters_returns_400(client):
    await asyncio.gather(*(create(client, **slot(1, q)) for q in range(4)))
    cursor = (await client.get("/v1/bookings", headers=RO, params={"limit": 2})).json()["next_cursor"]
    response = await client.get("/v1/bookings", headers=RO, params={"limit": 2, "cursor": cursor, "status": "confirmed"})
    assert_error(response, 400, "invalid_request", "cursor")
    assert_error(await client.get("/v1/bookings", headers=OTHER, params={"cursor": cursor}), 400, "invalid_request", "cursor")
    same = await client.get("/v1/bookings", headers=RO, params={"limit": 50, "cursor": cursor})
    assert len(same.json()["data"]) == 2


@pytest.mark.parametrize("cursor", ["abc", "abc.def", "eyJ4IjoxfQ.AAAA", "..", "%00"])
async def test_list_bookings_tampered_cursor_returns_400(client, cursor):
    assert_error(await client.get("/v1/bookings", headers=RO, params={"cursor": cursor}), 400, "invalid_request", "cursor")


async def test_list_bookings_cursor_edited_payload_returns_400(client):
    await asyncio.gather(*(create(client, **slot(1, q)) for q in range(4)))
    cursor = (await client.get("/v1/bookings", headers=RO, params={"limit": 2})).json()["next_cursor"]
    payload, mac = cursor.split(".")
    forged = payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + mac
    assert_error(await client.get("/v1/bookings", headers=RO, params={"cursor": forged}), 400, "invalid_request", "cursor")


async def test_list_rooms_pages_by_id(client):
    first = (await client.get("/v1/rooms", headers=RO, params={"limit": 3})).json()
    second = (await client.get("/v1/rooms", headers=RO, params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert [r["id"] for r in first["data"] + second["data"]] == ["rm_boardroom", "rm_focus", "rm_loft", "rm_studio"]
    assert second["next_cursor"] is None
    studio = (await client.get("/v1/rooms", headers=RO, params={"tier": "studio"})).json()["data"]
    assert studio[0]["opening_hours"] == {"opens_at": "08:00", "closes_at": "22:00"}
    assert studio[0]["price_per_hour"] == {"currency": "GBP", "amount_minor": 5600}


async def test_get_room_of_other_workspace_returns_404_room_not_found(client):
    assert (await client.get("/v1/rooms/rm_studio", headers=RO)).json()["capacity"] == 8
    assert_error(await client.get("/v1/rooms/rm_otherstudio", headers=RO), 404, "room_not_found", "id")
