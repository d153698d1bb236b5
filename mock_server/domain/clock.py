"""Injected clocks: every 'now' in the mock comes from one of these, always an aware UTC datetime."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time; what a real deployment would see."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("clock times must be timezone-aware")
    return instant.astimezone(UTC)


class MockClock:
    """A clock the control API (and tests) can set, advance and freeze.

    Unfrozen, it runs at real speed from the instant it was last set, so an interactive user sees
    time pass (holds expire, buckets refill) while still being able to jump ahead. Frozen, it only
    moves when told to, which is what deterministic tests want.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._anchor = _require_aware(start) if start is not None else datetime.now(UTC)
        self._anchored_at = time.monotonic()
        self._frozen = frozen

    @property
    def frozen(self) -> bool:
        return self._frozen

    def now(self) -> datetime:
        if self._frozen:
            return self._anchor
        return self._anchor + timedelta(seconds=time.monotonic() - self._anchored_at)

    def set(self, instant: datetime, *, frozen: bool | None = None) -> None:
        self._anchor = _require_aware(instant)
        self._anchored_at = time.monotonic()
        if frozen is not None:
            self._frozen = frozen

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)

    def freeze(self, frozen: bool = True) -> None:
        self.set(self.now(), frozen=frozen)
