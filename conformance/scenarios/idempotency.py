"""Idempotency: replays are exact and flagged, conflicts are refused, keys are required, scoped and race-safe."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from conformance.scenario import Need, RuleBroken, expect, expect_error, expect_status, scenario
from conformance.world import World, new_key, parse_instant

AREA = "idempotency"
CONCURRENT_CREATES = 8
# Long enough for a second request to arrive while the first is held, short enough not to drag.
PROCESSING_DELAY_MS = 1200
# Headers a replay must repeat; request-specific ones (X-Request-Id, rate-limit state, Date) differ.
REPLAYED_HEADERS = ("location", "content-type")


def _same_replay(first, again, what: str) -> None:  # type: ignore[no-untyped-def]
    expect(again.status == first.status, f"{what}: the replay answered {again.status}, the original {first.status}", again)
    expect(again.header("idempotent-replayed") == "true", f"{what}: a replay must carry Idempotent-Replayed: true (got {again.header('idempotent-replayed')!r})", again)
    expect(first.header("idempotent-replayed") is None, f"{what}: the first execution must not carry Idempotent-Replayed", first)
    expect(again.json() == first.json(), f"{what}: the replayed body differs from the original", again)
    for name in REPLAYED_HEADERS:
        expect(again.header(name) == first.header(name), f"{what}: replayed {name} {again.header(name)!r} != original {first.header(name)!r}", again)


def _without_request_id(error: dict) -> dict:  # type: ignore[type-arg]
    return {k: v for k, v in error.items() if k != "request_id"}


@scenario()
def test_replay_returns_the_same_status_body_and_id_with_idempotent_replayed_true(world: World) -> None:
    """Retrying a create with the same key and body returns the stored 201 and body, flagged, and creates nothing."""
    body = world.booking_body()
    key = new_key()
    first = expect_status(world.create(body, key=key), 201, "first create")
    again = world.create(body, key=key)
    _same_replay(first, again, "create replayed with the same key and body")
    listing = world.get("/v1/bookings", params={"from": body["start_at"], "to": body["end_at"], "room_id": body["room_id"], "limit": 200})
    ids = [b["id"] for b in listing.json()["data"] if b["start_at"] == body["start_at"]]
    expect(ids == [first.json()["id"]], f"after a replay the slot must hold exactly the one booking, found {ids}", listing)


@scenario()
def test_same_key_with_another_body_is_409_idempotency_conflict(world: World) -> None:
    """Reusing a key with a different body is 409 idempotency_conflict and creates nothing."""
    key = new_key()
    body = world.booking_body()
    expect_status(world.create(body, key=key), 201, "first create")
    other = world.booking_body()
    expect_error(world.create(other, key=key), 409, "idempotency_conflict", "same key, different slot", param="Idempotency-Key")
    after = world.create(other)
    expect(after.status == 201, f"the conflicting request must not have booked its slot; booking it now got {after.status}", after)


@scenario()
def test_create_without_a_key_is_400_naming_idempotency_key(world: World) -> None:
    """A create with no Idempotency-Key header and no body key is 400 invalid_request naming Idempotency-Key."""
    body = world.booking_body()
    expect_error(world.create(body, key=False), 400, "invalid_request", "POST /v1/bookings without a key", param="Idempotency-Key")
    after = world.create(body)
    expect(after.status == 201, f"the refused keyless create must not hold the slot; creating it with a key got {after.status}", after)


@scenario()
def test_key_in_the_body_works_like_the_header(world: World) -> None:
    """idempotency_key in the body makes the create replayable exactly like the header does."""
    body = {**world.booking_body(), "idempotency_key": new_key()}
    first = expect_status(world.create(body, key=False), 201, "create with the key in the body")
    _same_replay(first, world.create(body, key=False), "body-key create replayed")


@scenario()
def test_header_and_body_keys_that_differ_are_400(world: World) -> None:
    """Sending the header and the body key with different values is 400 invalid_request."""
    body = {**world.booking_body(), "idempotency_key": new_key()}
    expect_error(world.create(body, key=new_key()), 400, "invalid_request", "Idempotency-Key header != body idempotency_key")
    same = world.create(body, key=body["idempotency_key"])
    expect(same.status == 201, f"header and body carrying the same key is a normal create; got {same.status}", same)


@scenario()
def test_replayed_business_error_stays_the_same_error_after_the_cause_is_gone(world: World) -> None:
    """A stored 409 slot_unavailable replays as the same 409 even after the slot was freed."""
    holder = world.booking()
    body = world.booking_body(world.room(holder["room"]["id"]), slot=(parse_instant(holder["start_at"]), parse_instant(holder["end_at"])))
    key = new_key()
    first = expect_error(world.create(body, key=key), 409, "slot_unavailable", "booking a held slot")
    expect_status(world.post(f"/v1/bookings/{holder['id']}/cancel", {"reason": "other"}), 200, "cancelling the holder")
    again = world.create(body, key=key)
    expect(again.status == 409 and again.error_code == "slot_unavailable",
           f"the stored 409 must be replayed, not re-executed now that the slot is free; got {again.status} {again.error_code}", again)
    expect(again.header("idempotent-replayed") == "true", "a replayed 409 must carry Idempotent-Replayed: true", again)
    expect(_without_request_id(again.error) == _without_request_id(first.error),
           f"the replayed error must be the stored one: {first.error} then {again.error}", again)


@scenario()
def test_rejected_validation_is_not_stored_so_a_corrected_retry_executes(world: World) -> None:
    """A 400 is not stored: the same key with a corrected body creates the booking."""
    body = world.booking_body()
    key = new_key()
    expect_error(world.create({**body, "attendees": 0}, key=key), 400, "invalid_request", "attendees: 0")
    corrected = world.create(body, key=key)
    expect(corrected.status == 201, f"a corrected retry with the key of a 400 must execute; got {corrected.status} {corrected.error_code}", corrected)
    expect(corrected.header("idempotent-replayed") is None, "the corrected retry is a first execution, not a replay", corrected)


@scenario()
def test_patch_replay_returns_the_stored_response(world: World) -> None:
    """A PATCH retried with the same key and body replays the stored 200; another body is a conflict."""
    booking = world.booking()
    key = new_key()
    path = f"/v1/bookings/{booking['id']}"
    first = expect_status(world.patch(path, {"notes": "first"}, headers={"Idempotency-Key": key}), 200, "PATCH with a key")
    _same_replay(first, world.patch(path, {"notes": "first"}, headers={"Idempotency-Key": key}), "PATCH replayed")
    expect_error(world.patch(path, {"notes": "second"}, headers={"Idempotency-Key": key}), 409, "idempotency_conflict",
                 "PATCH with the same key and other notes")


@scenario(Need.OTHER_TOKEN)
def test_keys_are_scoped_to_the_workspace(world: World) -> None:
    """The same key used by another workspace is a fresh request there, not a replay or a conflict."""
    key = new_key()
    mine = expect_status(world.create(world.booking_body(), key=key), 201, "create in TOKEN's workspace")
    rooms = world.get("/v1/rooms", token=world.other_token)
    expect(rooms.status == 200 and rooms.json()["data"], "OTHER_TOKEN's workspace must list a room", rooms)
    room = rooms.json()["data"][0]
    body = dict(json.loads(mine.request_body))
    body["room_id"] = room["id"]
    theirs = world.create(body, key=key, token=world.other_token)
    expect(theirs.status in (201, 409, 422), f"other workspace create answered {theirs.status}", theirs)
    expect(theirs.header("idempotent-replayed") is None, "another workspace got a replay of TOKEN's response: keys leak across workspaces", theirs)
    expect(theirs.error_code != "idempotency_conflict", "another workspace got idempotency_conflict: keys leak across workspaces", theirs)
    if theirs.status == 201:
        expect(theirs.json()["id"] != mine.json()["id"], "both workspaces got the same booking id", theirs)


@scenario()
def test_concurrent_creates_with_one_key_make_one_booking(world: World) -> None:
    """Eight simultaneous creates with one key make exactly one booking; the rest replay it or are told it is in progress."""
    body = world.booking_body()
    key = new_key()
    # A burst that meets an empty bucket would turn into 429s and then offences against the key.
    world.deployment.pacer(world.settings.token).make_room(CONCURRENT_CREATES)
    clients = [httpx.Client(timeout=world.settings.timeout_s) for _ in range(CONCURRENT_CREATES)]
    try:
        with ThreadPoolExecutor(CONCURRENT_CREATES) as pool:
            replies = list(pool.map(lambda c: world.create(body, key=key, client=c), clients))
    finally:
        for client in clients:
            client.close()
    ids = {r.json()["id"] for r in replies if r.status == 201}
    statuses = sorted((r.status, r.error_code or "") for r in replies)
    expect(len(ids) == 1, f"{CONCURRENT_CREATES} concurrent creates with one key produced bookings {sorted(ids)} ({statuses})", replies[-1])
    odd = [r for r in replies if not (r.status == 201 or r.error_code == "idempotency_in_progress")]
    expect(not odd, f"concurrent same-key creates must be 201 (original or replay) or 409 idempotency_in_progress; got {statuses}",
           odd[0] if odd else None)
    listing = world.get("/v1/bookings", params={"from": body["start_at"], "to": body["end_at"], "room_id": body["room_id"], "limit": 200})
    held = [b["id"] for b in listing.json()["data"] if b["start_at"] == body["start_at"] and b["status"] != "cancelled"]
    expect(held == list(ids), f"the slot must hold exactly the one booking; the listing shows {held}", listing)


@scenario(Need.CONTROL)
def test_same_key_while_the_first_is_executing_is_409_idempotency_in_progress(world: World) -> None:
    """A retry that arrives while the first request with its key is still executing is 409 idempotency_in_progress."""
    assert world.control is not None
    workspace = world.control.workspace_of(world.settings.token)
    if workspace is None:
        raise RuleBroken("the control API does not list TOKEN's workspace")
    world.control.configure_workspace(workspace.id, processing_delay_ms=PROCESSING_DELAY_MS)
    body = world.booking_body()
    key = new_key()
    try:
        with httpx.Client(timeout=world.settings.timeout_s) as client, ThreadPoolExecutor(1) as pool:
            pending = pool.submit(world.create, body, key=key, client=client)
            time.sleep(PROCESSING_DELAY_MS / 4000)
            second = world.create(body, key=key)
            first = pending.result(timeout=world.settings.timeout_s + PROCESSING_DELAY_MS / 1000)
    finally:
        world.control.configure_workspace(workspace.id, processing_delay_ms=0)
    expect_error(second, 409, "idempotency_in_progress", "same key while the first create is held", param="Idempotency-Key")
    expect(first.status == 201, f"the held create must finish with 201; got {first.status} {first.error_code}", first)
    _same_replay(first, world.create(body, key=key), "create replayed once the first finished")
