"""What scenarios share: the deployment, its tokens and rooms, free slots to book, and the clock."""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from conformance.contract import Contract
from conformance.control import MockControl
from conformance.http import Deployment, Exchange
from conformance.rules import server_clock
from conformance.scenario import Need, RuleBroken, ScenarioSkipped
from conformance.settings import Settings

MAX_LISTING_PAGES = 50


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class Room:
    """The booking rules of one room, as GET /v1/rooms reports them."""

    id: str
    name: str
    tier: str
    capacity: int
    slot_minutes: int
    opens_at: str
    closes_at: str
    price_per_hour_minor: int
    currency: str
    edit_cutoff_minutes: int
    checkout_window_minutes: int
    blackouts: list[dict[str, Any]]

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Room:
        return cls(
            id=body["id"], name=body["name"], tier=body["tier"], capacity=body["capacity"],
            slot_minutes=body["slot_minutes"], opens_at=body["opening_hours"]["opens_at"],
            closes_at=body["opening_hours"]["closes_at"], price_per_hour_minor=body["price_per_hour"]["amount_minor"],
            currency=body["price_per_hour"]["currency"], edit_cutoff_minutes=body["edit_cutoff_minutes"],
            checkout_window_minutes=body["checkout_window_minutes"], blackouts=body.get("blackouts") or [],
        )

    def price_minor(self, minutes: int) -> int:
        return self.price_per_hour_minor * minutes // 60


@dataclass
class SlotAllocator:
    """Hands out distinct free, grid-aligned slots, learning what is free from GET /v1/availability."""

    world: World
    first_day: datetime
    free: dict[tuple[str, datetime], list[tuple[datetime, datetime]]] = field(default_factory=dict)
    max_days: int = 60

    def take(self, room: Room, minutes: int, *, lead: timedelta = timedelta(days=2)) -> tuple[datetime, datetime]:
        """A free slot of `minutes` in `room` starting at least `lead` after the server's now."""
        if minutes % room.slot_minutes:
            minutes += room.slot_minutes - minutes % room.slot_minutes
        earliest = self.world.now() + lead
        day = max(self.first_day, earliest.replace(hour=0, minute=0, second=0, microsecond=0))
        for _ in range(self.max_days):
            windows = self._free_windows(room, day)
            for index, (start, end) in enumerate(windows):
                begin = _ceil_to_grid(max(start, earliest), room.slot_minutes)
                if begin + timedelta(minutes=minutes) <= end:
                    taken_end = begin + timedelta(minutes=minutes)
                    windows[index : index + 1] = [w for w in ((start, begin), (taken_end, end)) if w[1] > w[0]]
                    return begin, taken_end
            day += timedelta(days=1)
        raise ScenarioSkipped(f"no free {minutes}-minute slot in {room.id} within {self.max_days} days of {iso(self.first_day)}")

    def claim(self, room_id: str, start: datetime, end: datetime) -> None:
        """Forget a slot a scenario booked by hand, so later takes do not hand it out again."""
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        windows = self.free.get((room_id, day))
        if windows is None:
            return
        carved: list[tuple[datetime, datetime]] = []
        for w_start, w_end in windows:
            if w_end <= start or w_start >= end:
                carved.append((w_start, w_end))
                continue
            carved += [w for w in ((w_start, start), (end, w_end)) if w[1] > w[0]]
        windows[:] = carved

    def _free_windows(self, room: Room, day: datetime) -> list[tuple[datetime, datetime]]:
        key = (room.id, day)
        if key not in self.free:
            reply = self.world.get("/v1/availability", params={"room_id": room.id, "from": iso(day), "to": iso(day + timedelta(days=1))})
            if reply.status != 200:
                raise RuleBroken(f"GET /v1/availability for {room.id} answered {reply.status}; the suite needs it to find free slots", reply)
            rooms = reply.json().get("rooms", [])
            free = rooms[0]["free"] if rooms else []
            self.free[key] = [(parse_instant(w["start_at"]), parse_instant(w["end_at"])) for w in free]
        return self.free[key]


def _ceil_to_grid(instant: datetime, slot_minutes: int) -> datetime:
    midnight = instant.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (instant - midnight).total_seconds()
    step = slot_minutes * 60
    slots = -(-offset // step)
    return midnight + timedelta(seconds=slots * step)


class World:
    """The deployment under test and everything scenarios need to set up their cases."""

    def __init__(self, settings: Settings, deployment: Deployment, contract: Contract, control: MockControl | None) -> None:
        self.settings = settings
        self.deployment = deployment
        self.contract = contract
        self.control = control
        self.readonly_token = settings.readonly_token
        self.other_token = settings.other_token
        self.nostripe_token = settings.nostripe_token
        self.revoked_token = settings.revoked_token
        self.rate_limit_token = settings.rate_limit_token
        self.member_id = settings.member_id
        self._member_probed = False
        self.clock_offset_s = 0.0
        self.created: list[tuple[str, str]] = []
        # The webhook area's receiver (conformance/webhook_receiver.py), stopped by close().
        self.webhook_receiver: Any = None
        # Per-area memo (seeded bookings and the like); emptied when an area starts, since the
        # mock may have been reset in between.
        self.cache: dict[str, Any] = {}
        self._rooms: list[Room] | None = None
        # Far-future days on a shared deployment, so repeated runs rarely meet their own old bookings.
        self._day_offset = 14 if control else random.randint(90, 300)
        self.slots = self._new_allocator()

    def close(self) -> None:
        """Release what scenarios started (the webhook receiver's port)."""
        if self.webhook_receiver is not None:
            self.webhook_receiver.stop()
            self.webhook_receiver = None

    def begin_area(self) -> None:
        self.cache.clear()
        self.slots = self._new_allocator()

    def _new_allocator(self) -> SlotAllocator:
        today = self.now().replace(hour=0, minute=0, second=0, microsecond=0)
        return SlotAllocator(self, today + timedelta(days=self._day_offset))

    # -- inputs -----------------------------------------------------------------------------
    def has(self, need: Need) -> bool:
        return {
            Need.WRITES: not self.settings.safe,
            Need.READONLY_TOKEN: bool(self.readonly_token),
            Need.OTHER_TOKEN: bool(self.other_token),
            Need.NOSTRIPE_TOKEN: bool(self.nostripe_token),
            Need.REVOKED_TOKEN: bool(self.revoked_token),
            Need.RATE_LIMIT_TOKEN: bool(self.rate_limit_token) or self.may_drive_mock,
            Need.CONTROL: self.may_drive_mock,
            Need.WEBHOOKS: bool(self.settings.webhook_listen and self.settings.webhook_secret) or self.may_drive_mock,
            Need.MEMBER: bool(self.discover_member()),
        }[need]

    @property
    def may_drive_mock(self) -> bool:
        """The control API changes the deployment's state, so PROFILE=safe leaves it alone."""
        return self.control is not None and not self.settings.safe

    def skip_reason(self, need: Need) -> str:
        if need in (Need.CONTROL, Need.RATE_LIMIT_TOKEN) and self.control is not None and self.settings.safe:
            return "PROFILE=safe leaves the mock control API alone; run with PROFILE=full to check this"
        return need.value

    def require(self, need: Need) -> None:
        if not self.has(need):
            raise ScenarioSkipped(self.skip_reason(need))

    # -- HTTP -------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> Exchange:
        reply = self.deployment.request(method, path, **kwargs)
        # No scenario provokes a server error on purpose, so any 5xx is a broken rule wherever it shows.
        if reply.status >= 500:
            raise RuleBroken(f"{method} {path} answered {reply.status} {reply.error_code or ''}: no request of this suite should cause a server error", reply)
        return reply

    def get(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Exchange:
        if body is not None:
            kwargs["json_body"] = body
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> Exchange:
        reply = self.request("PATCH", path, json_body=body, **kwargs)
        changed = reply.json() if reply.status == 200 else None
        if isinstance(changed, dict) and {"room", "start_at", "end_at"} <= set(changed) and kwargs.get("token") in (None, self.settings.token):
            # A moved or lengthened booking occupies time the allocator still believes free.
            self.slots.claim(changed["room"]["id"], parse_instant(changed["start_at"]), parse_instant(changed["end_at"]))
        return reply

    # -- time -------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The server's clock: the mock's controllable clock, else ours corrected by its Date header."""
        if self.control is not None:
            return self.control.now()
        return datetime.fromtimestamp(time.time() + self.clock_offset_s, UTC)

    def calibrate_clock(self, exchange: Exchange) -> None:
        if "date" in exchange.headers:
            self.clock_offset_s = server_clock(exchange.headers) - time.time()

    def advance_clock(self, delta: timedelta) -> None:
        self.require(Need.CONTROL)
        assert self.control is not None
        self.control.advance(delta)

    # -- rooms and bookings -----------------------------------------------------------------
    def rooms(self) -> list[Room]:
        if self._rooms is None:
            found: list[Room] = []
            cursor = None
            for _ in range(MAX_LISTING_PAGES):
                reply = self.get("/v1/rooms", params={"limit": 200, **({"cursor": cursor} if cursor else {})})
                if reply.status != 200:
                    raise RuleBroken(f"GET /v1/rooms answered {reply.status}; the suite needs the rooms to book", reply)
                page = reply.json()
                found += [Room.from_api(r) for r in page["data"]]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            if not found:
                raise ScenarioSkipped("the workspace of TOKEN has no rooms, so nothing can be booked")
            self._rooms = found
        return self._rooms

    def room(self, room_id: str | None = None) -> Room:
        """The room scenarios book by default: the docs' Studio when it exists, else a short-grid room."""
        rooms = self.rooms()
        if room_id:
            return next(r for r in rooms if r.id == room_id)
        preferred = [r for r in rooms if r.id == "rm_studio"] or sorted(rooms, key=lambda r: (r.slot_minutes, -r.capacity))
        return preferred[0]

    def other_rooms(self, count: int) -> list[Room]:
        main = self.room()
        return [main] + [r for r in self.rooms() if r.id != main.id][: count - 1]

    def booking_body(self, room: Room | None = None, *, minutes: int | None = None, slot: tuple[datetime, datetime] | None = None,
                     booked_by: dict[str, Any] | None = None, attendees: int = 1, notes: str | None = "conformance suite") -> dict[str, Any]:
        room = room or self.room()
        start, end = slot or self.slots.take(room, minutes or room.slot_minutes * 2)
        return {
            "room_id": room.id,
            "start_at": iso(start),
            "end_at": iso(end),
            "booked_by": booked_by or {"guest": {"email": "conformance@example.com", "name": "Conformance Suite"}},
            "attendees": attendees,
            "notes": notes,
        }

    def create(self, body: dict[str, Any], *, key: str | None = None, token: str | None = None, **kwargs: Any) -> Exchange:
        headers = dict(kwargs.pop("headers", {}))
        if key is not False:
            headers["Idempotency-Key"] = key or new_key()
        args: dict[str, Any] = {"headers": headers, **kwargs}
        if token is not None:
            args["token"] = token
        reply = self.post("/v1/bookings", body, **args)
        created = reply.json() if reply.status == 201 else None
        if isinstance(created, dict) and "id" in created:
            self.created.append((created["id"], token or self.settings.token))
            if token in (None, self.settings.token):
                self.slots.claim(body["room_id"], parse_instant(created["start_at"]), parse_instant(created["end_at"]))
        return reply

    def booking(self, room: Room | None = None, **kwargs: Any) -> dict[str, Any]:
        """Create a booking that must succeed, and return it."""
        body = self.booking_body(room, **kwargs)
        reply = self.create(body)
        if reply.status != 201:
            raise RuleBroken(f"creating a booking in a free slot must give 201; got {reply.status} {reply.error_code or ''}", reply)
        return reply.json()

    def confirmed_booking(self, room: Room | None = None, **kwargs: Any) -> dict[str, Any]:
        """A booking whose checkout was paid through the control API."""
        self.require(Need.CONTROL)
        assert self.control is not None
        booking = self.booking(room, **kwargs)
        self.control.pay(booking["id"])
        reply = self.get(f"/v1/bookings/{booking['id']}")
        if reply.json().get("status") != "confirmed":
            raise RuleBroken(f"after the checkout was paid the booking must be confirmed; it is {reply.json().get('status')!r}", reply)
        return reply.json()

    def fetch(self, booking_id: str, token: str | None = None) -> dict[str, Any]:
        reply = self.get(f"/v1/bookings/{booking_id}", **({"token": token} if token else {}))
        if reply.status != 200:
            raise RuleBroken(f"GET /v1/bookings/{booking_id} must find a booking the suite created; got {reply.status}", reply)
        return reply.json()

    def walk(self, params: dict[str, Any], *, limit: int, token: str | None = None, max_pages: int = MAX_LISTING_PAGES,
             between_pages: Any = None, must_end: bool = True) -> tuple[list[dict[str, Any]], list[Exchange]]:
        """Every item of a listing, page by page, and the exchanges of each page.

        `must_end=False` accepts stopping after `max_pages` (a busy deployment's listing may be long).
        """
        items: list[dict[str, Any]] = []
        pages: list[Exchange] = []
        cursor = None
        for page_number in range(max_pages):
            query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
            reply = self.get("/v1/bookings", params=query, **({"token": token} if token else {}))
            pages.append(reply)
            if reply.status != 200:
                raise RuleBroken(f"page {page_number + 1} of GET /v1/bookings {query} answered {reply.status}", reply)
            body = reply.json()
            items += body["data"]
            cursor = body.get("next_cursor")
            if cursor is None:
                return items, pages
            if between_pages is not None:
                between_pages(page_number)
        if not must_end:
            return items, pages
        raise RuleBroken(f"the listing did not end within {max_pages} pages of {limit}", pages[-1])

    def discover_member(self) -> str | None:
        """A member of TOKEN's workspace: MEMBER_ID, else one the control API lists, else one seen in the
        listing, else the docs' example member if a (cancelled at once) probe booking for them is
        accepted. Memoised for the run."""
        if self.member_id or self._member_probed:
            return self.member_id
        self._member_probed = True
        if self.control is not None and not self.settings.safe:
            workspace = self.control.workspace_of(self.settings.token)
            if workspace is not None and workspace.member_ids:
                self.member_id = workspace.member_ids[0]
                return self.member_id
        reply = self.get("/v1/bookings", params={"limit": 200})
        for item in (reply.json() or {}).get("data", []) if reply.status == 200 else []:
            booked_by = item.get("booked_by", {})
            if booked_by.get("type") == "member":
                self.member_id = booked_by["member_id"]
                return self.member_id
        example = self.contract.document["components"]["examples"].get("CreateBookingRequest", {}).get("value", {})
        candidate = example.get("booked_by", {}).get("member_id")
        if candidate and self.has(Need.WRITES):
            probe = self.create(self.booking_body(booked_by={"member_id": candidate}))
            if probe.status == 201:
                self.member_id = candidate
                self.post(f"/v1/bookings/{probe.json()['id']}/cancel", {"reason": "other"})
        return self.member_id


def new_key() -> str:
    return str(uuid.uuid4())
