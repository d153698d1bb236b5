"""Arbitrary input never yields a 500 or a partial change (Hypothesis, through the whole app)."""

import asyncio
import warnings
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import RW, booking_body

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from mock_server.app import create_app

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
fields = st.sampled_from(["room_id", "start_at", "end_at", "booked_by", "attendees", "notes", "idempotency_key", "extra"])
mutated_bodies = st.builds(lambda changes: {**booking_body(), **changes}, st.dictionaries(fields, json_values, max_size=3))
query_values = st.text(max_size=40) | st.sampled_from(["2026-05-23T14:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "200", "0"])
queries = st.dictionaries(st.sampled_from(["from", "to", "status", "room_id", "member_id", "company_id", "limit", "cursor", "tier"]), query_values, max_size=4)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def harness(documents):
    from datetime import UTC, datetime

    from mock_server.domain.clock import MockClock
    from mock_server.domain.models import RateLimitPolicy

    app = create_app(clock=MockClock(datetime(2026, 5, 22, 9, tzinfo=UTC), frozen=True), seed=5, validate_responses=True,
                     rate_limit=RateLimitPolicy(enabled=False), documents=documents)
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver")

    def request(method, path, **kwargs) -> httpx.Response:
        return loop.run_until_complete(client.request(method, path, **kwargs))

    yield app, request
    loop.run_until_complete(client.aclose())
    loop.close()
    assert app.contract_violations == []


def world(app):
    backend = app.backend
    return len(backend.store.bookings), sum(len(e) for e in backend.store.events.values()), [
        (b.id, b.sequence) for b in backend.store.bookings.values()]


@FUZZ
@given(body=mutated_bodies | json_values)
def test_create_booking_any_body_is_never_500_nor_partial(harness, body):
    app, request = harness
    before = world(app)
    response = request("POST", "/v1/bookings", headers={**RW, "Idempotency-Key": "fuzz-" + str(abs(hash(str(body))))}, json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert world(app) == before
        assert response.json()["error"]["request_id"] == response.headers["X-Request-Id"]


@FUZZ
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(["application/json", "application/json; charset=latin-1", "text/plain", ""]))
def test_update_booking_any_bytes_are_never_500(harness, raw, content_type):
    app, request = harness
    headers = {**RW, **({"Content-Type": content_type} if content_type else {})}
    response = request("PATCH", "/v1/bookings/bk_doesnotexist", headers=headers, content=raw)
    assert response.status_code < 500, response.text
    assert response.status_code in (400, 404, 415)


@FUZZ
@given(params=queries, path=st.sampled_from(["/v1/bookings", "/v1/availability", "/v1/rooms", "/v1/calendar.ics"]))
def test_any_read_any_query_is_never_500(harness, params, path):
    _, request = harness
    response = request("GET", path, headers=RW, params=params)
    assert response.status_code in (200, 400, 404), response.text


@FUZZ
@given(path=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30), method=st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT"]))
def test_any_path_is_never_500(harness, path, method):
    _, request = harness
    response = request(method, "/v1/bookings/" + quote(path, safe="/"), headers=RW)
    assert response.status_code < 500, response.text
