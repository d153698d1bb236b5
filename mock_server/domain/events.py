"""The per-workspace event log, and the seam where webhook delivery attaches (`EventSink`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from .ids import IdSource
from .models import Booking, Event
from .store import Store

EventSink = Callable[[Event], None]

log = logging.getLogger(__name__)


class EventLog:
    """Appends `booking.*` events in the order the transitions happened and tells the sinks.

    A sink is called synchronously inside the state change, so it must only enqueue (a webhook
    dispatcher schedules delivery on the event loop); a failing sink never undoes the change.
    """

    def __init__(self, store: Store, ids: IdSource) -> None:
        self._store = store
        self._ids = ids
        self._sinks: list[EventSink] = []

    def subscribe(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def unsubscribe(self, sink: EventSink) -> None:
        self._sinks.remove(sink)

    def record(self, event_type: str, booking: Booking, at: datetime) -> Event:
        event = Event(
            id=self._ids.new("evt"),
            workspace_id=booking.workspace_id,
            type=event_type,
            created_at=at,
            booking_id=booking.id,
            object=booking.to_wire(),
        )
        self._store.events[booking.workspace_id].append(event)
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception:  # a broken subscriber must not turn a booking change into a 500
                log.exception("event sink %r failed on %s", sink, event.id)
        return event

    def for_workspace(self, workspace_id: str) -> list[Event]:
        return self._store.events.get(workspace_id, [])
