"""Availability and the iCal feed: busy reflects bookings, blackouts and closed hours; free is its complement; the feed mirrors bookings."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import icalendar

from conformance.http import Exchange
from conformance.scenario import RuleBroken, ScenarioSkipped, expect, expect_error, expect_status, scenario
from conformance.world import World, iso, parse_instant

AREA = "availability"
FEED_STATUS = {"pending_payment": "TENTATIVE", "confirmed": "CONFIRMED", "completed": "CONFIRMED", "cancelled": "CANCELLED"}


def _day_of(room_id: str, world: World, day: datetime) -> tuple[dict[str, Any], Exchange]:
    reply = world.get("/v1/availability", params={"room_id": room_id, "from": iso(day), "to": iso(day + timedelta(days=1))})
    expect_status(reply, 200, f"GET /v1/availability?room_id={room_id}")
    rooms = reply.json()["rooms"]
    expect(len(rooms) == 1 and rooms[0]["room"]["id"] == room_id, f"room_id={room_id} must return exactly that room", reply)
    return rooms[0], reply


def _windows(items: list[dict[str, Any]]) -> list[tuple[datetime, datetime]]:
    return [(parse_instant(w["start_at"]), parse_instant(w["end_at"])) for w in items]


def _check_free_is_complement(room: dict[str, Any], start: datetime, end: datetime, reply: Exchange) -> None:
    busy = sorted((max(s, start), min(e, end)) for s, e in _windows(room["busy"]) if e > start and s < end)
    expected: list[tuple[datetime, datetime]] = []
    cursor = start
    for s, e in busy:
        if s > cursor:
            expected.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        expected.append((cursor, end))
    got = _windows(room["free"])
    expect(got == expected, "free must be exactly the range minus busy, as maximal windows in order: expected "
           + ", ".join(f"{iso(a)}–{iso(b)}" for a, b in expected) + "; got " + ", ".join(f"{iso(a)}–{iso(b)}" for a, b in got), reply)
    starts = [s for s, _ in _windows(room["busy"])]
    expect(starts == sorted(starts), "busy windows must be ordered by start_at", reply)


@scenario()
def test_busy_lists_pending_and_confirmed_bookings_and_free_is_the_rest(world: World) -> None:
    """A booking shows as a busy window with reason `booking`, and free is exactly the day minus busy."""
    room = world.room()
    booking = world.booking(room)
    start, end = parse_instant(booking["start_at"]), parse_instant(booking["end_at"])
    day = start.replace(hour=0, minute=0)
    availability, reply = _day_of(room.id, world, day)
    busy = [(w["start_at"], w["end_at"], w["reason"]) for w in availability["busy"]]
    expect((booking["start_at"], booking["end_at"], "booking") in busy,
           f"the pending booking {booking['start_at']}–{booking['end_at']} must be busy with reason booking; busy is {busy}", reply)
    _check_free_is_complement(availability, day, day + timedelta(days=1), reply)
    expect(all(not (s < end and e > start) for s, e in _windows(availability["free"])), "the booked slot shows as free", reply)


@scenario()
def test_cancelled_booking_no_longer_makes_the_room_busy(world: World) -> None:
    """Once cancelled, a booking's window is free again."""
    room = world.room()
    booking = world.booking(room)
    expect_status(world.post(f"/v1/bookings/{booking['id']}/cancel", {"reason": "other"}), 200, "cancel")
    availability, reply = _day_of(room.id, world, parse_instant(booking["start_at"]).replace(hour=0, minute=0))
    still = [w for w in availability["busy"] if w["reason"] == "booking" and w["start_at"] == booking["start_at"]]
    expect(not still, f"cancelled booking {booking['id']} still shows busy: {still}", reply)


@scenario(reads_only=True)
def test_hours_outside_opening_are_busy_with_reason_closed(world: World) -> None:
    """Before opening and after closing, a room is busy with reason `closed`; free is the complement of busy."""
    room = next((r for r in world.rooms() if r.opens_at != "00:00"), None)
    if room is None:
        raise ScenarioSkipped("every room of TOKEN's workspace opens at 00:00, so no closed hours to check")
    day = (world.now() + timedelta(days=40)).replace(hour=0, minute=0, second=0, microsecond=0)
    availability, reply = _day_of(room.id, world, day)
    opens = day + timedelta(hours=int(room.opens_at[:2]), minutes=int(room.opens_at[3:]))
    closed = [w for w in _windows([w for w in availability["busy"] if w["reason"] == "closed"])]
    expect((day, opens) in closed, f"{room.id} opens at {room.opens_at}: {iso(day)}–{iso(opens)} must be busy with reason closed; got {closed}", reply)
    _check_free_is_complement(availability, day, day + timedelta(days=1), reply)


@scenario(reads_only=True)
def test_blackouts_are_busy_with_reason_blackout(world: World) -> None:
    """A room's blackout shows as busy with reason `blackout`."""
    now = world.now()
    found = [(r, b) for r in world.rooms() for b in r.blackouts if parse_instant(b["end_at"]) > now]
    if not found:
        raise ScenarioSkipped("no room of TOKEN's workspace has an upcoming blackout")
    room, blackout = found[0]
    b_start, b_end = max(parse_instant(blackout["start_at"]), now + timedelta(minutes=1)), parse_instant(blackout["end_at"])
    day = b_start.replace(hour=0, minute=0, second=0, microsecond=0)
    availability, reply = _day_of(room.id, world, day)
    covering = [(s, e) for s, e in _windows([w for w in availability["busy"] if w["reason"] == "blackout"]) if s <= b_start and e >= min(b_end, day + timedelta(days=1))]
    expect(covering, f"{room.id}'s blackout {blackout['start_at']}–{blackout['end_at']} must be busy with reason blackout on {iso(day)[:10]}", reply)
    _check_free_is_complement(availability, day, day + timedelta(days=1), reply)


@scenario(reads_only=True)
def test_tier_filter_returns_only_rooms_of_that_tier(world: World) -> None:
    """tier= returns every room of that tier and no other."""
    tiers = {r.tier for r in world.rooms()}
    tier = sorted(tiers)[0]
    reply = world.get("/v1/availability", params={"tier": tier})
    expect_status(reply, 200, f"tier={tier}")
    got = {r["room"]["id"] for r in reply.json()["rooms"]}
    expected = {r.id for r in world.rooms() if r.tier == tier}
    expect(got == expected, f"tier={tier} must return {sorted(expected)}; got {sorted(got)}", reply)


@scenario(reads_only=True)
def test_unknown_room_is_404_room_not_found_and_bad_ranges_are_400(world: World) -> None:
    """An unknown room_id is 404 room_not_found; `to` not after `from`, or more than 31 days after it, is 400."""
    expect_error(world.get("/v1/availability", params={"room_id": "rm_conformanceNoSuchRoom"}), 404, "room_not_found", "unknown room_id")
    start = (world.now() + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    expect_error(world.get("/v1/availability", params={"from": iso(start), "to": iso(start)}), 400, "invalid_request", "to == from")
    expect_error(world.get("/v1/availability", params={"from": iso(start), "to": iso(start + timedelta(days=32))}), 400, "invalid_request", "a 32-day range")


def _feed(world: World, **kwargs: Any) -> tuple[icalendar.Calendar, Exchange]:
    reply = world.get("/v1/calendar.ics", **kwargs)
    expect_status(reply, 200, "GET /v1/calendar.ics")
    content_type = reply.header("content-type") or ""
    expect(content_type.split(";")[0].strip() == "text/calendar", f"the feed's Content-Type is {content_type!r}, not text/calendar", reply)
    try:
        calendar = icalendar.Calendar.from_ical(reply.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RuleBroken(f"the feed is not an RFC 5545 calendar icalendar can parse: {exc}", reply) from exc
    expect(calendar.name == "VCALENDAR" and str(calendar.get("VERSION")) == "2.0" and calendar.get("PRODID"),
           "the feed must be a VCALENDAR with VERSION:2.0 and a PRODID", reply)
    return calendar, reply


def _events(calendar: icalendar.Calendar) -> dict[str, list[Any]]:
    events: dict[str, list[Any]] = {}
    for event in calendar.walk("VEVENT"):
        events.setdefault(str(event.get("UID")), []).append(event)
    return events


@scenario(reads_only=True)
def test_feed_is_an_rfc5545_calendar_and_accepts_token_in_the_query(world: World) -> None:
    """The feed parses with icalendar, with the bearer header and with ?token= alike, and UIDs are unique."""
    calendar, reply = _feed(world)
    duplicates = [uid for uid, events in _events(calendar).items() if len(events) > 1]
    expect(not duplicates, f"UIDs {duplicates[:3]} appear in more than one VEVENT", reply)
    _feed(world, token=None, params={"token": world.readonly_token or world.settings.token})


@scenario()
def test_feed_has_one_vevent_per_visible_booking_with_its_status(world: World) -> None:
    """Each booking is one VEVENT (UID <id>@litehq, UTC times, mapped STATUS); expired bookings are left out."""
    pending = world.booking()
    cancelled = world.booking()
    expect_status(world.post(f"/v1/bookings/{cancelled['id']}/cancel", {}), 200, "cancel")
    cancelled = world.fetch(cancelled["id"])
    shown = [pending, cancelled]
    if world.may_drive_mock:
        shown.append(world.confirmed_booking())
    calendar, reply = _feed(world)
    events = _events(calendar)
    for booking in shown:
        uid = f"{booking['id']}@litehq"
        found = events.get(uid, [])
        expect(len(found) == 1, f"booking {booking['id']} must be exactly one VEVENT with UID {uid}; found {len(found)}", reply)
        event = found[0]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        expect(getattr(start, "tzinfo", None) is not None and start.utcoffset() == timedelta(0) and parse_instant(booking["start_at"]) == start,
               f"{uid}: DTSTART {start!r} must be {booking['start_at']} in UTC", reply)
        expect(parse_instant(booking["end_at"]) == end, f"{uid}: DTEND {end!r} must be {booking['end_at']}", reply)
        expect(str(event.get("STATUS")) == FEED_STATUS[booking["status"]],
               f"{uid}: a {booking['status']} booking has STATUS {FEED_STATUS[booking['status']]}, not {event.get('STATUS')}", reply)
    if world.may_drive_mock:
        expiring = world.booking()
        world.control.set_clock(parse_instant(expiring["expires_at"]) + timedelta(seconds=1))  # type: ignore[union-attr]
        calendar, reply = _feed(world)
        expect(f"{expiring['id']}@litehq" not in _events(calendar), f"expired booking {expiring['id']} must be left out of the feed", reply)


@scenario()
def test_feed_sequence_grows_when_a_booking_changes(world: World) -> None:
    """Editing a booking raises its VEVENT's SEQUENCE so calendar apps pick the change up."""
    booking = world.booking()
    uid = f"{booking['id']}@litehq"
    calendar, reply = _feed(world)
    before = _events(calendar).get(uid)
    expect(before, f"{uid} missing from the feed", reply)
    expect_status(world.patch(f"/v1/bookings/{booking['id']}", {"notes": "sequence check"}), 200, "PATCH notes")
    calendar, reply = _feed(world)
    after = _events(calendar).get(uid)
    expect(after, f"{uid} missing from the feed after the edit", reply)
    old, new = int(before[0].get("SEQUENCE", 0)), int(after[0].get("SEQUENCE", 0))
    expect(new > old, f"{uid}: SEQUENCE must grow after an edit; it went {old} → {new}", reply)
