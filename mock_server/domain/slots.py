"""A room's slot grid and opening hours: alignment, and which parts of a range are closed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from .errors import SlotMisaligned
from .instants import shift
from .models import Room

DAY = timedelta(days=1)
Window = tuple[datetime, datetime]


def _offset(t: time | None) -> timedelta:
    return DAY if t is None else timedelta(hours=t.hour, minutes=t.minute)


def _is_open_all_day(room: Room) -> bool:
    length = _opening_length(room)
    return length >= DAY


def _opening_length(room: Room) -> timedelta:
    opens, closes = _offset(room.opens_at), _offset(room.closes_at)
    if closes == opens:
        return DAY  # 08:00-08:00 reads as "round the clock", not "never"
    if closes < opens:
        return closes + DAY - opens  # overnight, e.g. 22:00-02:00
    return closes - opens


def _midnight(instant: datetime) -> datetime:
    return datetime(instant.year, instant.month, instant.day, tzinfo=UTC)


def check_alignment(room: Room, start_at: datetime, end_at: datetime) -> None:
    """Both ends on the room's grid (multiples of slot_minutes after 00:00 UTC), else 422."""
    for param, instant in (("start_at", start_at), ("end_at", end_at)):
        since_midnight = instant - _midnight(instant)
        minutes, remainder = divmod(since_midnight, timedelta(minutes=1))
        if remainder or minutes % room.slot_minutes:
            raise SlotMisaligned(
                f"{param} must fall on the room's {room.slot_minutes}-minute grid anchored at 00:00 UTC.",
                param=param,
            )


def opening_windows(room: Room, start: datetime, end: datetime) -> Iterator[Window]:
    """The room's open periods that touch [start, end), merged and in order (not clipped)."""
    if _is_open_all_day(room):
        yield (start, end)
        return
    opens, length = _offset(room.opens_at), _opening_length(room)
    day = shift(_midnight(start), -DAY)  # yesterday's overnight opening may reach into today
    while day < end:
        window = (shift(day, opens), shift(day, opens + length))
        if window[1] > start and window[0] < end:
            yield window
        following = shift(day, DAY)
        if following == day:
            return  # the end of the calendar
        day = following


def is_open_throughout(room: Room, start: datetime, end: datetime) -> bool:
    """True if [start, end) lies inside one opening period; constant time, whatever the span."""
    if _is_open_all_day(room):
        return True
    opens, length = _offset(room.opens_at), _opening_length(room)
    for day in (shift(_midnight(start), -DAY), _midnight(start)):
        if shift(day, opens) <= start and end <= shift(day, opens + length):
            return True
    return False


def closed_windows(room: Room, start: datetime, end: datetime) -> list[Window]:
    """The parts of [start, end) outside opening hours, in order."""
    closed: list[Window] = []
    cursor = start
    for open_start, open_end in opening_windows(room, start, end):
        if open_start > cursor:
            closed.append((cursor, min(open_start, end)))
        cursor = max(cursor, open_end)
        if cursor >= end:
            break
    if cursor < end:
        closed.append((cursor, end))
    return closed
