"""The booking rules and lifecycle, driven through the backend without HTTP."""

from datetime import timedelta

import pytest

from mock_server.domain import errors
from mock_server.domain.models import BookingStatus

from .conftest import NOW, create


def event_types(backend, ws="ws_demo"):
    return [e.type for e in backend.events_of(ws)]


# -- create -----------------------------------------------------------------------------------


def test_create_valid_slot_is_pending_with_price_hold_and_event(backend, demo):
    booking = create(backend, demo, attendees=4, notes="Studio mic check 13:55")
    wire = booking.to_wire()
    assert wire["status"] == "pending_payment"
    assert wire["price"] == {"currency": "GBP", "amount_minor": 8400}
    assert wire["expires_at"] == "2026-05-22T09:30:00Z"
    assert wire["checkout_url"].endswith(f"/_mock/checkout/{booking.id}")
    assert wire["booked_by"] == {"type": "member", "member_id": "mem_alice", "company_id": "co_acme"}
    assert event_types(backend) == ["booking.created"]


def test_create_guest_booker_is_returned_as_guest(backend, demo):
    booking = create(backend, demo, booked_by={"guest": {"email": "dana@example.com", "name": "Dana"}})
    assert booking.to_wire()["booked_by"] == {"type": "guest", "guest": {"email": "dana@example.com", "name": "Dana"}}


@pytest.mark.parametrize(
    ("kwargs", "error", "param"),
    [
        ({"room": "rm_nope"}, errors.InvalidRequest, "room_id"),
        ({"room": "rm_otherstudio"}, errors.InvalidRequest, "room_id"),
        ({"booked_by": {"member_id": "mem_nobody"}}, errors.InvalidRequest, "booked_by.member_id"),
        ({"booked_by": {"member_id": "mem_oscar"}}, errors.InvalidRequest, "booked_by.member_id"),
        ({"end": "2026-05-23T14:00:00Z"}, errors.InvalidRequest, "end_at"),
        ({"start": "2026-05-22T08:00:00Z", "end": "2026-05-22T09:00:00Z"}, errors.InvalidRequest, "start_at"),
        ({"attendees": 9}, errors.InvalidRequest, "attendees"),
        ({"start": "2026-05-23T14:15:00Z"}, errors.SlotMisaligned, "start_at"),
        ({"end": "2026-05-23T15:45:00Z"}, errors.SlotMisaligned, "end_at"),
    ],
)
def test_create_bad_request_raises_error_naming_param(backend, demo, kwargs, error, param):
    with pytest.raises(error) as exc:
        create(backend, demo, **kwargs)
    assert exc.value.param == param
    assert backend.store.bookings == {}
    assert event_types(backend) == []


def test_create_workspace_without_stripe_raises_stripe_unconfigured(backend):
    principal = backend.authenticate("sk_test_nostripe_rw")
    with pytest.raises(errors.StripeUnconfigured):
        create(backend, principal, room="rm_nostripe", booked_by={"member_id": "mem_nina"})


def test_create_stripe_is_checked_after_request_and_before_grid(backend):
    principal = backend.authenticate("sk_test_nostripe_rw")
    with pytest.raises(errors.InvalidRequest):
        create(backend, principal, room="rm_nostripe", booked_by={"member_id": "mem_nina"}, attendees=99)
    with pytest.raises(errors.StripeUnconfigured):
        create(backend, principal, room="rm_nostripe", booked_by={"member_id": "mem_nina"}, start="2026-05-23T14:10:00Z")


@pytest.mark.parametrize(
    ("room", "start", "end"),
    [
        ("rm_studio", "2026-05-23T07:00:00Z", "2026-05-23T09:00:00Z"),
        ("rm_studio", "2026-05-23T21:00:00Z", "2026-05-23T23:00:00Z"),
        ("rm_boardroom", "2026-05-24T12:00:00Z", "2026-05-24T14:00:00Z"),  # blackout 09-13 in 2 days
    ],
)
def test_create_closed_or_blackout_raises_slot_unavailable(backend, demo, room, start, end):
    with pytest.raises(errors.SlotUnavailable):
        create(backend, demo, room=room, start=start, end=end)


def test_create_overlapping_pending_or_confirmed_raises_slot_unavailable(backend, demo):
    first = create(backend, demo)
    with pytest.raises(errors.SlotUnavailable):
        create(backend, demo, start="2026-05-23T15:00:00Z", end="2026-05-23T16:00:00Z")
    backend.complete_checkout(first.id)
    with pytest.raises(errors.SlotUnavailable):
        create(backend, demo, start="2026-05-23T13:00:00Z", end="2026-05-23T14:30:00Z")
    with pytest.raises(errors.SlotUnavailable):
        create(backend, demo, start="2026-05-23T12:00:00Z", end="2026-05-23T18:00:00Z")


def test_create_adjacent_slots_both_succeed(backend, demo):
    create(backend, demo)
    create(backend, demo, start="2026-05-23T15:30:00Z", end="2026-05-23T16:00:00Z")
    create(backend, demo, start="2026-05-23T13:30:00Z", end="2026-05-23T14:00:00Z")


def test_create_after_expiry_or_cancel_slot_is_free_again(backend, demo, clock):
    first = create(backend, demo)
    clock.advance(timedelta(minutes=30))
    second = create(backend, demo)
    assert backend.get_booking(demo, first.id).status is BookingStatus.EXPIRED
    backend.cancel_booking(demo, second.id, {})
    create(backend, demo)


# -- lifecycle --------------------------------------------------------------------------------


def test_catch_up_pending_past_window_expires_at_expires_at(backend, demo, clock):
    booking = create(backend, demo)
    clock.advance(timedelta(minutes=29, seconds=59))
    assert backend.get_booking(demo, booking.id).status is BookingStatus.PENDING_PAYMENT
    clock.advance(timedelta(seconds=1))
    expired = backend.get_booking(demo, booking.id).to_wire()
    assert expired["status"] == "expired"
    assert expired["updated_at"] == "2026-05-22T09:30:00Z"
    assert expired["checkout_url"] is None and expired["expires_at"] is None
    assert event_types(backend) == ["booking.created", "booking.expired"]


def test_complete_checkout_pending_becomes_confirmed_with_charge(backend, demo):
    booking = backend.complete_checkout(create(backend, demo).id).to_wire()
    assert booking["status"] == "confirmed"
    assert [(c["kind"], c["amount"]["amount_minor"]) for c in booking["charges"]] == [("booking", 8400)]
    assert booking["checkout_url"] is None
    assert event_types(backend)[-1] == "booking.confirmed"


def test_complete_checkout_not_pending_raises_checkout_not_pending(backend, demo):
    booking = create(backend, demo)
    backend.fail_checkout(booking.id)
    with pytest.raises(errors.CheckoutNotPending):
        backend.complete_checkout(booking.id)


def test_fail_checkout_pending_expires_now(backend, demo):
    booking = backend.fail_checkout(create(backend, demo).id)
    assert booking.status is BookingStatus.EXPIRED
    assert event_types(backend) == ["booking.created", "booking.expired"]


def test_advance_clock_past_end_confirmed_completes(backend, demo):
    booking = create(backend, demo)
    backend.complete_checkout(booking.id)
    backend.set_clock(NOW.replace(day=23, hour=15, minute=29))
    assert backend.get_booking(demo, booking.id).status is BookingStatus.CONFIRMED
    backend.advance_clock(60)
    completed = backend.get_booking(demo, booking.id).to_wire()
    assert completed["status"] == "completed"
    assert completed["updated_at"] == "2026-05-23T15:30:00Z"


def test_advance_clock_many_due_transitions_fire_in_time_order(backend, demo):
    late = create(backend, demo, start="2026-05-24T10:00:00Z", end="2026-05-24T11:00:00Z")
    early = create(backend, demo)
    backend.complete_checkout(late.id)
    backend.complete_checkout(early.id)
    backend.advance_clock(5 * 86400)
    events = backend.events_of("ws_demo")
    completed = [(e.booking_id, e.created_at) for e in events if e.type == "booking.completed"]
    assert [b for b, _ in completed] == [early.id, late.id]
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)


def test_mark_no_show_confirmed_after_start_sets_mark_and_event(backend, demo):
    booking = create(backend, demo)
    backend.complete_checkout(booking.id)
    with pytest.raises(errors.NoShowNotAllowed):
        backend.mark_no_show(booking.id)
    backend.set_clock(NOW.replace(day=23, hour=14, minute=10))
    marked = backend.mark_no_show(booking.id).to_wire()
    assert marked["no_show_at"] == "2026-05-23T14:10:00Z"
    assert marked["status"] == "confirmed"
    assert event_types(backend)[-1] == "booking.no_show"


def test_mark_no_show_pending_raises_not_allowed(backend, demo, clock):
    booking = create(backend, demo)
    with pytest.raises(errors.NoShowNotAllowed):
        backend.mark_no_show(booking.id)


# -- update -----------------------------------------------------------------------------------


def test_update_attendees_and_notes_bumps_sequence_and_fires_updated(backend, demo):
    booking = create(backend, demo)
    updated = backend.update_booking(demo, booking.id, {"attendees": 6, "notes": "Extended"})
    assert (updated.attendees, updated.notes, updated.sequence) == (6, "Extended", 1)
    assert backend.update_booking(demo, booking.id, {"notes": None}).notes is None
    assert event_types(backend) == ["booking.created", "booking.updated", "booking.updated"]


def test_update_same_values_changes_nothing(backend, demo):
    booking = create(backend, demo, attendees=4)
    backend.update_booking(demo, booking.id, {"attendees": 4})
    assert booking.sequence == 0
    assert event_types(backend) == ["booking.created"]


def test_update_lengthen_confirmed_records_delta_charge(backend, demo):
    booking = create(backend, demo)
    backend.complete_checkout(booking.id)
    wire = backend.update_booking(demo, booking.id, {"end_at": "2026-05-23T16:00:00Z"}).to_wire()
    assert wire["price"]["amount_minor"] == 11200
    assert [(c["kind"], c["amount"]["amount_minor"]) for c in wire["charges"]] == [("booking", 8400), ("delta", 2800)]


def test_update_shorten_confirmed_records_delta_refund(backend, demo):
    booking = create(backend, demo)
    backend.complete_checkout(booking.id)
    wire = backend.update_booking(demo, booking.id, {"end_at": "2026-05-23T15:00:00Z"}).to_wire()
    assert [(r["kind"], r["amount"]["amount_minor"]) for r in wire["refunds"]] == [("delta", 2800)]


def test_update_lengthen_pending_changes_price_only(backend, demo):
    booking = create(backend, demo)
    wire = backend.update_booking(demo, booking.id, {"end_at": "2026-05-23T16:00:00Z"}).to_wire()
    assert wire["price"]["amount_minor"] == 11200
    assert wire["charges"] == [] and wire["refunds"] == []


def test_update_move_overlapping_own_slot_is_allowed(backend, demo):
    booking = create(backend, demo)
    moved = backend.update_booking(demo, booking.id, {"start_at": "2026-05-23T14:30:00Z", "end_at": "2026-05-23T16:00:00Z"})
    assert moved.start_at.hour == 14 and moved.start_at.minute == 30
    # the old slot's first half is free again
    create(backend, demo, start="2026-05-23T14:00:00Z", end="2026-05-23T14:30:00Z")


def test_update_move_onto_other_booking_raises_slot_unavailable(backend, demo):
    booking = create(backend, demo)
    create(backend, demo, start="2026-05-23T16:00:00Z", end="2026-05-23T17:00:00Z")
    with pytest.raises(errors.SlotUnavailable):
        backend.update_booking(demo, booking.id, {"end_at": "2026-05-23T16:30:00Z"})
    assert backend.get_booking(demo, booking.id).end_at.hour == 15


def test_update_other_room_rechecks_grid_and_capacity(backend, demo):
    booking = create(backend, demo)
    with pytest.raises(errors.SlotMisaligned):
        backend.update_booking(demo, booking.id, {"room_id": "rm_boardroom"})  # 60-min grid, ends 15:30
    with pytest.raises(errors.InvalidRequest) as exc:
        backend.update_booking(demo, booking.id, {"room_id": "rm_focus", "attendees": 2})
    assert exc.value.param == "attendees"
    moved = backend.update_booking(demo, booking.id, {"room_id": "rm_focus", "attendees": 1})
    assert moved.room.id == "rm_focus" and moved.price_minor == 1200


def test_update_room_of_other_workspace_raises_invalid_request(backend, demo):
    booking = create(backend, demo)
    with pytest.raises(errors.InvalidRequest):
        backend.update_booking(demo, booking.id, {"room_id": "rm_otherstudio"})


def test_update_past_edit_cutoff_raises_not_editable(backend, demo):
    booking = create(backend, demo)
    backend.set_clock(NOW.replace(day=23, hour=13, minute=0))
    with pytest.raises(errors.BookingNotEditable):
        backend.update_booking(demo, booking.id, {"notes": "late"})


def test_update_cancelled_booking_raises_not_editable(backend, demo):
    booking = create(backend, demo)
    backend.cancel_booking(demo, booking.id, {})
    with pytest.raises(errors.BookingNotEditable):
        backend.update_booking(demo, booking.id, {"notes": "x"})


# -- cancel -----------------------------------------------------------------------------------


def test_cancel_pending_refunds_nothing(backend, demo):
    wire = backend.cancel_booking(demo, create(backend, demo).id, {"reason": "member_requested"}).to_wire()
    assert wire["status"] == "cancelled"
    assert wire["cancellation"]["refund"] is None
    assert wire["cancellation"]["reason"] == "member_requested"
    assert event_types(backend)[-1] == "booking.cancelled"


@pytest.mark.parametrize(("policy", "refunded"), [("full", 8400), ("partial", 4200), ("none", None)])
def test_cancel_confirmed_refunds_per_policy(backend, demo, policy, refunded):
    booking = create(backend, demo)
    backend.complete_checkout(booking.id)
    wire = backend.cancel_booking(demo, booking.id, {"refund_policy": policy, "notify_attendees": False}).to_wire()
    refund = wire["cancellation"]["refund"]
    assert (refund["amount"]["amount_minor"] if refund else None) == refunded
    assert wire["cancellation"]["notify_attendees"] is False


@pytest.mark.parametrize("end_state", ["cancelled", "expired", "completed"])
def test_cancel_terminal_booking_raises_not_cancellable(backend, demo, end_state):
    booking = create(backend, demo)
    if end_state == "cancelled":
        backend.cancel_booking(demo, booking.id, {})
    elif end_state == "expired":
        backend.fail_checkout(booking.id)
    else:
        backend.complete_checkout(booking.id)
        backend.advance_clock(3 * 86400)
    with pytest.raises(errors.BookingNotCancellable):
        backend.cancel_booking(demo, booking.id, {})


# -- isolation --------------------------------------------------------------------------------


def test_get_booking_of_other_workspace_raises_not_found(backend, demo):
    other = backend.authenticate("sk_test_other_rw")
    booking = create(backend, other, room="rm_otherstudio", booked_by={"member_id": "mem_oscar"})
    with pytest.raises(errors.BookingNotFound):
        backend.get_booking(demo, booking.id)
    with pytest.raises(errors.BookingNotFound):
        backend.cancel_booking(demo, booking.id, {})
    assert backend.list_bookings(demo)[0] == []
