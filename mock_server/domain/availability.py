"""Free/busy windows of a room: busy = bookings, blackouts and closed hours; free = the rest."""

from __future__ import annotations

from datetime import datetime, timedelta

from . import slots
from .errors import InvalidRequest, RoomNotFound
from .instants import format_instant
from .models import Room
from .store import Store

MAX_RANGE = timedelta(days=31)
DEFAULT_RANGE = timedelta(hours=24)


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidRequest("to must be after from.", param="to")
    if end - start > MAX_RANGE:
        raise InvalidRequest("to must be at most 31 days after from.", param="to")


def matching_rooms(store: Store, workspace_id: str, room_id: str | None, tier: str | None) -> list[Room]:
    """Rooms by id order; an unknown `room_id` is a 404, an unknown tier just matches nothing."""
    if room_id is not None:
        room = store.room_in(workspace_id, room_id)
        if room is None:
            raise RoomNotFound(f"No room {room_id} in this workspace.", param="room_id")
        return [room] if tier is None or room.tier == tier else []
    rooms = (store.rooms[i] for i in store.rooms_by_workspace.get(workspace_id, ()))
    return [r for r in rooms if tier is None or r.tier == tier]


def room_availability(store: Store, room: Room, start: datetime, end: datetime) -> dict:
    busy: list[tuple[datetime, datetime, str]] = []
    for booking in store.holding_bookings(room.id, start, end):
        busy.append((max(booking.start_at, start), min(booking.end_at, end), "booking"))
    for blackout in room.blackouts:
        if blackout.start_at < end and start < blackout.end_at:
            busy.append((max(blackout.start_at, start), min(blackout.end_at, end), "blackout"))
    for closed_start, closed_end in slots.closed_windows(room, start, end):
        busy.append((closed_start, closed_end, "closed"))
    busy.sort(key=lambda w: (w[0], w[1]))

    free: list[tuple[datetime, datetime]] = []
    cursor = start
    for busy_start, busy_end, _reason in busy:
        if busy_start > cursor:
            free.append((cursor, busy_start))
        cursor = max(cursor, busy_end)
    if cursor < end:
        free.append((cursor, end))

    return {
        "room": room.ref(),
        "tier": room.tier,
        "slot_minutes": room.slot_minutes,
        "busy": [{"start_at": format_instant(s), "end_at": format_instant(e), "reason": r} for s, e, r in busy],
        "free": [{"start_at": format_instant(s), "end_at": format_instant(e)} for s, e in free],
    }
