"""Errors: every documented error code the API can be made to return, and bad input of every kind."""
from __future__ import annotations

import json
from datetime import timedelta

from conformance.rules import envelope_problems, quota_problems
from conformance.scenario import Need, ScenarioSkipped, expect, expect_error, scenario
from conformance.world import World, iso, new_key

AREA = "errors"
UNKNOWN_BOOKING = "bk_conformanceNoSuchBooking"
UNKNOWN_ROOM = "rm_conformanceNoSuchRoom"


@scenario(reads_only=True)
def test_unknown_route_is_404_not_found(world: World) -> None:
    """An unknown path is 404 not_found in the error envelope."""
    expect_error(world.get("/v1/no-such-route"), 404, "not_found", "GET /v1/no-such-route")
    expect_error(world.get("/v2/bookings"), 404, "not_found", "GET /v2/bookings (no such version)")


@scenario(reads_only=True)
def test_unknown_booking_is_404_booking_not_found(world: World) -> None:
    """A booking id that does not exist is 404 booking_not_found."""
    expect_error(world.get(f"/v1/bookings/{UNKNOWN_BOOKING}"), 404, "booking_not_found", f"GET /v1/bookings/{UNKNOWN_BOOKING}")


@scenario(reads_only=True)
def test_unknown_room_is_404_room_not_found(world: World) -> None:
    """A room id that does not exist is 404 room_not_found."""
    expect_error(world.get(f"/v1/rooms/{UNKNOWN_ROOM}"), 404, "room_not_found", f"GET /v1/rooms/{UNKNOWN_ROOM}")


@scenario(reads_only=True)
def test_malformed_booking_id_is_a_documented_error_of_the_operation_not_an_unknown_route(world: World) -> None:
    """An id off the bk_ pattern on GET /v1/bookings/{id} is 400 invalid_request or 404 booking_not_found, with quota headers."""
    for raw in ("bk_has%20space", "bk_line%0Abreak", "bk_tab%09", "%F0%9F%98%80"):
        reply = world.get(f"/v1/bookings/{raw}")
        expect((reply.status, reply.error_code) in ((400, "invalid_request"), (404, "booking_not_found")),
               f"GET /v1/bookings/{raw} is the getBooking route with a malformed id; the operation documents 400 "
               f"invalid_request and 404 booking_not_found, got {reply.status} {reply.error_code}", reply)
        problems = envelope_problems(reply.status, reply.headers, reply.body) + quota_problems(reply.status, reply.headers, reply.body)[0]
        expect(not problems, f"GET /v1/bookings/{raw}: " + "; ".join(problems), reply)


@scenario(reads_only=True)
def test_bad_query_parameter_is_400_invalid_request_naming_it(world: World) -> None:
    """A query parameter outside its schema is 400 invalid_request with `param` naming it."""
    expect_error(world.get("/v1/bookings", params={"status": "lost"}), 400, "invalid_request", "status=lost", param="status")
    expect_error(world.get("/v1/bookings", params={"from": "yesterday"}), 400, "invalid_request", "from=yesterday", param="from")


@scenario()
def test_wrong_method_is_405_with_allow_listing_the_routes_methods(world: World) -> None:
    """A known route with the wrong method is 405 method_not_allowed, and Allow lists exactly the route's methods."""
    for method, path in (("DELETE", "/v1/bookings"), ("PUT", f"/v1/bookings/{UNKNOWN_BOOKING}"), ("POST", "/v1/rooms")):
        reply = expect_error(world.request(method, path), 405, "method_not_allowed", f"{method} {path}")
        allowed = {m.strip().upper() for m in (reply.header("allow") or "").split(",") if m.strip()}
        documented = world.contract.methods_of(path)
        expect(documented <= allowed <= documented | {"HEAD", "OPTIONS"},
               f"{method} {path}: Allow is {sorted(allowed)}, the route serves {sorted(documented)}", reply)


@scenario()
def test_body_with_another_content_type_is_415_unsupported_media_type(world: World) -> None:
    """A body sent as anything but application/json is 415 unsupported_media_type."""
    body = json.dumps(world.booking_body()).encode()
    reply = world.post("/v1/bookings", content=body, headers={"Content-Type": "text/plain", "Idempotency-Key": new_key()})
    expect_error(reply, 415, "unsupported_media_type", "POST /v1/bookings with Content-Type: text/plain")


@scenario()
def test_malformed_json_is_400_invalid_request(world: World) -> None:
    """A body that is not JSON is 400 invalid_request, not a 500."""
    reply = world.post("/v1/bookings", content=b'{"room_id": "rm_studio",', headers={"Content-Type": "application/json", "Idempotency-Key": new_key()})
    expect_error(reply, 400, "invalid_request", "POST /v1/bookings with truncated JSON")


@scenario()
def test_non_utf8_json_is_400_invalid_request(world: World) -> None:
    """A JSON body that is not UTF-8 is 400 invalid_request, not a 500."""
    reply = world.post("/v1/bookings", content=b'{"notes": "caf\xe9 \xff\xfe"}', headers={"Content-Type": "application/json", "Idempotency-Key": new_key()})
    expect_error(reply, 400, "invalid_request", "POST /v1/bookings with Latin-1 bytes in the JSON")


@scenario()
def test_body_over_1_mb_is_413_payload_too_large(world: World) -> None:
    """A body over 1 MB is 413 payload_too_large."""
    body = world.booking_body()
    body["notes"] = "x" * (1024 * 1024 + 16)
    reply = world.post("/v1/bookings", body, headers={"Idempotency-Key": new_key()})
    expect_error(reply, 413, "payload_too_large", "POST /v1/bookings with a 1 MB body")


@scenario()
def test_schema_violation_is_400_invalid_request_naming_the_field(world: World) -> None:
    """A body field of the wrong type, or an unknown field, is 400 invalid_request with `param`."""
    body = world.booking_body()
    expect_error(world.create({**body, "attendees": "four"}), 400, "invalid_request", "attendees: \"four\"", param="attendees")
    expect_error(world.create({**body, "colour": "red"}), 400, "invalid_request", "unknown field colour")


@scenario()
def test_misaligned_slot_is_422_slot_misaligned(world: World) -> None:
    """A start off the room's slot grid is 422 slot_misaligned naming start_at."""
    room = world.room()
    start, end = world.slots.take(room, room.slot_minutes * 2)
    body = world.booking_body(room, slot=(start + timedelta(minutes=1), end))
    expect_error(world.create(body), 422, "slot_misaligned", f"start {iso(start + timedelta(minutes=1))} on a {room.slot_minutes}-minute grid", param="start_at")


@scenario()
def test_taken_slot_is_409_slot_unavailable(world: World) -> None:
    """A slot held by a pending booking is 409 slot_unavailable for anyone else."""
    body = world.booking_body()
    first = world.create(body)
    expect(first.status == 201, f"the first booking of a free slot must be 201, got {first.status}", first)
    expect_error(world.create(body), 409, "slot_unavailable", "booking the same slot again with a new key")


@scenario()
def test_slot_outside_opening_hours_is_409_slot_unavailable(world: World) -> None:
    """A slot outside the room's opening hours is 409 slot_unavailable."""
    room = next((r for r in world.rooms() if r.opens_at != "00:00"), None)
    if room is None:
        raise ScenarioSkipped("every room of TOKEN's workspace opens at 00:00, so no slot lies before opening time")
    start, _ = world.slots.take(room, room.slot_minutes)
    midnight = start.replace(hour=0, minute=0)
    body = world.booking_body(room, slot=(midnight, midnight + timedelta(minutes=room.slot_minutes)))
    expect_error(world.create(body), 409, "slot_unavailable", f"{room.id} at 00:00 (opens {room.opens_at})")


@scenario()
def test_start_in_the_past_is_400_naming_start_at(world: World) -> None:
    """A start in the past is 400 invalid_request naming start_at."""
    room = world.room()
    past = (world.now() - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    body = world.booking_body(room, slot=(past, past + timedelta(minutes=room.slot_minutes * 2)))
    expect_error(world.create(body), 400, "invalid_request", f"start_at {iso(past)}", param="start_at")


@scenario()
def test_end_not_after_start_is_400_invalid_request(world: World) -> None:
    """An end at or before the start is 400 invalid_request."""
    room = world.room()
    start, _ = world.slots.take(room, room.slot_minutes * 2)
    body = world.booking_body(room, slot=(start, start))
    expect_error(world.create(body), 400, "invalid_request", "end_at == start_at")


@scenario()
def test_attendees_over_capacity_is_400_naming_attendees(world: World) -> None:
    """More attendees than the room holds is 400 invalid_request naming attendees."""
    room = world.room()
    body = world.booking_body(room, attendees=room.capacity + 1)
    expect_error(world.create(body), 400, "invalid_request", f"{room.capacity + 1} attendees in a room for {room.capacity}", param="attendees")


@scenario(Need.NOSTRIPE_TOKEN)
def test_workspace_without_stripe_is_412_stripe_unconfigured(world: World) -> None:
    """Creating a booking in a workspace without Stripe onboarding is 412 stripe_unconfigured."""
    rooms = world.get("/v1/rooms", token=world.nostripe_token)
    expect(rooms.status == 200 and rooms.json()["data"], "NOSTRIPE_TOKEN's workspace must list at least one room", rooms)
    room = rooms.json()["data"][0]
    day = (world.now() + timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
    hour, minute = map(int, room["opening_hours"]["opens_at"].split(":"))
    start = day + timedelta(hours=hour, minutes=minute)
    body = {"room_id": room["id"], "start_at": iso(start), "end_at": iso(start + timedelta(minutes=room["slot_minutes"])),
            "booked_by": {"guest": {"email": "conformance@example.com", "name": "Conformance Suite"}}}
    expect_error(world.create(body, token=world.nostripe_token), 412, "stripe_unconfigured", "POST /v1/bookings with NOSTRIPE_TOKEN")


@scenario()
def test_unknown_room_in_a_create_or_patch_gets_a_documented_error(world: World) -> None:
    """Naming a room that does not exist in a create or PATCH is answered with an error status the operation documents."""
    body = {**world.booking_body(), "room_id": UNKNOWN_ROOM}
    booking = world.booking()
    for method, path, reply in (
        ("POST", "/v1/bookings", world.create(body)),
        ("PATCH", "/v1/bookings/{id}", world.patch(f"/v1/bookings/{booking['id']}", {"room_id": UNKNOWN_ROOM})),
    ):
        operation = world.contract.operation(method, path.replace("{id}", booking["id"]))
        documented = sorted(int(s) for s in (operation.responses if operation else {}) if s.isdigit() and int(s) >= 400)
        expect(reply.status in documented,
               f"{method} {path} with room_id {UNKNOWN_ROOM} answered {reply.status} {reply.error_code}; "
               f"the contract documents only {documented} for this operation", reply)
        problems = envelope_problems(reply.status, reply.headers, reply.body)
        expect(not problems, f"{method} {path}: " + "; ".join(problems), reply)
