"""Free/busy windows and the iCal feed."""

import pytest
from icalendar import Calendar

from mock_server.domain import errors

from .conftest import create


def windows(items):
    return [(w["start_at"][11:16], w["end_at"][11:16]) + ((w["reason"],) if "reason" in w else ()) for w in items]


def test_availability_room_day_lists_closed_booking_and_free(backend, demo):
    create(backend, demo)
    result = backend.availability(demo, room_id="rm_studio", start_from="2026-05-23T00:00:00Z")
    assert result["to"] == "2026-05-24T00:00:00Z"
    (room,) = result["rooms"]
    assert windows(room["busy"]) == [("00:00", "08:00", "closed"), ("14:00", "15:30", "booking"), ("22:00", "00:00", "closed")]
    assert windows(room["free"]) == [("08:00", "14:00"), ("15:30", "22:00")]


def test_availability_blackout_overlapping_closed_is_listed_separately_free_is_union_complement(backend, demo):
    (room,) = backend.availability(demo, room_id="rm_boardroom", start_from="2026-05-24T08:00:00Z", start_to="2026-05-24T12:00:00Z")["rooms"]
    assert windows(room["busy"]) == [("08:00", "09:00", "closed"), ("09:00", "12:00", "blackout")]
    assert room["free"] == []


def test_availability_expired_and_cancelled_bookings_are_not_busy(backend, demo):
    a = create(backend, demo)
    b = create(backend, demo, start="2026-05-23T16:00:00Z", end="2026-05-23T17:00:00Z")
    backend.fail_checkout(a.id)
    backend.cancel_booking(demo, b.id, {})
    (room,) = backend.availability(demo, room_id="rm_studio", start_from="2026-05-23T08:00:00Z", start_to="2026-05-23T22:00:00Z")["rooms"]
    assert room["busy"] == []
    assert windows(room["free"]) == [("08:00", "22:00")]


def test_availability_by_tier_and_all_rooms(backend, demo):
    assert [r["room"]["id"] for r in backend.availability(demo, tier="focus")["rooms"]] == ["rm_focus"]
    assert [r["room"]["id"] for r in backend.availability(demo)["rooms"]] == ["rm_boardroom", "rm_focus", "rm_loft", "rm_studio"]
    assert backend.availability(demo, tier="nosuch")["rooms"] == []
    assert backend.availability(demo, room_id="rm_studio", tier="focus")["rooms"] == []


@pytest.mark.parametrize(
    ("kwargs", "error", "param"),
    [
        ({"room_id": "rm_otherstudio"}, errors.RoomNotFound, "room_id"),
        ({"start_from": "2026-05-23T00:00:00Z", "start_to": "2026-05-23T00:00:00Z"}, errors.InvalidRequest, "to"),
        ({"start_from": "2026-05-23T00:00:00Z", "start_to": "2026-06-24T00:00:00Z"}, errors.InvalidRequest, "to"),
    ],
)
def test_availability_bad_query_raises(backend, demo, kwargs, error, param):
    with pytest.raises(error) as exc:
        backend.availability(demo, **kwargs)
    assert exc.value.param == param


def test_calendar_feed_maps_status_and_omits_expired(backend, demo):
    pending = create(backend, demo)
    confirmed = create(backend, demo, start="2026-05-23T16:00:00Z", end="2026-05-23T17:00:00Z")
    cancelled = create(backend, demo, start="2026-05-23T18:00:00Z", end="2026-05-23T19:00:00Z")
    expired = create(backend, demo, start="2026-05-23T20:00:00Z", end="2026-05-23T21:00:00Z")
    backend.complete_checkout(confirmed.id)
    backend.cancel_booking(demo, cancelled.id, {})
    backend.fail_checkout(expired.id)
    calendar = Calendar.from_ical(backend.calendar_feed(demo))
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{b.id}@litehq" for b in (pending, confirmed, cancelled)}
    assert str(events[f"{pending.id}@litehq"]["status"]) == "TENTATIVE"
    assert str(events[f"{confirmed.id}@litehq"]["status"]) == "CONFIRMED"
    assert str(events[f"{cancelled.id}@litehq"]["status"]) == "CANCELLED"
    start = events[f"{pending.id}@litehq"].decoded("dtstart")
    assert start.utcoffset().total_seconds() == 0 and start.hour == 14


def test_calendar_feed_sequence_grows_with_every_change(backend, demo):
    booking = create(backend, demo)
    backend.update_booking(demo, booking.id, {"notes": "a"})
    backend.complete_checkout(booking.id)
    (event,) = Calendar.from_ical(backend.calendar_feed(demo)).walk("VEVENT")
    assert int(event["sequence"]) == 2
