"""Bookings: the slot rules, the lifecycle state machine and every change's event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from . import pricing, slots
from .clock import Clock
from .errors import (
    BookingNotCancellable,
    BookingNotEditable,
    BookingNotFound,
    CheckoutNotPending,
    InvalidRequest,
    NoShowNotAllowed,
    SlotUnavailable,
    StripeUnconfigured,
)
from .events import EventLog
from .ids import IdSource
from .instants import format_instant
from .models import (
    HOLDING_STATUSES,
    TERMINAL_STATUSES,
    Booker,
    Booking,
    BookingStatus,
    Cancellation,
    Charge,
    Refund,
    Room,
    Workspace,
)
from .store import BookingFilter, SortKey, Store


@dataclass(slots=True, frozen=True)
class BookerInput:
    """`booked_by` as sent on create: a member id, or a guest's email and name."""

    member_id: str | None = None
    guest_email: str | None = None
    guest_name: str | None = None


@dataclass(slots=True, frozen=True)
class BookingChanges:
    """A PATCH: only the fields present in the request are set; `notes_set` tells null from absent."""

    start_at: datetime | None = None
    end_at: datetime | None = None
    room_id: str | None = None
    attendees: int | None = None
    notes: str | None = None
    notes_set: bool = False


class BookingService:
    def __init__(self, store: Store, clock: Clock, ids: IdSource, events: EventLog, checkout_base_url: str) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._events = events
        self.checkout_base_url = checkout_base_url.rstrip("/")

    # -- time -----------------------------------------------------------------------------------

    def catch_up(self) -> int:
        """Fire every transition due by now, in time order, each stamped with its own due time."""
        now = self._clock.now()
        fired = 0
        while (due := self._store.pop_due(now)) is not None:
            booking = self._store.bookings.get(due.booking_id)
            if booking is None:
                continue
            # Entries are never removed when a booking changes; a stale one simply no longer fits.
            if due.kind == "expire" and booking.status is BookingStatus.PENDING_PAYMENT and booking.expires_at == due.due_at:
                self._transition(booking, BookingStatus.EXPIRED, due.due_at)
                self._events.record("booking.expired", booking, due.due_at)
                fired += 1
            elif due.kind == "complete" and booking.status is BookingStatus.CONFIRMED and booking.end_at == due.due_at:
                self._transition(booking, BookingStatus.COMPLETED, due.due_at)
                self._events.record("booking.completed", booking, due.due_at)
                fired += 1
        return fired

    # -- queries --------------------------------------------------------------------------------

    def get(self, workspace_id: str, booking_id: str) -> Booking:
        booking = self._store.booking_in(workspace_id, booking_id)
        if booking is None:
            # Another workspace's booking is "not found" too: existence must not leak.
            raise BookingNotFound(f"No booking {booking_id} in this workspace.", param="id")
        return booking

    def page(self, workspace_id: str, flt: BookingFilter, after: SortKey | None, limit: int) -> tuple[list[Booking], bool]:
        return self._store.bookings_page(workspace_id, flt, after, limit)

    # -- commands -------------------------------------------------------------------------------

    def create(
        self,
        workspace: Workspace,
        *,
        room_id: str,
        start_at: datetime,
        end_at: datetime,
        booked_by: BookerInput,
        attendees: int = 1,
        notes: str | None = None,
        booking_id: str | None = None,
    ) -> Booking:
        # The contract's order: request checks (404/400), Stripe (412), grid (422), availability (409).
        room = self._room(workspace.id, room_id)
        booker = self._booker(workspace.id, booked_by)
        now = self._clock.now()
        self._check_request(room, start_at, end_at, attendees, now)
        if not workspace.stripe_onboarded:
            raise StripeUnconfigured(f"Workspace {workspace.id} hasn't completed Stripe Connect onboarding.")
        self._check_slot_free(room, start_at, end_at, ignoring=None)

        booking_id = booking_id or self._ids.new("bk")
        expires_at = now + timedelta(minutes=room.checkout_window_minutes)
        booking = Booking(
            id=booking_id,
            workspace_id=workspace.id,
            room=room,
            status=BookingStatus.PENDING_PAYMENT,
            start_at=start_at,
            end_at=end_at,
            booker=booker,
            attendees=attendees,
            notes=notes,
            price_minor=pricing.price_minor(room, start_at, end_at),
            currency=room.currency,
            created_at=now,
            updated_at=now,
            checkout_url=f"{self.checkout_base_url}/_mock/checkout/{booking_id}",
            expires_at=expires_at,
        )
        self._store.insert_booking(booking)
        self._store.schedule(expires_at, booking.id, "expire")
        self._events.record("booking.created", booking, now)
        return booking

    def update(self, workspace_id: str, booking_id: str, changes: BookingChanges) -> Booking:
        booking = self.get(workspace_id, booking_id)
        now = self._clock.now()
        if booking.status not in HOLDING_STATUSES:
            raise BookingNotEditable(f"A {booking.status.value} booking cannot be changed.")
        cutoff = booking.start_at - timedelta(minutes=booking.room.edit_cutoff_minutes)
        if now >= cutoff:
            raise BookingNotEditable(
                f"Bookings of this room can be changed until {booking.room.edit_cutoff_minutes} minutes before start_at."
            )

        room = self._room(workspace_id, changes.room_id) if changes.room_id is not None else booking.room
        start_at = changes.start_at if changes.start_at is not None else booking.start_at
        end_at = changes.end_at if changes.end_at is not None else booking.end_at
        attendees = changes.attendees if changes.attendees is not None else booking.attendees
        notes = changes.notes if changes.notes_set else booking.notes

        moved = (room.id, start_at, end_at) != (booking.room.id, booking.start_at, booking.end_at)
        if moved:
            self._check_request(room, start_at, end_at, attendees, now)
            self._check_slot_free(room, start_at, end_at, ignoring=booking.id)
        elif attendees > room.capacity:
            raise self._over_capacity(room, attendees)

        if not moved and (attendees, notes) == (booking.attendees, booking.notes):
            return booking  # nothing changes: no event, no new SEQUENCE

        old_price, old_end = booking.price_minor, booking.end_at
        self._store.unindex(booking)
        booking.room, booking.start_at, booking.end_at = room, start_at, end_at
        booking.attendees, booking.notes = attendees, notes
        booking.price_minor = pricing.price_minor(room, start_at, end_at)
        booking.updated_at = now
        booking.sequence += 1
        self._store.reindex(booking)

        if booking.status is BookingStatus.CONFIRMED:
            delta = booking.price_minor - old_price
            # Money only moves once it was taken: a pending booking just gets a new price.
            if delta > 0:
                booking.charges.append(Charge(self._ids.new("ch"), "delta", delta, booking.currency, now))
            elif delta < 0:
                booking.refunds.append(Refund(self._ids.new("re"), "delta", -delta, booking.currency, now))
            if booking.end_at != old_end:
                self._store.schedule(booking.end_at, booking.id, "complete")
        self._events.record("booking.updated", booking, now)
        return booking

    def cancel(
        self,
        workspace_id: str,
        booking_id: str,
        *,
        reason: str = "other",
        refund_policy: str = "full",
        notify_attendees: bool = True,
    ) -> Booking:
        booking = self.get(workspace_id, booking_id)
        if booking.status in TERMINAL_STATUSES:
            raise BookingNotCancellable(f"The booking is already {booking.status.value}.")
        now = self._clock.now()
        refund = None
        amount = pricing.refund_minor(booking.paid_minor, refund_policy)
        if amount > 0:
            refund = Refund(self._ids.new("re"), "cancellation", amount, booking.currency, now)
            booking.refunds.append(refund)
        booking.cancellation = Cancellation(reason, refund_policy, notify_attendees, now, refund)
        self._transition(booking, BookingStatus.CANCELLED, now)
        self._events.record("booking.cancelled", booking, now)
        return booking

    def complete_checkout(self, booking_id: str) -> Booking:
        """The payer paid: pending_payment → confirmed, with the booking's charge."""
        booking = self._pending(booking_id)
        now = self._clock.now()
        booking.charges.append(Charge(self._ids.new("ch"), "booking", booking.price_minor, booking.currency, now))
        self._transition(booking, BookingStatus.CONFIRMED, now)
        self._store.schedule(booking.end_at, booking.id, "complete")
        self._events.record("booking.confirmed", booking, now)
        return booking

    def fail_checkout(self, booking_id: str) -> Booking:
        """The payer abandoned or the payment failed: the hold ends now, as if the window elapsed."""
        booking = self._pending(booking_id)
        now = self._clock.now()
        self._transition(booking, BookingStatus.EXPIRED, now)
        self._events.record("booking.expired", booking, now)
        return booking

    def mark_no_show(self, booking_id: str) -> Booking:
        booking = self._any(booking_id)
        now = self._clock.now()
        if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED):
            raise NoShowNotAllowed(f"A {booking.status.value} booking cannot be marked as a no-show.")
        if now < booking.start_at:
            raise NoShowNotAllowed("A booking can be marked as a no-show only once it has started.")
        if booking.no_show_at is not None:
            return booking  # marking twice changes nothing
        booking.no_show_at = now
        booking.updated_at = now
        booking.sequence += 1
        self._events.record("booking.no_show", booking, now)
        return booking

    # -- rules ----------------------------------------------------------------------------------

    def _check_request(self, room: Room, start_at: datetime, end_at: datetime, attendees: int, now: datetime) -> None:
        """What makes the request itself wrong whatever the calendar holds: 400 naming the field."""
        if end_at <= start_at:
            raise InvalidRequest("end_at must be after start_at.", param="end_at")
        if start_at < now:
            raise InvalidRequest("start_at must not be in the past.", param="start_at")
        if attendees > room.capacity:
            raise self._over_capacity(room, attendees)

    def _check_slot_free(self, room: Room, start_at: datetime, end_at: datetime, *, ignoring: str | None) -> None:
        """On the grid (422), inside opening hours, clear of blackouts and of other holds (409)."""
        slots.check_alignment(room, start_at, end_at)
        def unavailable(reason: str) -> SlotUnavailable:  # worded only when refusing
            span = f"{room.id} is not available from {format_instant(start_at)} to {format_instant(end_at)}"
            return SlotUnavailable(f"{span}: {reason}", param="start_at")

        if not slots.is_open_throughout(room, start_at, end_at):
            hours = room.to_wire()["opening_hours"]
            raise unavailable(f"the room is open {hours['opens_at']}–{hours['closes_at']} UTC.")
        for blackout in room.blackouts:
            if blackout.start_at < end_at and start_at < blackout.end_at:
                raise unavailable("the room is in a blackout window.")
        for other in self._store.holding_bookings(room.id, start_at, end_at):
            if other.id != ignoring:
                raise unavailable("another booking holds part of it.")

    @staticmethod
    def _over_capacity(room: Room, attendees: int) -> InvalidRequest:
        return InvalidRequest(f"attendees ({attendees}) is over the room's capacity of {room.capacity}.", param="attendees")

    def _room(self, workspace_id: str, room_id: str) -> Room:
        room = self._store.room_in(workspace_id, room_id)
        if room is None:
            # A body naming a missing room is a wrong request, not a missing resource (docs/decisions.md).
            raise InvalidRequest(f"No room {room_id} in this workspace.", param="room_id")
        return room

    def _booker(self, workspace_id: str, booked_by: BookerInput) -> Booker:
        if booked_by.member_id is not None:
            member = self._store.member_in(workspace_id, booked_by.member_id)
            if member is None:
                raise InvalidRequest(
                    f"No member {booked_by.member_id} in this workspace.", param="booked_by.member_id"
                )
            return Booker(member_id=member.id, company_id=member.company_id)
        return Booker(guest_email=booked_by.guest_email, guest_name=booked_by.guest_name)

    def _any(self, booking_id: str) -> Booking:
        booking = self._store.bookings.get(booking_id)
        if booking is None:
            raise BookingNotFound(f"No booking {booking_id}.")
        return booking

    def _pending(self, booking_id: str) -> Booking:
        booking = self._any(booking_id)
        if booking.status is not BookingStatus.PENDING_PAYMENT:
            raise CheckoutNotPending(f"The booking is {booking.status.value}, not pending_payment.")
        return booking

    def _transition(self, booking: Booking, status: BookingStatus, at: datetime) -> None:
        self._store.unindex(booking)
        booking.status = status
        if status is not BookingStatus.PENDING_PAYMENT:
            booking.checkout_url = None
            booking.expires_at = None
        booking.updated_at = at
        booking.sequence += 1
        self._store.reindex(booking)
