"""Handlers of the Calendar API's operations (openapi/openapi.yaml), resolved by operationId."""

from __future__ import annotations

from connexion.context import scope as current_scope
from connexion.lifecycle import ConnexionResponse

from ..domain.backend import Backend, Principal
from ..domain.errors import InvalidRequest
from .idempotency import run_idempotent
from .responses import CALENDAR, json_response
from .state import RequestState, current_state


def _caller() -> tuple[RequestState, Principal]:
    state = current_state()
    assert state.principal is not None, "operation without security requirement"
    return state, state.principal


class CalendarApi:
    """Thin: read parameters, call the backend, return wire dicts."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def operations(self) -> dict:
        names = ("listBookings", "getBooking", "createBooking", "updateBooking", "cancelBooking",
                 "getAvailability", "getCalendarFeed", "listRooms", "getRoom")
        return {name: getattr(self, name) for name in names}

    # -- bookings -------------------------------------------------------------------------------

    async def listBookings(self, from_=None, to=None, status=None, room_id=None, member_id=None, company_id=None, limit=50, cursor=None):
        _, principal = _caller()
        page, next_cursor = self.backend.list_bookings(
            principal, start_from=from_, start_to=to, status=status, room_id=room_id,
            member_id=member_id, company_id=company_id, limit=limit, cursor=cursor,
        )
        return json_response({"data": [b.to_json() for b in page], "next_cursor": next_cursor})

    async def getBooking(self, id_):
        _, principal = _caller()
        return json_response(self.backend.get_booking(principal, id_).to_json())

    async def createBooking(self):
        state, principal = _caller()
        body = dict(state.body)
        header_key = current_scope_header("idempotency-key")
        body_key = body.pop("idempotency_key", None)
        if header_key is not None and body_key is not None and header_key != body_key:
            raise InvalidRequest("Idempotency-Key and idempotency_key differ; send one, or the same value in both.", param="idempotency_key")
        key = header_key if header_key is not None else body_key
        if key is None:
            raise InvalidRequest(
                "An idempotency key is required: send the Idempotency-Key header or idempotency_key in the body.",
                param="Idempotency-Key",
            )

        def create() -> ConnexionResponse:
            booking = self.backend.create_booking(
                principal, room_id=body["room_id"], start_at=body["start_at"], end_at=body["end_at"],
                booked_by=body["booked_by"], attendees=body.get("attendees", 1), notes=body.get("notes"),
            )
            return json_response(booking.to_json(), 201, {"Location": f"/v1/bookings/{booking.id}"})

        # Where the key travelled (header or body) is not part of "the same request".
        return await run_idempotent(self.backend, state, principal, key, "POST", "/v1/bookings", body, create)

    async def updateBooking(self, id_):
        state, principal = _caller()
        changes = state.body

        def update() -> ConnexionResponse:
            return json_response(self.backend.update_booking(principal, id_, changes).to_json())

        key = current_scope_header("idempotency-key")
        return await run_idempotent(self.backend, state, principal, key, "PATCH", f"/v1/bookings/{id_}", changes, update)

    async def cancelBooking(self, id_):
        state, principal = _caller()
        options = state.body or {}

        def cancel() -> ConnexionResponse:
            return json_response(self.backend.cancel_booking(principal, id_, options).to_json())

        key = current_scope_header("idempotency-key")
        return await run_idempotent(self.backend, state, principal, key, "POST", f"/v1/bookings/{id_}/cancel", state.body, cancel)

    # -- rooms, availability, feed --------------------------------------------------------------

    async def listRooms(self, tier=None, limit=50, cursor=None):
        _, principal = _caller()
        rooms, next_cursor = self.backend.list_rooms(principal, tier=tier, limit=limit, cursor=cursor)
        return json_response({"data": [r.to_wire() for r in rooms], "next_cursor": next_cursor})

    async def getRoom(self, id_):
        _, principal = _caller()
        return json_response(self.backend.get_room(principal, id_).to_wire())

    async def getAvailability(self, room_id=None, tier=None, from_=None, to=None):
        _, principal = _caller()
        return json_response(self.backend.availability(principal, room_id=room_id, tier=tier, start_from=from_, start_to=to))

    async def getCalendarFeed(self):
        _, principal = _caller()
        return ConnexionResponse(status_code=200, body=self.backend.calendar_feed(principal), headers={"Content-Type": CALENDAR})


def current_scope_header(name: str) -> str | None:
    raw = name.encode("latin-1")
    for key, value in current_scope["headers"]:
        if key.lower() == raw:
            return value.decode("latin-1")
    return None
