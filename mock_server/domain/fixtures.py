"""Load workspaces, tokens, rooms, members and (optionally) bookings from a YAML fixture.

Format (see mock_server/fixtures/demo.yaml)::

    workspaces:
      - id: ws_…            name, currency (GBP), stripe_onboarded (true)
        tokens:    [{token, scopes: [calendar:read, calendar:write], revoked: false, label}]
        companies: [{id: co_…, name}]
        members:   [{id: mem_…, name, email, company_id}]
        rooms:     [{id: rm_…, name, tier, capacity, slot_minutes,
                     opening_hours: {opens_at: 'HH:MM', closes_at: 'HH:MM' | '24:00'},
                     price_per_hour_minor, edit_cutoff_minutes (60), checkout_window_minutes (30),
                     blackouts: [{start_at, end_at} | {in_days, from: 'HH:MM', to: 'HH:MM'}, reason]}]
        bookings:  [{room_id, in_days, from, to, member_id | guest: {email, name},
                     attendees, notes, status: pending_payment | confirmed, id}]

Relative times (`in_days` from today, UTC) keep a fixture valid whatever day it is loaded.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from .bookings import BookerInput, BookingService
from .clock import Clock
from .instants import parse_instant
from .models import ApiToken, Blackout, Company, Member, RateLimitPolicy, Room, Workspace
from .store import Store

DEMO_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "demo.yaml"


class FixtureError(ValueError):
    """The fixture file cannot be loaded; the message says where and why."""


def _id(value: Any, prefix: str, where: str) -> str:
    """Fixture ids must be ids the contract accepts, or requests naming them would fail validation."""
    if not isinstance(value, str) or not re.fullmatch(rf"{prefix}_[A-Za-z0-9]+", value):
        raise FixtureError(f"{where}: {value!r} is not a valid id ({prefix}_ followed by letters and digits)")
    return value


def read_fixture(path: Path | str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FixtureError(f"cannot read fixture {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("workspaces"), list):
        raise FixtureError(f"{path}: a fixture is a mapping with a 'workspaces' list")
    return data


def _hhmm(value: Any, where: str, *, allow_24: bool = False) -> time | None:
    text = str(value)
    if allow_24 and text == "24:00":
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise FixtureError(f"{where}: expected HH:MM, got {value!r}") from None


def _window(spec: dict, today: datetime, where: str) -> tuple[datetime, datetime]:
    try:
        if "in_days" in spec:
            day = today + timedelta(days=int(spec["in_days"]))
            start_t, end_t = _hhmm(spec["from"], where), _hhmm(spec["to"], where, allow_24=True)
            start = day + timedelta(hours=start_t.hour, minutes=start_t.minute)
            end = day + (timedelta(days=1) if end_t is None else timedelta(hours=end_t.hour, minutes=end_t.minute))
            return start, end
        return parse_instant(str(spec["start_at"]), param="start_at"), parse_instant(str(spec["end_at"]), param="end_at")
    except KeyError as exc:
        raise FixtureError(f"{where}: missing {exc}") from None
    except Exception as exc:
        if isinstance(exc, FixtureError):
            raise
        raise FixtureError(f"{where}: {exc}") from None


def load_fixture(data: dict[str, Any], store: Store, bookings: BookingService, clock: Clock) -> None:
    """Populate an empty store; bookings go through the same rules as API calls."""
    now = clock.now()
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    pending_bookings: list[tuple[Workspace, dict, str]] = []
    for w, ws in enumerate(data["workspaces"]):
        where = f"workspaces[{w}]"
        try:
            workspace = Workspace(
                id=_id(ws["id"], "ws", where),
                name=ws.get("name", ws["id"]),
                currency=ws.get("currency", "GBP"),
                stripe_onboarded=bool(ws.get("stripe_onboarded", True)),
                rate_limit=RateLimitPolicy(**ws.get("rate_limit", {})),
            )
            store.add_workspace(workspace)
            for t in ws.get("tokens", []):
                store.add_token(
                    ApiToken(t["token"], workspace.id, frozenset(t["scopes"]), bool(t.get("revoked", False)), t.get("label", ""))
                )
            for c in ws.get("companies", []):
                store.add_company(Company(_id(c["id"], "co", where), workspace.id, c.get("name", c["id"])))
            for m in ws.get("members", []):
                store.add_member(Member(_id(m["id"], "mem", where), workspace.id, m.get("name", m["id"]), m.get("email", ""), m.get("company_id")))
            for r, room in enumerate(ws.get("rooms", [])):
                rwhere = f"{where}.rooms[{r}]"
                hours = room.get("opening_hours", {"opens_at": "00:00", "closes_at": "24:00"})
                store.add_room(
                    Room(
                        id=_id(room["id"], "rm", rwhere),
                        workspace_id=workspace.id,
                        name=room["name"],
                        tier=room["tier"],
                        capacity=int(room["capacity"]),
                        slot_minutes=int(room["slot_minutes"]),
                        opens_at=_hhmm(hours["opens_at"], rwhere),
                        closes_at=_hhmm(hours["closes_at"], rwhere, allow_24=True),
                        price_per_hour_minor=int(room["price_per_hour_minor"]),
                        currency=room.get("currency", workspace.currency),
                        edit_cutoff_minutes=int(room.get("edit_cutoff_minutes", 60)),
                        checkout_window_minutes=int(room.get("checkout_window_minutes", 30)),
                        blackouts=[
                            Blackout(*_window(b, today, f"{rwhere}.blackouts[{i}]"), b.get("reason"))
                            for i, b in enumerate(room.get("blackouts", []))
                        ],
                    )
                )
            for b, booking in enumerate(ws.get("bookings", [])):
                pending_bookings.append((workspace, booking, f"{where}.bookings[{b}]"))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, FixtureError):
                raise
            raise FixtureError(f"{where}: {type(exc).__name__}: {exc}") from None

    for workspace, spec, where in pending_bookings:
        start, end = _window(spec, today, where)
        guest = spec.get("guest") or {}
        try:
            booking = bookings.create(
                workspace,
                room_id=spec["room_id"],
                start_at=start,
                end_at=end,
                booked_by=BookerInput(spec.get("member_id"), guest.get("email"), guest.get("name")),
                attendees=int(spec.get("attendees", 1)),
                notes=spec.get("notes"),
                booking_id=spec.get("id"),
            )
            if spec.get("status", "confirmed") == "confirmed":
                bookings.complete_checkout(booking.id)
        except Exception as exc:
            raise FixtureError(f"{where}: {exc}") from None
