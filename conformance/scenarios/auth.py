"""Auth: bad tokens are 401 with WWW-Authenticate, read-only tokens cannot write, workspaces cannot see each other."""
from __future__ import annotations

import uuid

from conformance.scenario import Need, expect, expect_error, expect_status, scenario
from conformance.world import World, new_key

AREA = "auth"


@scenario(reads_only=True)
def test_missing_token_is_401_auth_invalid_with_www_authenticate(world: World) -> None:
    """A request without Authorization is 401 auth_invalid with WWW-Authenticate: Bearer."""
    for path in ("/v1/bookings", "/v1/rooms", "/v1/availability", "/v1/calendar.ics"):
        expect_error(world.get(path, token=None), 401, "auth_invalid", f"GET {path} without a token")


@scenario(reads_only=True)
def test_malformed_authorization_is_401_auth_invalid(world: World) -> None:
    """An Authorization header that is not `Bearer <key>` is 401 auth_invalid."""
    token = world.settings.token
    # (A bare "Bearer " with a trailing space cannot be sent: HTTP clients strip or refuse it.)
    for header in ("Bearer", token, f"Basic {token}", f"Bearer {token} extra", f"Bearer  {token}x", f"bearer{token}"):
        expect_error(world.get("/v1/bookings", authorization=header), 401, "auth_invalid", f"Authorization: {header[:18]}…")


@scenario(reads_only=True)
def test_unknown_token_is_401_auth_invalid(world: World) -> None:
    """A well-formed key the API never issued is 401 auth_invalid."""
    for token in (f"sk_test_{uuid.uuid4().hex}", f"sk_live_{uuid.uuid4().hex}"):
        expect_error(world.get("/v1/bookings", token=token), 401, "auth_invalid", f"Bearer {token[:12]}… (never issued)")


@scenario(Need.REVOKED_TOKEN, reads_only=True)
def test_revoked_token_is_401_auth_invalid(world: World) -> None:
    """A revoked key is 401 auth_invalid, for reads and writes alike."""
    expect_error(world.get("/v1/bookings", token=world.revoked_token), 401, "auth_invalid", "GET /v1/bookings with REVOKED_TOKEN")
    expect_error(world.get("/v1/calendar.ics", token=None, params={"token": world.revoked_token}), 401, "auth_invalid",
                 "GET /v1/calendar.ics?token=<revoked>")


@scenario(reads_only=True)
def test_authentication_is_checked_before_validation(world: World) -> None:
    """Without a token an invalid query is 401, not 400: auth runs before validation."""
    expect_error(world.get("/v1/bookings", token=None, params={"limit": 0}), 401, "auth_invalid", "GET /v1/bookings?limit=0 without a token")


@scenario(reads_only=True)
def test_token_in_query_is_accepted_only_by_the_calendar_feed(world: World) -> None:
    """?token= authenticates GET /v1/calendar.ics and nothing else."""
    feed = world.get("/v1/calendar.ics", token=None, params={"token": world.readonly_token or world.settings.token})
    expect_status(feed, 200, "GET /v1/calendar.ics?token=<read token>")
    listing = world.get("/v1/bookings", token=None, params={"token": world.settings.token})
    expect_error(listing, 401, "auth_invalid", "GET /v1/bookings?token=<token> (query tokens are for the feed only)")


@scenario(Need.READONLY_TOKEN, reads_only=True)
def test_read_only_token_can_read(world: World) -> None:
    """A calendar:read token reads bookings, rooms, availability and the feed."""
    for path in ("/v1/bookings", "/v1/rooms", "/v1/availability", "/v1/calendar.ics"):
        expect_status(world.get(path, token=world.readonly_token), 200, f"GET {path} with READONLY_TOKEN")


@scenario(Need.READONLY_TOKEN)
def test_read_only_token_cannot_create_a_booking(world: World) -> None:
    """POST /v1/bookings with a read-only token is 403 auth_scope_insufficient and holds no slot."""
    body = world.booking_body()
    expect_error(world.create(body, token=world.readonly_token), 403, "auth_scope_insufficient", "POST /v1/bookings with READONLY_TOKEN")
    after = world.create(body)
    expect(after.status == 201, f"the slot must still be free after the refused create; a read+write create got {after.status}", after)


@scenario(Need.READONLY_TOKEN)
def test_read_only_token_cannot_update_a_booking(world: World) -> None:
    """PATCH with a read-only token is 403 auth_scope_insufficient and changes nothing."""
    booking = world.booking()
    reply = world.patch(f"/v1/bookings/{booking['id']}", {"notes": "changed by a read-only token"}, token=world.readonly_token)
    expect_error(reply, 403, "auth_scope_insufficient", "PATCH /v1/bookings/{id} with READONLY_TOKEN")
    expect(world.fetch(booking["id"])["notes"] == booking["notes"], "a refused PATCH must not change the booking's notes", world.deployment.log.last)


@scenario(Need.READONLY_TOKEN)
def test_read_only_token_cannot_cancel_a_booking(world: World) -> None:
    """Cancelling with a read-only token is 403 auth_scope_insufficient and the booking stays as it was."""
    booking = world.booking()
    reply = world.post(f"/v1/bookings/{booking['id']}/cancel", {}, token=world.readonly_token)
    expect_error(reply, 403, "auth_scope_insufficient", "POST /v1/bookings/{id}/cancel with READONLY_TOKEN")
    expect(world.fetch(booking["id"])["status"] == booking["status"], "a refused cancel must not change the status", world.deployment.log.last)


@scenario(Need.READONLY_TOKEN)
def test_scope_is_checked_before_validation(world: World) -> None:
    """A read-only token sending an invalid body gets 403, not 400: scope runs before validation."""
    reply = world.post("/v1/bookings", {"room_id": 42}, token=world.readonly_token, headers={"Idempotency-Key": new_key()})
    expect_error(reply, 403, "auth_scope_insufficient", "POST /v1/bookings {room_id: 42} with READONLY_TOKEN")


@scenario(Need.OTHER_TOKEN)
def test_booking_of_another_workspace_is_404_for_get_patch_and_cancel(world: World) -> None:
    """Another workspace's booking is 404 booking_not_found (never 403) for every operation, and stays untouched."""
    booking = world.booking()
    path = f"/v1/bookings/{booking['id']}"
    expect_error(world.get(path, token=world.other_token), 404, "booking_not_found", "GET with OTHER_TOKEN")
    expect_error(world.patch(path, {"notes": "other workspace"}, token=world.other_token), 404, "booking_not_found", "PATCH with OTHER_TOKEN")
    expect_error(world.post(f"{path}/cancel", {}, token=world.other_token), 404, "booking_not_found", "cancel with OTHER_TOKEN")
    after = world.fetch(booking["id"])
    expect(after["status"] == booking["status"] and after["notes"] == booking["notes"],
           "operations refused as 404 must leave the booking untouched", world.deployment.log.last)


@scenario(Need.OTHER_TOKEN)
def test_bookings_of_another_workspace_are_not_listed(world: World) -> None:
    """Listings of one workspace never show another workspace's bookings."""
    booking = world.booking()
    window = {"from": booking["start_at"], "to": booking["end_at"]}
    reply = world.get("/v1/bookings", token=world.other_token, params={**window, "limit": 200})
    expect_status(reply, 200, "GET /v1/bookings with OTHER_TOKEN")
    leaked = [b["id"] for b in reply.json()["data"] if b["id"] == booking["id"]]
    expect(not leaked, f"OTHER_TOKEN's listing shows {booking['id']}, a booking of TOKEN's workspace", reply)
    feed = world.get("/v1/calendar.ics", token=world.other_token)
    expect_status(feed, 200, "GET /v1/calendar.ics with OTHER_TOKEN")
    expect(booking["id"].encode() not in feed.body, f"OTHER_TOKEN's calendar feed contains {booking['id']}", feed)
