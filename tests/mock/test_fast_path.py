"""The compiled hot path (mock_server/api/fastpath.py) answers exactly as Connexion's own stack does.

Two apps on the same fixture, seed and frozen clock — one with the fast path, one without — get the
same requests in the same order, sent as raw ASGI messages so that odd headers reach them intact.
Every response must be byte-identical: status, every header in order, body. The scenario covers
every Calendar API operation's success and each way it fails (auth, scope, rate limit and penalty,
parameters, media type, body, domain rules, idempotency replays and conflicts) and the requests the
fast path leaves to Connexion (HEAD, form bodies, the control API); Hypothesis then sends random
ones. Both apps check every response against the contract.
"""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from mock_server.api import fastpath
    from mock_server.app import create_app
from mock_server.domain.clock import MockClock

NOW = datetime(2026, 5, 22, 9, 0, tzinfo=UTC)
RW = [(b"authorization", b"Bearer sk_test_demo_rw")]
RO = [(b"authorization", b"Bearer sk_test_demo_ro")]
OTHER = [(b"authorization", b"Bearer sk_test_other_rw")]
JSON = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    fast: bool


class Twins:
    """The same request to the app with the fast path and to the one without; answers must match."""

    def __init__(self, documents, monkeypatch, seed: int = 11) -> None:
        self.fast_app = create_app(clock=MockClock(NOW, frozen=True), seed=seed, validate_responses=True, documents=documents)
        self.slow_app = create_app(clock=MockClock(NOW, frozen=True), seed=seed, validate_responses=True, documents=documents,
                                   fast_path=False)
        self.compiled_calls = 0
        original = fastpath.CompiledOperation.__call__

        async def counting(operation, *args, **kwargs):
            self.compiled_calls += 1
            return await original(operation, *args, **kwargs)

        monkeypatch.setattr(fastpath.CompiledOperation, "__call__", counting)
        self.loop = asyncio.new_event_loop()
        self.sent = 0
        self.fast_count = 0

    def close(self) -> None:
        self.loop.close()
        assert self.fast_app.contract_violations == [] and self.slow_app.contract_violations == []

    async def _call(self, app, method, path, query, headers, body) -> tuple[int, list, bytes]:
        messages = []
        delivered = False

        async def receive():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message):
            messages.append(message)

        raw_path = path.encode("latin-1", "replace")
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": raw_path, "query_string": query, "root_path": "",
            "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 50000),
            "headers": [(b"host", b"127.0.0.1:8080"), *headers],
        }
        await app(scope, receive, send)
        start = next(m for m in messages if m["type"] == "http.response.start")
        payload = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        return start["status"], list(start.get("headers", [])), payload

    def request(self, method: str, path: str, *, query: str | bytes | dict = b"", headers=(), body: bytes | object = b"") -> Answer:
        if isinstance(query, dict):
            query = urlencode(query)
        if isinstance(query, str):
            query = query.encode("latin-1")
        if not isinstance(body, bytes):
            body = orjson.dumps(body)
        headers = list(headers)
        if body and not any(k == b"content-length" for k, _ in headers):
            headers.append((b"content-length", str(len(body)).encode()))
        before = self.compiled_calls
        fast = self.loop.run_until_complete(self._call(self.fast_app, method, path, query, headers, body))
        fast_served = self.compiled_calls > before
        slow = self.loop.run_until_complete(self._call(self.slow_app, method, path, query, headers, body))
        assert self.compiled_calls == before + fast_served, "the app without the fast path used it"
        assert fast == slow, f"{method} {path}?{query!r}: fast path answered differently\n fast: {fast}\n slow: {slow}"
        self.sent += 1
        self.fast_count += fast_served
        return Answer(fast[0], fast[1], fast[2], fast_served)


@pytest.fixture
def twins(documents, monkeypatch):
    twins = Twins(documents, monkeypatch)
    yield twins
    twins.close()


def slot(day: int, hour: int, minutes: int = 90) -> dict:
    start = datetime(2026, 5, 23, tzinfo=UTC) + timedelta(days=day, hours=hour)
    end = start + timedelta(minutes=minutes)
    return {"start_at": start.isoformat().replace("+00:00", "Z"), "end_at": end.isoformat().replace("+00:00", "Z")}


def booking(day: int = 0, hour: int = 14, **extra) -> dict:
    return {"room_id": "rm_studio", **slot(day, hour), "booked_by": {"member_id": "mem_alice"}, **extra}


def key(name: str) -> list[tuple[bytes, bytes]]:
    return [(b"idempotency-key", name.encode())]


def test_fast_path_serves_the_calendar_api_byte_for_byte_as_connexion(twins):
    t = twins
    # Rooms: list, filter, page with a cursor, one room, unknown and malformed ids.
    first = t.request("GET", "/v1/rooms", query={"limit": 2}, headers=RW)
    assert first.status == 200 and first.fast
    cursor = orjson.loads(first.body)["next_cursor"]
    t.request("GET", "/v1/rooms", query={"limit": 2, "cursor": cursor}, headers=RW)
    t.request("GET", "/v1/rooms", query={"limit": 2, "cursor": cursor, "tier": "premium"}, headers=RW)
    for query in ("tier=standard", "tier=Bad Tier", "limit=0", "limit=201", "limit=x", "limit=", "limit=3&limit=1",
                  "limit=%2B2", "limit=1.0", "cursor=", "cursor=abc.def", "unknown=1", "token=sk_test_demo_ro", "%ZZ=1&a"):
        t.request("GET", "/v1/rooms", query=query, headers=RW)
    for room in ("rm_studio", "rm_nope", "bad id", "rm_" + "x" * 80):
        t.request("GET", "/v1/rooms/" + quote(room), headers=RW)

    # Authentication and scope, on reads and writes.
    for headers in ([], [(b"authorization", b"Basic abc")], [(b"authorization", b"Bearer ")], [(b"authorization", b"bearer sk_test_demo_ro")],
                    [(b"authorization", b"Bearer sk_test_demo_revoked")], [(b"authorization", b"Bearer sk_live_nope")],
                    [(b"authorization", b"Bearer sk_test_demo_ro"), (b"authorization", b"Bearer sk_test_demo_rw")],
                    [(b"authorization", b"  Bearer   sk_test_demo_ro  ")]):
        t.request("GET", "/v1/bookings", headers=headers)
        t.request("POST", "/v1/bookings", headers=[*headers, *JSON, *key("auth")], body=booking())
    t.request("POST", "/v1/bookings", headers=[(b"authorization", b"Bearer sk_test_nostripe_rw"), *JSON, *key("ns")], body=booking())

    # Creates: success (key in header, in body), replay, conflict, and every kind of refusal.
    created = t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key("k1")], body=booking())
    assert created.status == 201 and created.fast
    booking_id = orjson.loads(created.body)["id"]
    t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key("k1")], body=booking())  # replayed
    t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key("k1")], body=booking(day=1))  # conflict
    t.request("POST", "/v1/bookings", headers=[*RW, *JSON], body=booking(day=2, idempotency_key="k2"))
    t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key("k3")], body=booking(day=3, idempotency_key="k4"))
    t.request("POST", "/v1/bookings", headers=[*RW, *JSON], body=booking(day=3))  # no key
    t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key("k5")], body=booking())  # slot taken: 409, stored
    t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key("k5")], body=booking())  # ... and replayed
    refusals = [
        booking(day=4, hour=14, attendees=99), booking(day=4, room_id="rm_nope"), booking(day=-5),
        {**booking(day=4), "start_at": "2026-05-27T14:10:00Z"}, {**booking(day=4), "end_at": "2026-05-27T13:00:00Z"},
        booking(day=4, extra=1), {"room_id": "rm_studio"}, booking(day=4, booked_by={"member_id": "mem_nobody"}),
        booking(day=4, hour=23), booking(day=4, notes="x" * 5000), [], None, "text", 12,
        {**booking(day=4), "start_at": "tomorrow"}, booking(day=4, attendees=True),
    ]
    for index, body in enumerate(refusals):
        t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key(f"r{index}")], body=body)
    raw_bodies = [b"{", b"\xff\xfe{}", b"", b"null", b'{"a":' * 300 + b"1" + b"}" * 300, b"[1,2"]
    for index, body in enumerate(raw_bodies):
        t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key(f"raw{index}")], body=body)
    for repeat in range(2):  # the second time round, what the fast path learnt about each media type is reused
        for index, content_type in enumerate([b"text/plain", b"application/json; charset=utf-8", b"APPLICATION/JSON",
                                              b"application/merge-patch+json", b"application/xml", b""]):
            headers = [*RW, *key(f"ct{index}-{repeat}")] + ([(b"content-type", content_type)] if content_type else [])
            t.request("POST", "/v1/bookings", headers=headers, body=booking(day=5 + index, hour=14 + 2 * repeat))
    for bad_key in (b"", b"x" * 300, b"caf\xc3\xa9"):
        t.request("POST", "/v1/bookings", headers=[*RW, *JSON, (b"idempotency-key", bad_key)], body=booking(day=12))
    t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key("big")], body=b" " * (1024 * 1024 + 1))

    # Listing: filters, ranges, cursors, bad values, duplicates.
    listed = t.request("GET", "/v1/bookings", query={"limit": 1, "from": "2026-05-22T00:00:00Z"}, headers=RW)
    assert listed.status == 200 and listed.fast
    cursor = orjson.loads(listed.body)["next_cursor"]
    t.request("GET", "/v1/bookings", query={"limit": 1, "from": "2026-05-22T00:00:00Z", "cursor": cursor}, headers=RW)
    t.request("GET", "/v1/bookings", query={"limit": 1, "cursor": cursor}, headers=RW)  # other filters
    for query in ({"status": "pending_payment"}, {"status": "nonsense"}, {"room_id": "rm_studio"}, {"room_id": "studio"},
                  {"member_id": "mem_alice"}, {"company_id": "co_acme"}, {"from": "2026-05-23T00:00:00+01:00"},
                  {"from": "yesterday"}, {"from": "2026-06-01T00:00:00Z", "to": "2026-05-01T00:00:00Z"},
                  {"to": "9999-12-31T23:59:59Z"}, {"from": "0001-01-01T00:00:00Z"}, {"limit": "200"}, {"limit": "-1"}):
        t.request("GET", "/v1/bookings", query=query, headers=RW)
    t.request("GET", "/v1/bookings", query="status=confirmed&status=pending_payment&limit=9&limit=2", headers=RW)
    t.request("GET", "/v1/bookings", query="from=2026-05-23T00%3A00%3A00Z&limit=%35", headers=RO)
    t.request("GET", "/v1/bookings", headers=OTHER)

    # One booking, changes, cancellation, for this workspace and another.
    for target in (booking_id, "bk_nope", "not-an-id"):
        t.request("GET", "/v1/bookings/" + target, headers=RW)
        t.request("GET", "/v1/bookings/" + target, headers=OTHER)
    t.request("PATCH", f"/v1/bookings/{booking_id}", headers=[*RW, *JSON], body={"notes": "projector please"})
    t.request("PATCH", f"/v1/bookings/{booking_id}", headers=[*RW, *JSON, *key("p1")], body=slot(0, 16))
    t.request("PATCH", f"/v1/bookings/{booking_id}", headers=[*RW, *JSON, *key("p1")], body=slot(0, 16))
    t.request("PATCH", f"/v1/bookings/{booking_id}", headers=[*RW, *JSON, *key("p1")], body=slot(0, 17))
    for body in ({"attendees": 0}, {"bogus": 1}, {}, {"start_at": "2026-05-23T16:10:00Z"}, b"{", b""):
        t.request("PATCH", f"/v1/bookings/{booking_id}", headers=[*RW, *JSON], body=body)
    t.request("PATCH", f"/v1/bookings/{booking_id}", headers=[*RW, (b"content-type", b"text/plain")], body={"notes": "x"})
    t.request("PATCH", f"/v1/bookings/{booking_id}", headers=RO + JSON, body={"notes": "x"})
    t.request("PATCH", "/v1/bookings/bk_nope", headers=[*RW, *JSON], body={"notes": "x"})
    t.request("POST", f"/_mock/bookings/{booking_id}/checkout/complete")
    t.request("POST", f"/v1/bookings/{booking_id}/cancel", headers=[*RW, *JSON], body={"refund_policy": "sometimes"})
    t.request("POST", f"/v1/bookings/{booking_id}/cancel", headers=[*RW, *JSON, *key("c1")], body={"refund_policy": "partial", "reason": "x"})
    t.request("POST", f"/v1/bookings/{booking_id}/cancel", headers=[*RW, *JSON, *key("c1")], body={"refund_policy": "partial", "reason": "x"})
    t.request("POST", f"/v1/bookings/{booking_id}/cancel", headers=RW)  # no body at all: already cancelled
    second = orjson.loads(t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key("k9")], body=booking(day=20)).body)["id"]
    t.request("POST", f"/v1/bookings/{second}/cancel", headers=RW)

    # Availability and the iCal feed (bearer or ?token=).
    for query in ({"room_id": "rm_studio", "from": "2026-05-23T00:00:00Z", "to": "2026-05-24T00:00:00Z"}, {"tier": "standard"},
                  {"room_id": "rm_nope"}, {"from": "2026-05-24T00:00:00Z", "to": "2026-05-23T00:00:00Z"}, {}):
        t.request("GET", "/v1/availability", query=query, headers=RW)
    t.request("GET", "/v1/calendar.ics", headers=RO)
    for token in ("sk_test_demo_ro", "sk_test_demo_revoked", "nope", ""):
        t.request("GET", "/v1/calendar.ics", query={"token": token})
    t.request("GET", "/v1/calendar.ics", query={"token": "nope"}, headers=RO)

    # Requests the fast path leaves to Connexion, and the router's own answers.
    assert not t.request("HEAD", "/v1/rooms", headers=RW).fast
    # A body on an operation that takes none is hidden by the frame, so the fast path serves it too.
    assert t.request("GET", "/v1/rooms", headers=[*RW, (b"content-type", b"multipart/form-data; boundary=x")], body=b"junk").fast
    assert not t.request("POST", "/v1/bookings", headers=[*RW, (b"content-type", b"application/x-www-form-urlencoded"), *key("f")],
                         body=b"room_id=rm_studio").fast
    for method, path in (("DELETE", "/v1/bookings"), ("PUT", "/v1/rooms/rm_studio"), ("GET", "/v1/nowhere"), ("GET", "/v1/bookings/"),
                         ("OPTIONS", "/v1/rooms"), ("GET", "/_mock/clock")):
        assert not t.request(method, path, headers=RW).fast

    # Rate limits: drain a small bucket, trip the penalty, refill with the clock.
    assert t.request("PATCH", "/_mock/workspaces/ws_demo", headers=JSON, body={"rate_limit": {"capacity": 3, "refill_per_minute": 60}}).status == 200
    statuses = [t.request("GET", "/v1/bookings", query={"limit": 0 if i % 2 else 5}, headers=RW).status for i in range(7)]
    assert 429 in statuses
    t.request("GET", "/v1/rooms", headers=RO)
    t.request("POST", "/_mock/clock/advance", headers=JSON, body={"seconds": 30})
    for _ in range(3):
        t.request("GET", "/v1/rooms", headers=RW)
    t.request("POST", "/v1/bookings", headers=[*RW, *JSON, *key("late")], body=booking(day=30))

    assert t.fast_count >= 140, f"only {t.fast_count} of {t.sent} requests took the fast path"


paths = st.sampled_from(["/v1/bookings", "/v1/rooms", "/v1/availability", "/v1/calendar.ics", "/v1/rooms/rm_studio",
                         "/v1/bookings/bk_nope", "/v1/bookings/bk_nope/cancel"])
query_values = st.text(max_size=30) | st.sampled_from(["2026-05-23T14:00:00Z", "50", "0", "rm_studio", "confirmed", "sk_test_demo_ro"])
query_keys = st.sampled_from(["from", "to", "status", "room_id", "member_id", "company_id", "limit", "cursor", "tier", "token", "x"])
queries = st.lists(st.tuples(query_keys, query_values), max_size=4)
header_sets = st.sampled_from([RW, RO, OTHER, [], [(b"authorization", b"Bearer sk_test_demo_revoked")]])
content_types = st.sampled_from([JSON, [], [(b"content-type", b"text/plain")], [(b"content-type", b"application/json; charset=latin-1")]])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["room_id", "start_at", "end_at", "booked_by", "attendees", "notes", "idempotency_key", "reason",
                          "refund_policy", "extra"])
bodies = st.builds(lambda changes: {**booking(), **changes}, st.dictionaries(fields, json_values, max_size=3)) | json_values
keys = st.none() | st.sampled_from(["a", "b", "c"])


@pytest.fixture(scope="module")
def shared_twins(documents):
    with pytest.MonkeyPatch.context() as monkeypatch:
        twins = Twins(documents, monkeypatch, seed=3)
        yield twins
        twins.close()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(method=st.sampled_from(["GET", "POST", "PATCH"]), path=paths, query=queries, headers=header_sets, content_type=content_types,
       body=bodies, idempotency_key=keys)
def test_fast_path_answers_random_requests_as_connexion(shared_twins, method, path, query, headers, content_type, body, idempotency_key):
    extra = key(idempotency_key) if idempotency_key else []
    shared_twins.request(method, path, query=urlencode(query), headers=[*headers, *content_type, *extra],
                         body=body if method != "GET" else b"")


def test_fast_path_renders_an_unexpected_exception_as_connexion_does(documents, monkeypatch, caplog):
    from mock_server.api.calendar import CalendarApi

    async def crash(self, id_):
        raise RuntimeError("boom")

    monkeypatch.setattr(CalendarApi, "getRoom", crash)
    twins = Twins(documents, monkeypatch)
    try:
        answer = twins.request("GET", "/v1/rooms/rm_studio", headers=RW)
        assert answer.fast and answer.status == 500 and b"internal_error" in answer.body
        assert twins.request("GET", "/v1/rooms", headers=RW).status == 200  # and the next request is fine
    finally:
        twins.loop.close()
    logged = [r.getMessage() for r in caplog.records if "unhandled RuntimeError('boom')" in r.getMessage()]
    assert len(logged) == 2, logged  # once per app


def test_fast_path_fails_like_connexion_when_sending_the_response_fails(documents, monkeypatch, caplog):
    twins = Twins(documents, monkeypatch)
    outcomes = []
    try:
        for app in (twins.fast_app, twins.slow_app):
            sent = []

            async def send(message, sent=sent):
                sent.append(message["type"])
                if message["type"] == "http.response.body":
                    raise OSError("connection reset")

            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
                     "path": "/v1/rooms", "raw_path": b"/v1/rooms", "query_string": b"", "root_path": "",
                     "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 1), "headers": [(b"host", b"x"), *RW]}
            with pytest.raises(Exception) as raised:
                twins.loop.run_until_complete(app(scope, receive, send))
            outcomes.append((type(raised.value), str(raised.value), type(raised.value.__cause__), sent))
    finally:
        twins.loop.close()
    assert twins.compiled_calls == 1
    assert outcomes[0] == outcomes[1], outcomes
    assert outcomes[0][:2] == (RuntimeError, "Caught handled exception, but response already started.")
