"""Webhooks: every transition the suite can cause delivers its event, signed, valid, in order per booking.

The suite receives on a local port. Against a mock with the control API it listens on 127.0.0.1 and
registers that URL (with a fresh secret and quick retries) for TOKEN's workspace; against any other
deployment the operator registers a URL that reaches WEBHOOK_LISTEN and passes its WEBHOOK_SECRET.
Transitions that need the control API (payment, the clock, no-shows) are only expected where it is.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.http import Exchange
from conformance.scenario import Need, RuleBroken, ScenarioSkipped, expect, expect_status, scenario
from conformance.settings import parse_listen
from conformance.webhook_receiver import ReceivedDelivery, WebhookReceiver
from conformance.world import World, parse_instant

AREA = "webhooks"
EVENT_TYPES = ("booking.created", "booking.confirmed", "booking.updated", "booking.cancelled", "booking.expired",
               "booking.completed", "booking.no_show")
# What `data.object` must show right after each transition.
STATUS_AFTER = {"booking.created": "pending_payment", "booking.confirmed": "confirmed", "booking.cancelled": "cancelled",
                "booking.expired": "expired", "booking.completed": "completed"}
# Quick retries for the receiver the suite registers on a mock, so the retry check takes a second.
MOCK_RETRY = {"max_attempts": 8, "base_delay_ms": 100, "max_delay_ms": 1000, "timeout_ms": 5000}


@dataclass
class Session:
    """The area's receiver, what the suite did, and what it therefore expects to receive."""

    receiver: WebhookReceiver
    secret: str
    registered: bool
    expected: dict[str, list[str]] = field(default_factory=dict)  # booking id → event types, in order
    names: dict[str, str] = field(default_factory=dict)  # booking id → what the suite did with it
    complete: bool = False

    def events(self, deliveries: list[ReceivedDelivery] | None = None) -> list[tuple[ReceivedDelivery, dict[str, Any] | None]]:
        parsed = []
        for delivery in self.receiver.received if deliveries is None else deliveries:
            try:
                body = json.loads(delivery.body)
            except (ValueError, UnicodeDecodeError):
                body = None
            parsed.append((delivery, body if isinstance(body, dict) else None))
        return parsed

    def first_arrivals(self) -> dict[str, list[tuple[str, str, ReceivedDelivery]]]:
        """booking id → (event id, type, delivery) in the order each event id first arrived."""
        seen: set[str] = set()
        order: dict[str, list[tuple[str, str, ReceivedDelivery]]] = defaultdict(list)
        for delivery, event in self.events():
            booking_id = _booking_id(event)
            if event is None or booking_id is None or not isinstance(event.get("id"), str) or event["id"] in seen:
                continue
            seen.add(event["id"])
            order[booking_id].append((event["id"], str(event.get("type")), delivery))
        return order

    def missing(self) -> dict[str, list[str]]:
        arrived = self.first_arrivals()
        gaps = {}
        for booking_id, types in self.expected.items():
            got = [t for _, t, _ in arrived.get(booking_id, [])]
            lacking = [t for t in types if t not in got]
            if lacking:
                gaps[booking_id] = lacking
        return gaps


def _booking_id(event: dict[str, Any] | None) -> str | None:
    obj = ((event or {}).get("data") or {}).get("object") if isinstance((event or {}).get("data"), dict) else None
    return obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None


def as_exchange(delivery: ReceivedDelivery, receiver: WebhookReceiver) -> Exchange:
    """A delivery, shown in the report the way a request the suite sent is shown."""
    return Exchange(method="POST", url=receiver.url, path=f"{delivery.path}  (webhook delivery received by the suite)",
                    request_headers=delivery.headers, request_body=delivery.body, status=delivery.answered,
                    headers={"content-type": "text/plain"}, body=b"ok" if delivery.answered < 300 else b"not acknowledged",
                    elapsed_s=0.0, sent_at=0.0)


# -- setting up ---------------------------------------------------------------------------------
def _receiver(world: World) -> tuple[WebhookReceiver, str, bool]:
    settings = world.settings
    if world.webhook_receiver is not None:
        world.webhook_receiver.stop()
        world.webhook_receiver = None
    if settings.webhook_listen:
        host, port = parse_listen(settings.webhook_listen)
        receiver = WebhookReceiver(host, port, path="/")
        secret, registered = settings.webhook_secret or "", False
    elif world.may_drive_mock:
        receiver = WebhookReceiver("127.0.0.1", 0)
        secret, registered = "whsec_" + secrets.token_hex(16), True
    else:
        raise ScenarioSkipped(Need.WEBHOOKS.value)
    try:
        receiver.start()
    except OSError as exc:
        raise ScenarioSkipped(f"cannot listen on {receiver.host}:{receiver.port} for webhooks: {exc}") from None
    world.webhook_receiver = receiver
    if registered:
        assert world.control is not None
        workspace = world.control.workspace_of(settings.token)
        if workspace is None:
            raise ScenarioSkipped("the control API lists no workspace holding TOKEN, so the suite cannot register its receiver")
        world.control.set_webhook(workspace.id, receiver.url, secret, **MOCK_RETRY)
    return receiver, secret, registered


def session(world: World) -> Session:
    """Start receiving, cause every transition the suite can, and wait for their events (once per area)."""
    cached = world.cache.get(AREA)
    if isinstance(cached, Session):
        if not cached.complete:
            raise RuleBroken("setting up the webhook scenarios failed earlier in this area (see the first webhook scenario)")
        return cached
    receiver, secret, registered = _receiver(world)
    current = Session(receiver, secret, registered)
    world.cache[AREA] = current

    cancelled = world.booking()
    current.expected[cancelled["id"]], current.names[cancelled["id"]] = ["booking.created"], "created, updated, cancelled"
    expect_status(world.patch(f"/v1/bookings/{cancelled['id']}", {"notes": "webhook conformance: updated"}), 200, "PATCH notes")
    current.expected[cancelled["id"]].append("booking.updated")
    expect_status(world.post(f"/v1/bookings/{cancelled['id']}/cancel", {"reason": "other"}), 200, "cancel")
    current.expected[cancelled["id"]].append("booking.cancelled")

    if world.may_drive_mock:
        assert world.control is not None
        lived = world.booking()
        expiring = world.booking()
        current.names[lived["id"]] = "paid, marked no-show, completed"
        current.names[expiring["id"]] = "left unpaid until it expired"
        world.control.pay(lived["id"])
        current.expected[lived["id"]] = ["booking.created", "booking.confirmed"]
        world.control.set_clock(parse_instant(expiring["expires_at"]) + timedelta(seconds=1))
        world.fetch(expiring["id"])  # the transition fires on the next request at the latest
        current.expected[expiring["id"]] = ["booking.created", "booking.expired"]
        world.control.set_clock(parse_instant(lived["start_at"]) + timedelta(minutes=1))
        world.control.mark_no_show(lived["id"])
        current.expected[lived["id"]].append("booking.no_show")
        world.control.set_clock(parse_instant(lived["end_at"]) + timedelta(minutes=1))
        world.fetch(lived["id"])
        current.expected[lived["id"]].append("booking.completed")

    receiver.wait_until(lambda _: not current.missing(), timeout_s=world.settings.webhook_wait_s)
    current.complete = True
    return current


# -- scenarios ----------------------------------------------------------------------------------
@scenario(Need.WEBHOOKS)
def test_each_transition_delivers_its_event_at_least_once(world: World) -> None:
    """Every transition the suite causes (create, update, cancel; with the control API also pay, expiry, no-show, completion) delivers its booking.* event."""
    current = session(world)
    gaps = current.missing()
    _expect_deliveries(world, current)
    last = current.receiver.received[-1]
    expect(not gaps, "events never delivered within {:.0f}s: ".format(world.settings.webhook_wait_s) + "; ".join(
        f"{booking_id} ({current.names.get(booking_id, '')}): {', '.join(types)}" for booking_id, types in gaps.items()),
        as_exchange(last, current.receiver) if last else None)
    types = {t for booking_types in current.expected.values() for t in booking_types}
    if current.registered:
        expect(types == set(EVENT_TYPES), f"the suite should have caused all seven event types; it caused {sorted(types)}")


@scenario(Need.WEBHOOKS)
def test_events_of_each_booking_arrive_in_the_order_they_happened(world: World) -> None:
    """Per booking, events arrive in the order of their transitions (judged by each event's first arrival), and their created_at never goes back."""
    current = session(world)
    arrived = current.first_arrivals()
    for booking_id, expected in current.expected.items():
        got = arrived.get(booking_id, [])
        types = [t for _, t, _ in got if t in expected]
        in_order = [t for t in expected if t in types]
        expect(types == in_order, f"{booking_id} ({current.names.get(booking_id, '')}): events arrived as {types}, "
               f"but happened as {in_order}", as_exchange(got[-1][2], current.receiver) if got else None)
        stamps = []
        for _, _, delivery in got:
            body = json.loads(delivery.body)
            stamps.append((body.get("created_at"), delivery))
        for (earlier, _), (later, delivery) in zip(stamps, stamps[1:], strict=False):
            if isinstance(earlier, str) and isinstance(later, str):
                expect(parse_instant(later) >= parse_instant(earlier),
                       f"{booking_id}: an event created at {later} arrived after one created at {earlier}", as_exchange(delivery, current.receiver))


@scenario(Need.WEBHOOKS)
def test_every_delivery_is_signed_with_the_endpoint_secret(world: World) -> None:
    """LiteHQ-Signature of every delivery is the lowercase hex HMAC-SHA256 of the raw body, keyed with the endpoint's whsec_ secret."""
    current = session(world)
    _expect_deliveries(world, current)
    key = current.secret.encode("utf-8")
    for delivery in current.receiver.received:
        got = delivery.header("LiteHQ-Signature") or ""
        expected = hmac.new(key, delivery.body, hashlib.sha256).hexdigest()
        expect(got, "a delivery carries no LiteHQ-Signature header", as_exchange(delivery, current.receiver))
        expect(hmac.compare_digest(got.encode(), expected.encode()),
               f"LiteHQ-Signature {got[:16]}… is not HMAC-SHA256(secret, raw body) = {expected[:16]}…"
               + ("" if got == got.lower() else " (and it must be lowercase hex)"), as_exchange(delivery, current.receiver))


@scenario(Need.WEBHOOKS)
def test_every_payload_matches_the_contracts_webhook_schema_and_its_headers(world: World) -> None:
    """Each body is JSON valid against the contract's webhook schema for its type, with LiteHQ-Event-Id/-Type repeating id and type, and the booking as the transition left it."""
    current = session(world)
    _expect_deliveries(world, current)
    validators = _webhook_validators(world)
    for delivery, event in current.events():
        shown = as_exchange(delivery, current.receiver)
        expect(event is not None, "the delivery's body is not a JSON object", shown)
        assert event is not None
        expect((delivery.header("Content-Type") or "").split(";")[0].strip() == "application/json",
               f"Content-Type must be application/json, got {delivery.header('Content-Type')!r}", shown)
        event_type = event.get("type")
        expect(event_type in validators, f"type {event_type!r} is not one of the contract's webhooks", shown)
        errors = sorted(validators[event_type].iter_errors(event), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
            raise RuleBroken(f"{event_type} payload breaks the contract's webhook schema at {where}: {errors[0].message}", shown)
        expect(delivery.header("LiteHQ-Event-Id") == event["id"],
               f"LiteHQ-Event-Id {delivery.header('LiteHQ-Event-Id')!r} differs from the body's id {event['id']!r}", shown)
        expect(delivery.header("LiteHQ-Event-Type") == event_type,
               f"LiteHQ-Event-Type {delivery.header('LiteHQ-Event-Type')!r} differs from the body's type {event_type!r}", shown)
        booking = event["data"]["object"]
        if event_type in STATUS_AFTER:
            expect(booking["status"] == STATUS_AFTER[event_type],
                   f"{event_type} must carry the booking as the transition left it (status {STATUS_AFTER[event_type]}), not {booking['status']!r}", shown)
        if event_type == "booking.no_show":
            expect(booking.get("no_show_at"), "booking.no_show must carry the booking with no_show_at set", shown)


@scenario(Need.WEBHOOKS)
def test_an_unacknowledged_delivery_is_retried(world: World) -> None:
    """A delivery the receiver answers with 500 is delivered again (same event id) until a 2xx acknowledges it."""
    current = session(world)
    known = set(current.expected)
    failed_once: set[str] = set()

    def answer(delivery: ReceivedDelivery) -> int:
        try:
            event = json.loads(delivery.body)
        except ValueError:
            return 200
        if _booking_id(event) not in known and event.get("type") == "booking.created" and event.get("id") not in failed_once:
            failed_once.add(event["id"])
            return 500
        return 200

    current.receiver.answer_with(answer)
    try:
        booking = world.booking()
        wait = world.settings.webhook_wait_s

        def retried(deliveries: list[ReceivedDelivery]) -> bool:
            mine = [d for d, e in current.events(deliveries) if _booking_id(e) == booking["id"] and (e or {}).get("type") == "booking.created"]
            return any(d.answered >= 300 for d in mine) and any(d.answered < 300 for d in mine)

        current.receiver.wait_until(retried, timeout_s=wait)
    finally:
        current.receiver.answer_with(None)
    mine = [(d, e) for d, e in current.events() if _booking_id(e) == booking["id"] and (e or {}).get("type") == "booking.created"]
    expect(mine, f"booking.created for {booking['id']} never arrived within {wait:.0f}s")
    expect(any(d.answered < 300 for d, _ in mine),
           f"booking.created for {booking['id']} was answered 500 and not delivered again within {wait:.0f}s"
           + ("" if current.registered else " (raise WEBHOOK_WAIT above the deployment's first retry delay)"),
           as_exchange(mine[-1][0], current.receiver))
    ids = {(e or {}).get("id") for _, e in mine}
    expect(len(ids) == 1, f"a retry must repeat the event's id; got {sorted(map(str, ids))}", as_exchange(mine[-1][0], current.receiver))


def _expect_deliveries(world: World, current: Session) -> None:
    """A check over every delivery proves nothing when none came."""
    expect(current.receiver.received, f"no webhook delivery reached {current.receiver.url} within {world.settings.webhook_wait_s:.0f}s"
           + ("" if current.registered else " (is the endpoint registered for TOKEN's workspace, and does it reach WEBHOOK_LISTEN?)"))


def _webhook_validators(world: World) -> dict[str, Draft202012Validator]:
    cached = world.cache.get("webhook_validators")
    if cached is None:
        document = world.contract.document
        registry = Registry().with_resource("urn:litehq:contract", Resource(contents=document, specification=DRAFT202012))
        cached = {
            name: Draft202012Validator(
                {"$ref": f"urn:litehq:contract#/webhooks/{name.replace('~', '~0').replace('/', '~1')}/post/requestBody/content/application~1json/schema"},
                registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
            for name in (document.get("webhooks") or {})
        }
        world.cache["webhook_validators"] = cached
    return cached
