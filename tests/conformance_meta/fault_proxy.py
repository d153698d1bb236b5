"""A reverse proxy on 127.0.0.1 in front of a live mock that injects named faults, to prove the suite notices them."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn

RATE_LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit-policy", "ratelimit")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "date", "server"}


class Exchange:
    """One proxied request and response, as the fault functions see and change them."""

    def __init__(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> None:
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body
        self.status = 0
        self.response_headers: dict[str, str] = {}
        self.response_body = b""

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query))

    def json(self) -> Any:
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    def set_json(self, document: Any) -> None:
        self.response_body = json.dumps(document).encode()


RequestFault = Callable[["FaultProxy", Exchange], None]
ResponseFault = Callable[["FaultProxy", Exchange], None]


def _is_listing(ex: Exchange) -> bool:
    return ex.method == "GET" and ex.path == "/v1/bookings" and ex.status == 200


def _listing_key(ex: Exchange) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in ex.params.items() if k not in ("cursor", "limit")))


# -- request faults -------------------------------------------------------------------------------
def rewrite_idempotency_key(proxy: FaultProxy, ex: Exchange) -> None:
    """Every create gets a fresh key, so a client's retry executes again instead of replaying."""
    if ex.method == "POST" and ex.path == "/v1/bookings" and "idempotency-key" in ex.headers:
        ex.headers["idempotency-key"] = str(uuid.uuid4())


def promote_readonly_token(proxy: FaultProxy, ex: Exchange) -> None:
    """The read-only token is swapped for the read-write one, as if scopes were not enforced."""
    if ex.headers.get("authorization") == f"Bearer {proxy.readonly_token}":
        ex.headers["authorization"] = f"Bearer {proxy.readwrite_token}"


# -- response faults ------------------------------------------------------------------------------
def drop_rate_limit_headers(proxy: FaultProxy, ex: Exchange) -> None:
    for name in RATE_LIMIT_HEADERS:
        ex.response_headers.pop(name, None)


def freeze_remaining(proxy: FaultProxy, ex: Exchange) -> None:
    """Remaining never falls: X-RateLimit-Remaining and RateLimit r stuck one below the limit."""
    if "x-ratelimit-limit" in ex.response_headers and ex.status != 429:
        stuck = str(int(ex.response_headers["x-ratelimit-limit"]) - 1)
        ex.response_headers["x-ratelimit-remaining"] = stuck
        ex.response_headers["ratelimit"] = re.sub(r"r=\d+", f"r={stuck}", ex.response_headers.get("ratelimit", ""))


def ietf_disagrees(proxy: FaultProxy, ex: Exchange) -> None:
    """The IETF RateLimit field reports three tokens more than X-RateLimit-Remaining (schema-valid, incoherent)."""
    if "ratelimit" in ex.response_headers:
        ex.response_headers["ratelimit"] = re.sub(r"r=(\d+)", lambda m: f"r={int(m[1]) + 3}", ex.response_headers["ratelimit"])


def forge_error_request_id(proxy: FaultProxy, ex: Exchange) -> None:
    """error.request_id is a well-formed id, but not the X-Request-Id of the response (plain Schemathesis cannot tell)."""
    document = ex.json()
    if ex.status >= 400 and isinstance(document, dict) and isinstance(document.get("error"), dict):
        document["error"]["request_id"] = "req_forged0000000000"
        ex.set_json(document)


def method_not_allowed_as_not_found(proxy: FaultProxy, ex: Exchange) -> None:
    document = ex.json()
    if ex.status == 405 and isinstance(document, dict):
        ex.status = 404
        document["error"]["code"] = "not_found"
        ex.response_headers.pop("allow", None)
        ex.set_json(document)


def drop_www_authenticate(proxy: FaultProxy, ex: Exchange) -> None:
    ex.response_headers.pop("www-authenticate", None)


def duplicate_across_pages(proxy: FaultProxy, ex: Exchange) -> None:
    """Each next page starts with the last booking of the page before (schema-valid, plainly wrong)."""
    if not _is_listing(ex):
        return
    document = ex.json()
    key = _listing_key(ex)
    if "cursor" in ex.params and key in proxy.last_item and document["data"]:
        document["data"] = [proxy.last_item[key]] + document["data"]
    if document["data"]:
        proxy.last_item[key] = document["data"][-1]
    ex.set_json(document)


def drop_item_across_pages(proxy: FaultProxy, ex: Exchange) -> None:
    """Every page after the first loses its first booking: a gap in the walk."""
    if _is_listing(ex) and "cursor" in ex.params:
        document = ex.json()
        document["data"] = document["data"][1:]
        ex.set_json(document)


def drop_replay_flag(proxy: FaultProxy, ex: Exchange) -> None:
    ex.response_headers.pop("idempotent-replayed", None)


def expired_reported_as_pending(proxy: FaultProxy, ex: Exchange) -> None:
    """A booking whose checkout window elapsed still reads as pending_payment."""
    document = ex.json()
    if ex.path.startswith("/v1/bookings/") and isinstance(document, dict) and document.get("status") == "expired":
        document["status"] = "pending_payment"
        ex.set_json(document)


def full_refund_on_partial(proxy: FaultProxy, ex: Exchange) -> None:
    """A partial cancellation reports the whole price refunded."""
    document = ex.json()
    cancellation = document.get("cancellation") if isinstance(document, dict) else None
    if ex.path.endswith("/cancel") and cancellation and cancellation.get("refund_policy") == "partial" and cancellation.get("refund"):
        paid = sum(c["amount"]["amount_minor"] for c in document["charges"])
        cancellation["refund"]["amount"]["amount_minor"] = paid
        for refund in document["refunds"]:
            if refund["kind"] == "cancellation":
                refund["amount"]["amount_minor"] = paid
        ex.set_json(document)


def hide_bookings_from_busy(proxy: FaultProxy, ex: Exchange) -> None:
    """Availability forgets bookings: they vanish from busy (free is left as the server computed it)."""
    document = ex.json()
    if ex.path == "/v1/availability" and ex.status == 200:
        for room in document["rooms"]:
            room["busy"] = [w for w in room["busy"] if w["reason"] != "booking"]
        ex.set_json(document)


def feed_status_always_confirmed(proxy: FaultProxy, ex: Exchange) -> None:
    if ex.path == "/v1/calendar.ics" and ex.status == 200:
        ex.response_body = ex.response_body.replace(b"STATUS:TENTATIVE", b"STATUS:CONFIRMED")


def list_without_next_cursor(proxy: FaultProxy, ex: Exchange) -> None:
    """The listing drops the required next_cursor field: a schema violation Schemathesis' own checks catch."""
    if ex.method == "GET" and ex.path in ("/v1/bookings", "/v1/rooms") and ex.status == 200:
        document = ex.json()
        document.pop("next_cursor", None)
        ex.set_json(document)


async def offset_pagination(proxy: FaultProxy, ex: Exchange) -> None:
    """The classic bug: pages are slices of the whole result by offset, so an insert shifts later pages."""
    params = ex.params
    cursor = params.pop("cursor", "off_0").removeprefix("off_")
    offset = int(cursor) if cursor.isdigit() else 0
    limit = int(params.pop("limit", "50"))
    assert proxy._client is not None
    whole = await proxy._client.get(proxy.upstream + "/v1/bookings", params={**params, "limit": 200},
                                    headers={"authorization": ex.headers.get("authorization", "")})
    ex.status = whole.status_code
    ex.response_headers = {k.lower(): v for k, v in whole.headers.items() if k.lower() not in HOP_BY_HOP}
    document = whole.json()
    if whole.status_code == 200:
        items = document["data"]
        document = {"data": items[offset : offset + limit], "next_cursor": f"off_{offset + limit}" if offset + limit < len(items) else None}
    ex.set_json(document)


# -- webhook faults -------------------------------------------------------------------------------
# With one of these on, the proxy rewrites the webhook endpoint the suite registers through the control
# API to its own /_relay/webhook, and passes each delivery on to the suite's receiver, faulted.
class Delivery:
    """One webhook delivery passing through the relay."""

    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers, self.body = headers, body
        self.event: dict[str, Any] = json.loads(body)
        self.forward = True  # False: acknowledge to the mock without passing it on

    def resign(self, secret: str) -> None:
        self.headers["litehq-signature"] = hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()


def wrong_webhook_signature(proxy: FaultProxy, delivery: Delivery) -> None:
    """Deliveries are signed with another secret."""
    delivery.resign("whsec_notTheEndpointSecret")


def drop_webhook_event(proxy: FaultProxy, delivery: Delivery) -> None:
    """booking.confirmed is acknowledged to the sender but never reaches the receiver."""
    delivery.forward = delivery.event.get("type") != "booking.confirmed"


def malformed_webhook_payload(proxy: FaultProxy, delivery: Delivery) -> None:
    """The booking in the payload loses its status (correctly re-signed, so only the schema check can tell)."""
    delivery.event["data"]["object"].pop("status", None)
    delivery.body = json.dumps(delivery.event).encode()
    delivery.resign(proxy.webhook_secret or "")


WEBHOOK_FAULTS: dict[str, Callable[[FaultProxy, Delivery], None]] = {
    f.__name__: f for f in (wrong_webhook_signature, drop_webhook_event, malformed_webhook_payload)
}
# Held by the relay itself: booking.updated is passed on only after the booking's next event.
REORDER_WEBHOOKS = "reorder_webhook_events"

# Faults that answer the request themselves instead of changing what the mock answered.
ANSWERING_FAULTS = {"offset_pagination": offset_pagination}

REQUEST_FAULTS: dict[str, RequestFault] = {
    "rewrite_idempotency_key": rewrite_idempotency_key,
    "promote_readonly_token": promote_readonly_token,
}
RESPONSE_FAULTS: dict[str, ResponseFault] = {
    f.__name__: f
    for f in (drop_rate_limit_headers, freeze_remaining, ietf_disagrees, forge_error_request_id, method_not_allowed_as_not_found,
              drop_www_authenticate, duplicate_across_pages, drop_item_across_pages, drop_replay_flag, expired_reported_as_pending,
              full_refund_on_partial, hide_bookings_from_busy, feed_status_always_confirmed, list_without_next_cursor)
}
FAULTS = {**REQUEST_FAULTS, **RESPONSE_FAULTS, **ANSWERING_FAULTS, **WEBHOOK_FAULTS, REORDER_WEBHOOKS: None}


class FaultProxy:
    """ASGI reverse proxy; `faults` names the switches that are on. /_mock passes through untouched."""

    def __init__(self, upstream: str, *, readwrite_token: str, readonly_token: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.readwrite_token = readwrite_token
        self.readonly_token = readonly_token
        self.faults: set[str] = set()
        self.methods_seen: list[tuple[str, str]] = []
        self.statuses_seen: list[tuple[str, str, int]] = []
        self.last_item: dict[tuple[tuple[str, str], ...], Any] = {}
        self._client: httpx.AsyncClient | None = None
        # Set by ProxyServer: where the mock can reach the webhook relay.
        self.public_url = ""
        self.webhook_target: str | None = None
        self.webhook_secret: str | None = None
        self.held: dict[str, Delivery] = {}

    def switch(self, *names: str) -> None:
        unknown = set(names) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}")
        self.faults = set(names)
        self.methods_seen.clear()
        self.statuses_seen.clear()
        self.last_item.clear()
        self.held.clear()

    @property
    def relaying_webhooks(self) -> bool:
        return bool(self.faults & (set(WEBHOOK_FAULTS) | {REORDER_WEBHOOKS}))

    def _intercept_registration(self, ex: Exchange) -> None:
        """The suite registers its receiver: remember it, and register the relay in its place."""
        if ex.method == "PUT" and re.fullmatch(r"/_mock/workspaces/[^/]+/webhook", ex.path) and self.relaying_webhooks:
            document = json.loads(ex.body)
            self.webhook_target, self.webhook_secret = document["url"], document.get("secret")
            document["url"] = f"{self.public_url}/_relay/webhook"
            ex.body = json.dumps(document).encode()

    async def _relay(self, headers: dict[str, str], body: bytes) -> int:
        """One delivery from the mock: fault it, pass it on (or not), answer with the receiver's status."""
        delivery = Delivery({k: v for k, v in headers.items() if k.startswith("litehq-") or k == "content-type"}, body)
        for name in self.faults & set(WEBHOOK_FAULTS):
            WEBHOOK_FAULTS[name](self, delivery)
        if not delivery.forward or self.webhook_target is None:
            return 200
        booking_id = delivery.event["data"]["object"]["id"]
        if REORDER_WEBHOOKS in self.faults and delivery.event.get("type") == "booking.updated":
            self.held[booking_id] = delivery
            return 200
        assert self._client is not None
        status = (await self._client.post(self.webhook_target, content=delivery.body, headers=delivery.headers)).status_code
        held = self.held.pop(booking_id, None)
        if held is not None:
            await self._client.post(self.webhook_target, content=held.body, headers=held.headers)
        return status

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=30)
        if scope["path"] == "/_relay/webhook":
            status = await self._relay(headers, body)
            await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        ex = Exchange(scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"), headers, body)
        self._intercept_registration(ex)
        self.methods_seen.append((ex.method, ex.path))
        tampered = not ex.path.startswith("/_mock")
        if tampered:
            for name in self.faults & set(REQUEST_FAULTS):
                REQUEST_FAULTS[name](self, ex)
        answering = tampered and "offset_pagination" in self.faults and ex.method == "GET" and ex.path == "/v1/bookings"
        if answering:
            await offset_pagination(self, ex)
            upstream_date = None
        else:
            forwarded = {k: v for k, v in ex.headers.items() if k not in ("host", "content-length")}
            url = self.upstream + scope.get("raw_path", ex.path.encode()).decode("latin-1") + (f"?{ex.query}" if ex.query else "")
            response = await self._client.request(ex.method, url, headers=forwarded, content=ex.body)
            ex.status = response.status_code
            ex.response_headers = {k.lower(): v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
            ex.response_body = response.content
            upstream_date = response.headers.get("date")
        self.statuses_seen.append((ex.method, ex.path, ex.status))
        if tampered:
            for name in self.faults & set(RESPONSE_FAULTS):
                RESPONSE_FAULTS[name](self, ex)
        ex.response_headers["content-length"] = str(len(ex.response_body))
        if upstream_date:
            ex.response_headers["date"] = upstream_date
        await send({"type": "http.response.start", "status": ex.status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in ex.response_headers.items()]})
        await send({"type": "http.response.body", "body": ex.response_body})


class ProxyServer:
    """Runs a FaultProxy under uvicorn on a 127.0.0.1 port in a background thread."""

    def __init__(self, proxy: FaultProxy, port: int) -> None:
        self.proxy = proxy
        self.url = f"http://127.0.0.1:{port}"
        proxy.public_url = self.url
        self._server = uvicorn.Server(uvicorn.Config(proxy, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                                     access_log=False, date_header=False, server_header=False))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> ProxyServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fault proxy did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
