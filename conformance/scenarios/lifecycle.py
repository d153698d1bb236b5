"""Lifecycle: pending → confirmed | expired | cancelled, confirmed → completed | cancelled; edits, refunds, delta charges."""
from __future__ import annotations

from datetime import timedelta

from conformance.scenario import Need, expect, expect_error, expect_status, scenario
from conformance.world import World, iso, parse_instant

AREA = "lifecycle"


def _cancel(world: World, booking_id: str, policy: str | None = None, **extra: object):  # type: ignore[no-untyped-def]
    body = {"reason": "member_requested", **({"refund_policy": policy} if policy else {}), **extra}
    return world.post(f"/v1/bookings/{booking_id}/cancel", body)


@scenario()
def test_created_booking_is_pending_payment_holding_its_slot_at_the_room_price(world: World) -> None:
    """A new booking is pending_payment with a checkout_url, expires_at one checkout window ahead, price = rate × duration."""
    room = world.room()
    before = world.now()
    booking = world.booking(room, minutes=room.slot_minutes * 3)
    minutes = (parse_instant(booking["end_at"]) - parse_instant(booking["start_at"])).total_seconds() / 60
    expect(booking["status"] == "pending_payment", f"a new booking is pending_payment, not {booking['status']!r}")
    expect(booking["checkout_url"], "a pending booking carries a checkout_url")
    expect(booking["price"] == {"currency": room.currency, "amount_minor": room.price_minor(int(minutes))},
           f"{minutes:.0f} min at {room.price_per_hour_minor}/h must cost {room.price_minor(int(minutes))} {room.currency}; got {booking['price']}")
    expires = parse_instant(booking["expires_at"])
    window = timedelta(minutes=room.checkout_window_minutes)
    expect(before + window - timedelta(seconds=5) <= expires <= world.now() + window + timedelta(seconds=5),
           f"expires_at {booking['expires_at']} must be one checkout window ({room.checkout_window_minutes} min) after creation")
    for field in ("cancellation", "no_show_at"):
        expect(booking[field] is None, f"{field} must be null on a new booking")
    expect(booking["charges"] == [] and booking["refunds"] == [], "nothing is charged or refunded before checkout")


@scenario(Need.CONTROL)
def test_paid_checkout_confirms_the_booking_and_records_the_charge(world: World) -> None:
    """Paying the checkout makes the booking confirmed with one `booking` charge of its price and no checkout fields."""
    booking = world.confirmed_booking()
    expect(booking["checkout_url"] is None and booking["expires_at"] is None, "a confirmed booking has no checkout_url or expires_at",
           world.deployment.log.last)
    charges = [(c["kind"], c["amount"]) for c in booking["charges"]]
    expect(charges == [("booking", booking["price"])], f"a confirmed booking carries one booking charge of its price; got {charges}",
           world.deployment.log.last)


@scenario(Need.CONTROL)
def test_unpaid_booking_expires_after_the_checkout_window_and_frees_its_slot(world: World) -> None:
    """Past expires_at an unpaid booking is expired and its slot can be booked again."""
    room = world.room()
    booking = world.booking(room)
    world.control.set_clock(parse_instant(booking["expires_at"]) + timedelta(seconds=1))  # type: ignore[union-attr]
    after = world.fetch(booking["id"])
    expect(after["status"] == "expired", f"one second past expires_at the booking must be expired, not {after['status']!r}", world.deployment.log.last)
    again = world.create(world.booking_body(room, slot=(parse_instant(booking["start_at"]), parse_instant(booking["end_at"]))))
    expect(again.status == 201, f"an expired booking frees its slot; booking it again got {again.status} {again.error_code}", again)


@scenario(Need.CONTROL)
def test_confirmed_booking_completes_when_its_end_passes(world: World) -> None:
    """A confirmed booking becomes completed once end_at has passed."""
    booking = world.confirmed_booking()
    world.control.set_clock(parse_instant(booking["end_at"]) + timedelta(minutes=1))  # type: ignore[union-attr]
    after = world.fetch(booking["id"])
    expect(after["status"] == "completed", f"after end_at a confirmed booking must be completed, not {after['status']!r}", world.deployment.log.last)


@scenario()
def test_patch_before_the_edit_cutoff_changes_the_booking(world: World) -> None:
    """Before the edit cut-off, attendees, notes and time can be changed and the price follows the new duration."""
    room = world.room()
    booking = world.booking(room)
    end = parse_instant(booking["end_at"])
    longer = world.patch(f"/v1/bookings/{booking['id']}", {"attendees": 2, "notes": "edited", "end_at": iso(end + timedelta(minutes=room.slot_minutes))})
    if longer.status == 409:
        longer = world.patch(f"/v1/bookings/{booking['id']}", {"attendees": 2, "notes": "edited"})
        expect_status(longer, 200, "PATCH attendees and notes before the cut-off")
        return
    expect_status(longer, 200, "PATCH before the edit cut-off")
    changed = longer.json()
    minutes = (parse_instant(changed["end_at"]) - parse_instant(changed["start_at"])).total_seconds() / 60
    expect((changed["attendees"], changed["notes"]) == (2, "edited"), "the PATCH response must show the new attendees and notes", longer)
    expect(changed["price"]["amount_minor"] == room.price_minor(int(minutes)),
           f"after lengthening to {minutes:.0f} min the price must be {room.price_minor(int(minutes))}; got {changed['price']}", longer)


@scenario(Need.CONTROL)
def test_patch_past_the_edit_cutoff_is_409_booking_not_editable(world: World) -> None:
    """Inside the edit cut-off before start_at, PATCH is 409 booking_not_editable."""
    room = world.room()
    booking = world.confirmed_booking(room)
    start = parse_instant(booking["start_at"])
    world.control.set_clock(start - timedelta(minutes=room.edit_cutoff_minutes) + timedelta(minutes=1))  # type: ignore[union-attr]
    expect_error(world.patch(f"/v1/bookings/{booking['id']}", {"notes": "too late"}), 409, "booking_not_editable",
                 f"PATCH {room.edit_cutoff_minutes - 1} min before start (cut-off {room.edit_cutoff_minutes} min)")


@scenario()
def test_patch_of_a_cancelled_booking_is_409_booking_not_editable(world: World) -> None:
    """A cancelled booking cannot be edited: 409 booking_not_editable."""
    booking = world.booking()
    expect_status(_cancel(world, booking["id"]), 200, "cancel")
    expect_error(world.patch(f"/v1/bookings/{booking['id']}", {"notes": "after cancel"}), 409, "booking_not_editable", "PATCH a cancelled booking")


@scenario()
def test_cancelling_an_unpaid_booking_refunds_nothing_and_frees_the_slot(world: World) -> None:
    """Cancelling a pending booking records the cancellation with a null refund and frees the slot at once."""
    room = world.room()
    booking = world.booking(room)
    reply = expect_status(_cancel(world, booking["id"], "full", notify_attendees=False), 200, "cancel a pending booking")
    cancelled = reply.json()
    expect(cancelled["status"] == "cancelled", f"status after cancel is {cancelled['status']!r}", reply)
    c = cancelled["cancellation"] or {}
    expect((c.get("reason"), c.get("refund_policy"), c.get("notify_attendees")) == ("member_requested", "full", False),
           f"the cancellation must echo reason, refund_policy and notify_attendees; got {c}", reply)
    expect(c.get("refund") is None and cancelled["refunds"] == [], "a booking cancelled before payment refunds nothing", reply)
    again = world.create(world.booking_body(room, slot=(parse_instant(booking["start_at"]), parse_instant(booking["end_at"]))))
    expect(again.status == 201, f"a cancelled booking frees its slot; booking it again got {again.status} {again.error_code}", again)


@scenario()
def test_cancel_without_a_body_uses_the_documented_defaults(world: World) -> None:
    """An empty cancel means reason=other, refund_policy=full, notify_attendees=true."""
    booking = world.booking()
    reply = expect_status(world.post(f"/v1/bookings/{booking['id']}/cancel"), 200, "cancel with no body")
    c = reply.json()["cancellation"] or {}
    expect((c.get("reason"), c.get("refund_policy"), c.get("notify_attendees")) == ("other", "full", True),
           f"defaults are other/full/true; got {c}", reply)


@scenario(Need.CONTROL)
def test_cancel_refunds_follow_the_policy_full_partial_none(world: World) -> None:
    """Cancelling a paid booking refunds all of it (full), half rounded down (partial) or nothing (none)."""
    for policy in ("full", "partial", "none"):
        booking = world.confirmed_booking()
        paid = booking["price"]["amount_minor"]
        expected = {"full": paid, "partial": paid // 2, "none": None}[policy]
        reply = expect_status(_cancel(world, booking["id"], policy), 200, f"cancel with refund_policy={policy}")
        refund = reply.json()["cancellation"]["refund"]
        got = refund["amount"]["amount_minor"] if refund else None
        expect(got == expected, f"refund_policy={policy} on {paid} paid must refund {expected}; refunded {got}", reply)
        refunds = [r["amount"]["amount_minor"] for r in reply.json()["refunds"] if r["kind"] == "cancellation"]
        expect(refunds == ([expected] if expected else []), f"refunds must list the cancellation refund; got {refunds}", reply)


@scenario()
def test_cancelled_booking_cannot_be_cancelled_again(world: World) -> None:
    """Cancelling a cancelled booking is 409 booking_not_cancellable."""
    booking = world.booking()
    expect_status(_cancel(world, booking["id"]), 200, "first cancel")
    expect_error(_cancel(world, booking["id"]), 409, "booking_not_cancellable", "second cancel")


@scenario(Need.CONTROL)
def test_expired_and_completed_bookings_cannot_be_cancelled(world: World) -> None:
    """Expired and completed bookings are terminal: cancel is 409 booking_not_cancellable."""
    pending = world.booking()
    paid = world.confirmed_booking()
    world.control.set_clock(parse_instant(pending["expires_at"]) + timedelta(seconds=1))  # type: ignore[union-attr]
    expect_error(_cancel(world, pending["id"]), 409, "booking_not_cancellable", "cancel an expired booking")
    world.control.set_clock(parse_instant(paid["end_at"]) + timedelta(minutes=1))  # type: ignore[union-attr]
    expect_error(_cancel(world, paid["id"]), 409, "booking_not_cancellable", "cancel a completed booking")


@scenario(Need.CONTROL)
def test_lengthening_a_confirmed_booking_records_a_delta_charge(world: World) -> None:
    """Lengthening a paid booking charges the difference as a `delta` charge; shortening records a `delta` refund."""
    room = world.room()
    booking = world.confirmed_booking(room, minutes=room.slot_minutes * 2)
    start = parse_instant(booking["start_at"])
    step = timedelta(minutes=room.slot_minutes)
    extra_slot = world.create(world.booking_body(room, slot=(start + 2 * step, start + 3 * step)))
    if extra_slot.status == 201:
        expect_status(_cancel(world, extra_slot.json()["id"]), 200, "freeing the slot after the booking")
    longer = expect_status(world.patch(f"/v1/bookings/{booking['id']}", {"end_at": iso(start + 3 * step)}), 200, "lengthen by one slot")
    delta = room.price_minor(room.slot_minutes)
    charges = [(c["kind"], c["amount"]["amount_minor"]) for c in longer.json()["charges"]]
    expect(("delta", delta) in charges, f"lengthening by {room.slot_minutes} min must record a delta charge of {delta}; charges are {charges}", longer)
    shorter = expect_status(world.patch(f"/v1/bookings/{booking['id']}", {"end_at": iso(start + step)}), 200, "shorten by two slots")
    refunds = [(r["kind"], r["amount"]["amount_minor"]) for r in shorter.json()["refunds"]]
    expect(("delta", 2 * delta) in refunds, f"shortening by {2 * room.slot_minutes} min must record a delta refund of {2 * delta}; refunds are {refunds}", shorter)
