"""Price of a slot: the room's hourly rate times the duration, in minor units."""

from __future__ import annotations

from datetime import datetime

from .models import Room


def price_minor(room: Room, start_at: datetime, end_at: datetime) -> int:
    """Rate × duration, rounded half up to the minor unit (only reachable with odd grids/rates)."""
    seconds = int((end_at - start_at).total_seconds())
    return (room.price_per_hour_minor * seconds * 2 + 3600) // 7200


def refund_minor(paid_minor: int, policy: str) -> int:
    """How much of what was paid a cancellation returns: full, 50 % rounded down, or nothing."""
    if policy == "full":
        return paid_minor
    if policy == "partial":
        return paid_minor // 2
    return 0
