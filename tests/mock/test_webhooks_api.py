"""Webhook delivery through the control API: signed as the docs verify it, every event, retries with
backoff, a receiver that goes down and comes back, per-booking order under concurrency, redelivery.

Signatures are checked here with Python's own `hmac` (never the mock's `sign`), and payloads against
the bundled contract's `webhooks` schemas. Receivers are real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.webhook_receiver import ReceivedDelivery, WebhookReceiver
from mock_server.domain.backend import Backend
from mock_server.domain.clock import MockClock

from .conftest import NOW, RW, assert_error, booking_body, create

pytestmark = pytest.mark.anyio

SECRET = "whsec_testSecret123"
BUNDLE = Path(__file__).resolve().parents[2] / "dist" / "openapi.json"
FAST = {"max_attempts": 5, "base_delay_ms": 20, "max_delay_ms": 200, "timeout_ms": 2000}


@pytest.fixture(scope="module")
def webhook_schemas() -> dict[str, Draft202012Validator]:
    document = json.loads(BUNDLE.read_text(encoding="utf-8"))
    registry = Registry().with_resource("urn:bundle", Resource(contents=document, specification=DRAFT202012))
    return {
        name: Draft202012Validator(
            {"$ref": f"urn:bundle#/webhooks/{name}/post/requestBody/content/application~1json/schema"},
            registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        for name in document["webhooks"]
    }


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
async def webhooks(app):
    """The app's dispatcher, stopped after the test so no delivery outlives its event loop."""
    yield app.webhooks
    await app.webhooks.aclose()


async def register(client, receiver, workspace="ws_demo", **settings):
    response = await client.put(f"/_mock/workspaces/{workspace}/webhook", json={"url": receiver.url, "secret": SECRET, **FAST, **settings})
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(condition, timeout_s: float = 5.0, what: str = "condition"):
    """Let the dispatcher run (it shares this event loop) until `condition()` holds; bounded."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.01)


def settled(dispatcher, workspace: str = "ws_demo") -> bool:
    """Every delivery of the workspace has ended (the receiver keeps a delivery before the mock reads its answer)."""
    deliveries = dispatcher.backend.webhooks.deliveries_of(workspace)
    return bool(deliveries) and all(d.status.value != "pending" for d in deliveries)


def acknowledged(receiver: WebhookReceiver) -> list[ReceivedDelivery]:
    return [d for d in receiver.received if 200 <= d.answered < 300]


def events(deliveries: list[ReceivedDelivery]) -> list[dict]:
    return [json.loads(d.body) for d in deliveries]


def expected_signature(secret: str, body: bytes) -> str:
    # What the docs' Node sample computes: createHmac('sha256', secret).update(rawBody).digest('hex').
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def first_arrivals_by_booking(deliveries: list[ReceivedDelivery]) -> dict[str, list[str]]:
    """booking id → event types in the order each event id first arrived."""
    seen: set[str] = set()
    order: dict[str, list[str]] = defaultdict(list)
    for event in events(deliveries):
        if event["id"] not in seen:
            seen.add(event["id"])
            order[event["data"]["object"]["id"]].append(event["type"])
    return order


# -- endpoint -------------------------------------------------------------------------------------


async def test_register_webhook_without_secret_generates_one_and_get_returns_it(client, receiver, webhooks):
    made = (await client.put("/_mock/workspaces/ws_demo/webhook", json={"url": receiver.url})).json()
    assert made["secret"].startswith("whsec_") and len(made["secret"]) > 20
    assert made["max_attempts"] == 10 and made["base_delay_ms"] == 1000 and made["timeout_ms"] == 10000
    assert (await client.get("/_mock/workspaces/ws_demo/webhook")).json() == made
    # Registering again without a secret keeps it.
    again = (await client.put("/_mock/workspaces/ws_demo/webhook", json={"url": receiver.url + "/v2"})).json()
    assert again["secret"] == made["secret"] and again["url"].endswith("/v2")


async def test_webhook_endpoint_errors(client, webhooks):
    assert_error(await client.get("/_mock/workspaces/ws_demo/webhook"), 404, "webhook_not_found")
    assert_error(await client.delete("/_mock/workspaces/ws_demo/webhook"), 404, "webhook_not_found")
    assert_error(await client.get("/_mock/workspaces/ws_nope/webhook"), 404, "workspace_not_found")
    assert_error(await client.put("/_mock/workspaces/ws_demo/webhook", json={"url": "ftp://x"}), 400, "invalid_request", "url")
    assert_error(await client.put("/_mock/workspaces/ws_demo/webhook", json={"url": "http://127.0.0.1:9/", "secret": "sk_nope"}),
                 400, "invalid_request", "secret")
    assert_error(await client.put("/_mock/workspaces/ws_demo/webhook", json={"url": "http://127.0.0.1:9/", "max_attempts": 0}),
                 400, "invalid_request", "max_attempts")
    assert_error(await client.post("/_mock/events/evt_nope/redeliver"), 404, "event_not_found")


async def test_no_endpoint_means_no_delivery_work_at_all(client, app, webhooks):
    await create(client)
    assert webhooks.pending == 0 and webhooks._lanes == {}
    assert app.backend.webhooks.deliveries_of("ws_demo") == []


# -- signing and payloads -------------------------------------------------------------------------


async def test_deliveries_are_signed_as_the_docs_node_sample_verifies_and_match_the_contract(client, receiver, webhooks, webhook_schemas):
    await register(client, receiver)
    booking = (await create(client)).json()
    await eventually(lambda: acknowledged(receiver), what="booking.created")
    delivery = acknowledged(receiver)[0]
    assert delivery.header("LiteHQ-Signature") == expected_signature(SECRET, delivery.body)
    assert hmac.compare_digest(delivery.header("LiteHQ-Signature"), expected_signature(SECRET, delivery.body))
    event = json.loads(delivery.body)
    assert delivery.header("LiteHQ-Event-Id") == event["id"] and delivery.header("LiteHQ-Event-Type") == event["type"] == "booking.created"
    assert delivery.header("Content-Type") == "application/json" and delivery.path == "/webhooks/litehq"
    assert list(webhook_schemas["booking.created"].iter_errors(event)) == []
    assert event["data"]["object"] == booking
    # The control API's event log carries exactly the delivered body.
    logged = (await client.get("/_mock/workspaces/ws_demo/events")).json()["data"]
    assert logged == [event]


async def test_a_wrong_secret_does_not_verify(client, receiver, webhooks):
    await register(client, receiver)
    await create(client)
    await eventually(lambda: acknowledged(receiver))
    delivery = acknowledged(receiver)[0]
    assert delivery.header("LiteHQ-Signature") != expected_signature("whsec_other", delivery.body)


async def test_all_seven_events_fire_at_their_transitions_including_clock_driven_ones(client, receiver, webhooks, webhook_schemas):
    await register(client, receiver)
    paid = (await create(client, start="2026-05-22T10:00:00Z", end="2026-05-22T11:00:00Z")).json()
    unpaid = (await create(client, start="2026-05-22T12:00:00Z", end="2026-05-22T13:00:00Z")).json()
    cancelled = (await create(client, start="2026-05-22T14:00:00Z", end="2026-05-22T15:00:00Z")).json()
    assert (await client.patch(f"/v1/bookings/{cancelled['id']}", headers=RW, json={"attendees": 3})).status_code == 200
    assert (await client.post(f"/v1/bookings/{cancelled['id']}/cancel", headers=RW, json={})).status_code == 200
    assert (await client.post(f"/_mock/bookings/{paid['id']}/checkout/complete")).status_code == 200
    # The clock passes the unpaid hold's expiry (09:30) and the paid booking's start, then its end.
    await client.put("/_mock/clock", json={"now": "2026-05-22T10:15:00Z"})
    assert (await client.post(f"/_mock/bookings/{paid['id']}/no-show")).status_code == 200
    await client.post("/_mock/clock/advance", json={"seconds": 3600})
    expected = {
        paid["id"]: ["booking.created", "booking.confirmed", "booking.no_show", "booking.completed"],
        unpaid["id"]: ["booking.created", "booking.expired"],
        cancelled["id"]: ["booking.created", "booking.updated", "booking.cancelled"],
    }
    await eventually(lambda: len(acknowledged(receiver)) == 9, what="nine events")
    assert dict(first_arrivals_by_booking(acknowledged(receiver))) == expected
    for delivery in acknowledged(receiver):
        event = json.loads(delivery.body)
        assert delivery.header("LiteHQ-Signature") == expected_signature(SECRET, delivery.body)
        assert list(webhook_schemas[event["type"]].iter_errors(event)) == [], event["type"]
    by_type = {e["type"]: e for e in events(acknowledged(receiver))}
    assert by_type["booking.expired"]["created_at"] == unpaid["expires_at"]  # stamped with its due time
    assert by_type["booking.completed"]["data"]["object"]["status"] == "completed"
    assert by_type["booking.no_show"]["data"]["object"]["no_show_at"] == "2026-05-22T10:15:00Z"


async def test_the_fixtures_own_events_are_logged_not_delivered(clock, documents):
    from mock_server.app import create_app

    fixture_with_booking = {
        "workspaces": [{
            "id": "ws_demo", "name": "Demo", "currency": "GBP", "stripe_onboarded": True,
            "tokens": [{"token": "sk_test_demo_rw", "scopes": ["calendar:read", "calendar:write"]}],
            "members": [{"id": "mem_alice", "name": "Alice", "email": "a@example.com"}],
            "rooms": [{"id": "rm_studio", "name": "Studio", "tier": "studio", "capacity": 8, "slot_minutes": 30,
                       "opening_hours": {"opens_at": "08:00", "closes_at": "22:00"}, "price_per_hour_minor": 5600}],
            "bookings": [{"room_id": "rm_studio", "start_at": "2026-05-23T10:00:00Z", "end_at": "2026-05-23T11:00:00Z",
                          "booked_by": {"member_id": "mem_alice"}}],
        }]
    }
    with WebhookReceiver() as receiver:
        backend = Backend(fixture=fixture_with_booking, clock=clock, seed=3, webhook_url=receiver.url, webhook_secret=SECRET)
        app = create_app(backend=backend, documents=documents)
        try:
            assert backend.events_of("ws_demo")
            assert backend.webhooks.deliveries_of("ws_demo") == []
            app.webhooks.start()
            await asyncio.sleep(0.1)
            assert receiver.received == []
        finally:
            await app.webhooks.aclose()


# -- retries, backoff, failure --------------------------------------------------------------------


async def test_failing_receiver_is_retried_with_exponential_backoff_until_it_acknowledges(client, receiver, webhooks):
    await register(client, receiver, base_delay_ms=50, max_delay_ms=1000)
    receiver.fail_next(3, status=503)
    await create(client)
    await eventually(lambda: acknowledged(receiver), what="the fourth attempt")
    arrivals = [d.received_at for d in receiver.received]
    assert [d.answered for d in receiver.received] == [503, 503, 503, 200]
    assert len({d.body for d in receiver.received}) == 1  # every retry repeats the body byte for byte
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    for gap, planned in zip(gaps, (0.05, 0.1, 0.2), strict=True):
        assert planned * 0.9 <= gap < planned + 0.5, (gaps, "backoff must double: 50, 100, 200 ms")

    await eventually(lambda: settled(webhooks), what="the mock to note the acknowledgement")
    delivery = (await client.get("/_mock/workspaces/ws_demo/deliveries")).json()["data"][0]
    assert delivery["status"] == "succeeded" and delivery["event_type"] == "booking.created"
    attempts = delivery["attempts"]
    assert [(a["number"], a["outcome"], a["response_status"]) for a in attempts] == [
        (1, "failed", 503), (2, "failed", 503), (3, "failed", 503), (4, "succeeded", 200)]
    assert all(a["latency_ms"] >= 0 and a["url"] == receiver.url for a in attempts)
    assert attempts[0]["error"] == "HTTP 503 is not a 2xx acknowledgement" and attempts[3]["error"] is None
    planned = [datetime.fromisoformat(a["next_retry_at"]) - datetime.fromisoformat(a["attempted_at"]) for a in attempts[:3]]
    for waited, delay in zip(planned, (0.05, 0.1, 0.2), strict=True):
        assert delay <= waited.total_seconds() < delay + 0.5, planned
    assert attempts[3]["next_retry_at"] is None and delivery["next_attempt_at"] is None


async def test_delivery_fails_after_max_attempts_and_the_bookings_next_event_still_goes(client, receiver, webhooks):
    await register(client, receiver, max_attempts=2, base_delay_ms=10)
    receiver.fail_next(2, status=500)
    booking = (await create(client)).json()
    await client.patch(f"/v1/bookings/{booking['id']}", headers=RW, json={"notes": "second event"})
    await eventually(lambda: acknowledged(receiver) and settled(webhooks), what="the update")
    assert [json.loads(d.body)["type"] for d in receiver.received] == ["booking.created", "booking.created", "booking.updated"]
    failed = (await client.get("/_mock/workspaces/ws_demo/deliveries", params={"status": "failed"})).json()["data"]
    assert len(failed) == 1 and failed[0]["event_type"] == "booking.created"
    assert failed[0]["failure"] == "not acknowledged after 2 attempts" and len(failed[0]["attempts"]) == 2


async def test_an_unanswered_attempt_times_out_and_is_retried(client, receiver, webhooks):
    await register(client, receiver, timeout_ms=200, base_delay_ms=10)
    receiver.answer_slowly(1.0)
    await create(client)
    await eventually(lambda: (d := webhooks.backend.webhooks.deliveries_of("ws_demo")) and len(d[0].attempts) >= 1, what="a timed-out attempt")
    receiver.answer_slowly(0)
    await eventually(lambda: webhooks.backend.webhooks.deliveries_of("ws_demo")[0].status.value == "succeeded", what="the retry")
    first = webhooks.backend.webhooks.deliveries_of("ws_demo")[0].attempts[0]
    assert first.response_status is None and first.error == "no answer within 0.2 s" and 150 <= first.latency_ms < 900


async def test_api_responses_never_wait_for_a_slow_receiver(client, receiver, webhooks):
    await register(client, receiver, timeout_ms=5000)
    receiver.answer_slowly(1.5)
    started = time.perf_counter()
    for hour in (10, 11, 12, 13, 14):
        assert (await create(client, start=f"2026-05-23T{hour}:00:00Z", end=f"2026-05-23T{hour}:30:00Z")).status_code == 201
    assert time.perf_counter() - started < 1.0
    receiver.answer_slowly(0)


async def test_receiver_down_then_up_loses_nothing_and_keeps_each_bookings_order(client, receiver, webhooks):
    await register(client, receiver, max_attempts=20, base_delay_ms=20, max_delay_ms=100)
    receiver.stop()
    made = []
    for hour in (10, 11, 12):
        booking = (await create(client, start=f"2026-05-23T{hour}:00:00Z", end=f"2026-05-23T{hour}:30:00Z")).json()
        await client.patch(f"/v1/bookings/{booking['id']}", headers=RW, json={"attendees": 2})
        await client.post(f"/_mock/bookings/{booking['id']}/checkout/complete")
        made.append(booking["id"])
    await asyncio.sleep(0.4)  # several refused attempts each
    refused = webhooks.backend.webhooks.deliveries_of("ws_demo", status="pending")
    assert refused and all(d.attempts and d.attempts[-1].response_status is None for d in refused if d.attempts)
    assert any("could not connect" in (a.error or "") for d in refused for a in d.attempts)
    receiver.start()  # same port
    await eventually(lambda: len(acknowledged(receiver)) == 9 and settled(webhooks), timeout_s=10,
                     what="all nine events after the receiver came back")
    order = first_arrivals_by_booking(acknowledged(receiver))
    assert {b: order[b] for b in made} == {b: ["booking.created", "booking.updated", "booking.confirmed"] for b in made}
    assert all(d.status.value == "succeeded" for d in webhooks.backend.webhooks.deliveries_of("ws_demo"))


async def test_registering_the_endpoint_again_retries_waiting_deliveries_at_once(client, receiver, webhooks):
    with WebhookReceiver() as elsewhere:
        await register(client, receiver, base_delay_ms=60_000, max_delay_ms=60_000)
        receiver.fail_next(1)
        await create(client)
        await eventually(lambda: receiver.received, what="the first, failed attempt")
        await register(client, elsewhere, base_delay_ms=60_000, max_delay_ms=60_000)
        await eventually(lambda: acknowledged(elsewhere), timeout_s=3, what="the retry at the new endpoint")


async def test_concurrent_bookings_keep_per_booking_order(client, receiver, webhooks):
    await register(client, receiver)
    # The receiver answers after random pauses, so deliveries overtake each other unless each
    # booking's events wait for the one before.
    jitter = random.Random(7)
    receiver.answer_with(lambda d: time.sleep(jitter.uniform(0, 0.008)) or 200)

    async def lifecycle(index: int) -> str:
        day, minute = divmod(index, 20)
        start = f"2026-05-{24 + day}T{8 + minute // 2:02d}:{30 * (minute % 2):02d}:00Z"
        end = f"2026-05-{24 + day}T{8 + (minute + 1) // 2:02d}:{30 * ((minute + 1) % 2):02d}:00Z"
        created = await create(client, start=start, end=end)
        assert created.status_code == 201, created.text
        booking_id = created.json()["id"]
        await client.patch(f"/v1/bookings/{booking_id}", headers=RW, json={"notes": f"n{index}"})
        await client.post(f"/_mock/bookings/{booking_id}/checkout/complete")
        await client.post(f"/v1/bookings/{booking_id}/cancel", headers=RW, json={})
        return booking_id

    ids = await asyncio.gather(*(lifecycle(i) for i in range(24)))
    await eventually(lambda: len(acknowledged(receiver)) == 96, timeout_s=15, what="96 events")
    order = first_arrivals_by_booking(acknowledged(receiver))
    assert all(order[b] == ["booking.created", "booking.updated", "booking.confirmed", "booking.cancelled"] for b in ids)


# -- redelivery, removal, reset -------------------------------------------------------------------


async def test_redeliver_sends_the_same_event_again_with_the_same_signature(client, receiver, webhooks):
    await register(client, receiver)
    await create(client)
    await eventually(lambda: acknowledged(receiver))
    event_id = acknowledged(receiver)[0].header("LiteHQ-Event-Id")
    response = await client.post(f"/_mock/events/{event_id}/redeliver")
    assert response.status_code == 202 and response.json()["redelivery"] is True and response.json()["status"] == "pending"
    await eventually(lambda: len(acknowledged(receiver)) == 2 and settled(webhooks), what="the redelivery")
    first, again = acknowledged(receiver)
    assert (first.body, first.header("LiteHQ-Signature")) == (again.body, again.header("LiteHQ-Signature"))
    listed = (await client.get("/_mock/workspaces/ws_demo/deliveries", params={"event_id": event_id})).json()["data"]
    assert [d["redelivery"] for d in listed] == [False, True] and all(d["status"] == "succeeded" for d in listed)


async def test_redeliver_an_event_logged_before_the_endpoint_existed(client, receiver, webhooks):
    await create(client)
    event_id = (await client.get("/_mock/workspaces/ws_demo/events")).json()["data"][0]["id"]
    assert_error(await client.post(f"/_mock/events/{event_id}/redeliver"), 409, "webhook_not_configured")
    await register(client, receiver)
    assert (await client.post(f"/_mock/events/{event_id}/redeliver")).status_code == 202
    await eventually(lambda: acknowledged(receiver))
    assert acknowledged(receiver)[0].header("LiteHQ-Event-Id") == event_id


async def test_removing_the_endpoint_fails_waiting_deliveries_and_stops_new_ones(client, receiver, webhooks):
    await register(client, receiver, base_delay_ms=60_000, max_delay_ms=60_000)
    receiver.fail_next(1)
    await create(client)
    await eventually(lambda: receiver.received)
    assert (await client.delete("/_mock/workspaces/ws_demo/webhook")).status_code == 204
    await eventually(lambda: webhooks.pending == 0, what="the waiting delivery to end")
    delivery = (await client.get("/_mock/workspaces/ws_demo/deliveries")).json()["data"][0]
    assert delivery["status"] == "failed" and delivery["failure"] == "the workspace's webhook endpoint was removed"
    await create(client, start="2026-05-23T16:00:00Z", end="2026-05-23T17:00:00Z")
    await asyncio.sleep(0.05)
    assert len(receiver.received) == 1 and webhooks.pending == 0


async def test_reset_drops_registered_endpoints_and_queued_deliveries(client, receiver, webhooks):
    await register(client, receiver, base_delay_ms=60_000, max_delay_ms=60_000)
    receiver.fail_next(1)
    await create(client)
    await eventually(lambda: receiver.received)
    assert (await client.post("/_mock/reset")).status_code == 204
    assert webhooks.pending == 0
    assert_error(await client.get("/_mock/workspaces/ws_demo/webhook"), 404, "webhook_not_found")
    assert (await client.get("/_mock/workspaces/ws_demo/deliveries")).json() == {"data": []}


async def test_an_endpoint_from_the_command_line_serves_every_workspace_and_survives_reset(documents):
    from mock_server.app import create_app

    with WebhookReceiver() as receiver:
        backend = Backend(clock=MockClock(NOW, frozen=True), seed=4, webhook_url=receiver.url, webhook_secret=SECRET)
        app = create_app(backend=backend, documents=documents, validate_responses=True)
        import httpx

        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
                for workspace in ("ws_demo", "ws_other", "ws_nostripe"):
                    assert (await client.get(f"/_mock/workspaces/{workspace}/webhook")).json()["url"] == receiver.url
                await client.post("/_mock/reset")
                assert (await client.get("/_mock/workspaces/ws_demo/webhook")).json()["secret"] == SECRET
                other = {"Authorization": "Bearer sk_test_other_rw", "Idempotency-Key": "k1"}
                body = booking_body(room="rm_otherstudio", booked_by={"guest": {"email": "g@example.com", "name": "G"}})
                assert (await client.post("/v1/bookings", headers=other, json=body)).status_code == 201
                await eventually(lambda: acknowledged(receiver))
                assert acknowledged(receiver)[0].header("LiteHQ-Signature") == expected_signature(SECRET, acknowledged(receiver)[0].body)
        finally:
            await app.webhooks.aclose()
        assert app.contract_violations == []


def test_delivery_times_use_the_wall_clock_not_the_frozen_mock_clock():
    backend = Backend(clock=MockClock(datetime(2030, 1, 1, tzinfo=UTC), frozen=True), seed=1)
    assert abs((backend.wall_clock.now() - datetime.now(UTC)).total_seconds()) < 5


@pytest.mark.parametrize(("argv", "message"), [
    (["--webhook-secret", "whsec_x"], "--webhook-secret (WEBHOOK_SECRET) needs --webhook-url"),
    (["--webhook-url", "ftp://nowhere"], "--webhook-url: url must be an absolute http:// or https:// URL."),
    (["--webhook-url", "http://127.0.0.1:9/", "--webhook-secret", "secret"], "--webhook-secret: secret must look like whsec_"),
    (["--webhook-url", "http://127.0.0.1:9/", "--webhook-attempts", "0"], "webhook options: max_attempts must be between 1 and 100"),
])
def test_command_line_webhook_options_are_checked_before_serving(argv, message, capsys):
    from mock_server.__main__ import main

    assert main(argv) == 2
    assert message in capsys.readouterr().err
