"""The mock's records (workspaces, tokens, rooms, members, bookings, events) and their wire form."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, time

import orjson

from .instants import format_instant

READ_SCOPE = "calendar:read"
WRITE_SCOPE = "calendar:write"


class BookingStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    EXPIRED = "expired"


# Statuses whose booking still holds its slot.
HOLDING_STATUSES = frozenset({BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED})
TERMINAL_STATUSES = frozenset({BookingStatus.CANCELLED, BookingStatus.COMPLETED, BookingStatus.EXPIRED})


@dataclass(slots=True)
class RateLimitPolicy:
    """Per-workspace token bucket and the penalty for ignoring 429s; `enabled=False` for load tests."""

    enabled: bool = True
    capacity: int = 500
    refill_per_minute: float = 100.0
    penalty_per_minute: int = 20
    penalty_seconds: int = 3600


@dataclass(slots=True)
class Workspace:
    id: str
    name: str
    currency: str = "GBP"
    stripe_onboarded: bool = True
    rate_limit: RateLimitPolicy = field(default_factory=RateLimitPolicy)
    # Delays the domain action of a mutation (after its idempotency key is reserved), so a test
    # can provoke 409 idempotency_in_progress.
    processing_delay_ms: int = 0

    def to_wire(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "currency": self.currency,
            "stripe_onboarded": self.stripe_onboarded,
            "processing_delay_ms": self.processing_delay_ms,
            "rate_limit": {
                "enabled": self.rate_limit.enabled,
                "capacity": self.rate_limit.capacity,
                "refill_per_minute": self.rate_limit.refill_per_minute,
                "penalty_per_minute": self.rate_limit.penalty_per_minute,
                "penalty_seconds": self.rate_limit.penalty_seconds,
            },
        }


@dataclass(slots=True)
class ApiToken:
    token: str
    workspace_id: str
    scopes: frozenset[str]
    revoked: bool = False
    label: str = ""

    def to_wire(self) -> dict:
        return {"token": self.token, "scopes": sorted(self.scopes), "revoked": self.revoked, "label": self.label}


@dataclass(slots=True)
class Blackout:
    start_at: datetime
    end_at: datetime
    reason: str | None = None

    def to_wire(self) -> dict:
        return {"start_at": format_instant(self.start_at), "end_at": format_instant(self.end_at), "reason": self.reason}


@dataclass(slots=True)
class Room:
    id: str
    workspace_id: str
    name: str
    tier: str
    capacity: int
    slot_minutes: int
    opens_at: time
    # None means 24:00, midnight at the end of the day.
    closes_at: time | None
    price_per_hour_minor: int
    currency: str
    edit_cutoff_minutes: int = 60
    checkout_window_minutes: int = 30
    blackouts: list[Blackout] = field(default_factory=list)

    def ref(self) -> dict:
        return {"id": self.id, "name": self.name}

    def to_wire(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "tier": self.tier,
            "capacity": self.capacity,
            "slot_minutes": self.slot_minutes,
            "opening_hours": {
                "opens_at": self.opens_at.strftime("%H:%M"),
                "closes_at": "24:00" if self.closes_at is None else self.closes_at.strftime("%H:%M"),
            },
            "price_per_hour": {"currency": self.currency, "amount_minor": self.price_per_hour_minor},
            "edit_cutoff_minutes": self.edit_cutoff_minutes,
            "checkout_window_minutes": self.checkout_window_minutes,
            "blackouts": [b.to_wire() for b in self.blackouts],
        }


@dataclass(slots=True)
class Company:
    id: str
    workspace_id: str
    name: str


@dataclass(slots=True)
class Member:
    id: str
    workspace_id: str
    name: str
    email: str
    company_id: str | None = None


@dataclass(slots=True, frozen=True)
class Booker:
    """Who a booking is for: a member (with the company they belonged to) or a guest."""

    member_id: str | None = None
    company_id: str | None = None
    guest_email: str | None = None
    guest_name: str | None = None

    def to_wire(self) -> dict:
        if self.member_id is not None:
            return {"type": "member", "member_id": self.member_id, "company_id": self.company_id}
        return {"type": "guest", "guest": {"email": self.guest_email, "name": self.guest_name}}


@dataclass(slots=True)
class MoneyMovement:
    """Money taken or returned for a booking; charges and refunds share one wire shape."""

    id: str
    kind: str
    amount_minor: int
    currency: str
    created_at: datetime

    def to_wire(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "amount": {"currency": self.currency, "amount_minor": self.amount_minor},
            "created_at": format_instant(self.created_at),
        }


@dataclass(slots=True)
class Charge(MoneyMovement):
    """kind: `booking` (the Checkout payment) or `delta` (a lengthening)."""


@dataclass(slots=True)
class Refund(MoneyMovement):
    """kind: `cancellation` or `delta` (a shortening)."""


@dataclass(slots=True)
class Cancellation:
    reason: str
    refund_policy: str
    notify_attendees: bool
    cancelled_at: datetime
    refund: Refund | None

    def to_wire(self) -> dict:
        return {
            "reason": self.reason,
            "refund_policy": self.refund_policy,
            "notify_attendees": self.notify_attendees,
            "cancelled_at": format_instant(self.cancelled_at),
            "refund": self.refund.to_wire() if self.refund else None,
        }


@dataclass(slots=True)
class Booking:
    id: str
    workspace_id: str
    room: Room
    status: BookingStatus
    start_at: datetime
    end_at: datetime
    booker: Booker
    attendees: int
    notes: str | None
    price_minor: int
    currency: str
    created_at: datetime
    updated_at: datetime
    checkout_url: str | None = None
    expires_at: datetime | None = None
    cancellation: Cancellation | None = None
    charges: list[Charge] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    no_show_at: datetime | None = None
    # iCal SEQUENCE: bumped on every change. Every change bumps it, so it also keys the JSON cache.
    sequence: int = 0
    _json: orjson.Fragment | None = field(default=None, repr=False, compare=False)
    _json_sequence: int = field(default=-1, repr=False, compare=False)

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.start_at, self.id)

    @property
    def paid_minor(self) -> int:
        """Money taken minus money returned so far."""
        return sum(c.amount_minor for c in self.charges) - sum(r.amount_minor for r in self.refunds)

    def to_json(self) -> orjson.Fragment:
        """`to_wire()` already encoded, kept until the booking next changes: list pages re-send the
        same rows far more often than rows change, and encoding dominated a list request."""
        if self._json is None or self._json_sequence != self.sequence:
            self._json = orjson.Fragment(orjson.dumps(self.to_wire()))
            self._json_sequence = self.sequence
        return self._json

    def to_wire(self) -> dict:
        return {
            "id": self.id,
            "status": self.status.value,
            "room": self.room.ref(),
            "start_at": format_instant(self.start_at),
            "end_at": format_instant(self.end_at),
            "booked_by": self.booker.to_wire(),
            "attendees": self.attendees,
            "notes": self.notes,
            "price": {"currency": self.currency, "amount_minor": self.price_minor},
            "checkout_url": self.checkout_url,
            "expires_at": format_instant(self.expires_at) if self.expires_at else None,
            "cancellation": self.cancellation.to_wire() if self.cancellation else None,
            "charges": [c.to_wire() for c in self.charges],
            "refunds": [r.to_wire() for r in self.refunds],
            "no_show_at": format_instant(self.no_show_at) if self.no_show_at else None,
            "created_at": format_instant(self.created_at),
            "updated_at": format_instant(self.updated_at),
        }


@dataclass(slots=True)
class Event:
    """One webhook event; `data.object` is the booking as it was right after the transition."""

    id: str
    workspace_id: str
    type: str
    created_at: datetime
    booking_id: str
    object: dict

    def to_wire(self) -> dict:
        return {
            "id": self.id,
            "type": self.type,
            "created_at": format_instant(self.created_at),
            "data": {"object": self.object},
        }
