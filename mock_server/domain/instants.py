"""RFC 3339 in, UTC with a `Z` out: the one place wire timestamps are parsed and formatted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from .errors import InvalidRequest

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_instant(text: str, *, param: str) -> datetime:
    """Parse an RFC 3339 date-time into an aware UTC datetime, or fail with 400 naming `param`.

    Connexion has already checked the format; this still guards against values the format allows
    but a datetime cannot hold (leap second 60, offsets that leave year 1..9999).
    """
    match = _RFC3339.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidRequest(f"{param} must be an RFC 3339 date-time such as 2026-05-23T14:00:00Z.", param=param)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    try:
        if offset in ("Z", "z"):
            tz = UTC
        else:
            sign = 1 if offset[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidRequest(f"{param} is not a valid date-time: {text!r}.", param=param) from None


def format_instant(instant: datetime) -> str:
    """UTC, second precision, `Z` suffix: 2026-05-23T14:00:00Z."""
    if instant.tzinfo is not UTC:
        instant = instant.astimezone(UTC)
    # isoformat is C-fast and zero-pads the year; cut the fraction and the +00:00 offset.
    return instant.isoformat()[:19] + "Z"


def shift(instant: datetime, delta: timedelta) -> datetime:
    """`instant + delta`, saturating at the ends of the calendar instead of raising OverflowError
    (a client may legitimately ask about year 9999; a default range must not turn that into a 500)."""
    try:
        return instant + delta
    except OverflowError:
        return LATEST if delta > timedelta(0) else EARLIEST
