"""Idempotency keys: per workspace, kept 24 h on the mock clock, replaying the stored response."""

from __future__ import annotations

import hashlib
import heapq
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from .clock import Clock
from .errors import IdempotencyConflict, IdempotencyInProgress

RETENTION = timedelta(hours=24)


def fingerprint(method: str, path: str, body: Any) -> str:
    """Method + path + canonical JSON body (keys sorted, no whitespace): what "the same request" means."""
    canonical = b"" if body is None else orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(method.upper().encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


@dataclass(slots=True)
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    created_at: datetime
    response: StoredResponse | None = None  # None while the first request is still executing


@dataclass(slots=True, order=True)
class _Expiry:
    at: datetime
    seq: int
    key: tuple[str, str] = field(compare=False)
    created_at: datetime = field(compare=False)


class IdempotencyStore:
    def __init__(self, clock: Clock, retention: timedelta = RETENTION) -> None:
        self._clock = clock
        self._retention = retention
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._expiries: list[_Expiry] = []
        self._seq = itertools.count()

    def begin(self, workspace_id: str, key: str, request_fingerprint: str) -> StoredResponse | None:
        """Reserve `key` for this request, or return the stored response to replay.

        Raises IdempotencyConflict for another request under the same key, IdempotencyInProgress
        while the first request with this key has not finished.
        """
        self._purge()
        entry = self._entries.get((workspace_id, key))
        if entry is not None:
            if entry.fingerprint != request_fingerprint:
                raise IdempotencyConflict(
                    f"Idempotency-Key {key} was already used with a different request.", param="Idempotency-Key"
                )
            if entry.response is None:
                raise IdempotencyInProgress(
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    param="Idempotency-Key",
                )
            return entry.response
        now = self._clock.now()
        self._entries[(workspace_id, key)] = _Entry(request_fingerprint, now)
        heapq.heappush(self._expiries, _Expiry(now + self._retention, next(self._seq), (workspace_id, key), now))
        return None

    def finish(self, workspace_id: str, key: str, response: StoredResponse) -> None:
        entry = self._entries.get((workspace_id, key))
        if entry is not None:
            entry.response = response

    def release(self, workspace_id: str, key: str) -> None:
        """Forget a reservation whose response is not to be stored, so a retry executes afresh."""
        self._entries.pop((workspace_id, key), None)

    def _purge(self) -> None:
        now = self._clock.now()
        while self._expiries and self._expiries[0].at <= now:
            expiry = heapq.heappop(self._expiries)
            entry = self._entries.get(expiry.key)
            # The key may have been released and reserved again since; only drop that same entry.
            if entry is not None and entry.created_at == expiry.created_at:
                del self._entries[expiry.key]

    def __len__(self) -> int:
        return len(self._entries)
