"""The one error path: every failure is the JSON envelope with X-Request-Id — never HTML, traces or problem+json."""

import orjson
import pytest

from .conftest import RATE_HEADERS, RO, RW, REVOKED, assert_error, booking_body, create

pytestmark = pytest.mark.anyio


async def post_raw(client, content: bytes, content_type="application/json", headers=RW, path="/v1/bookings"):
    return await client.post(path, headers={**headers, "Idempotency-Key": "raw", "Content-Type": content_type}, content=content)


async def test_any_request_without_token_returns_401_with_www_authenticate(client):
    response = await client.get("/v1/bookings")
    assert_error(response, 401, "auth_invalid")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "X-RateLimit-Limit" not in response.headers


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "sk_test_demo_rw", "Token sk_test_demo_rw"])
async def test_any_request_malformed_authorization_returns_401(client, value):
    response = await client.get("/v1/bookings", headers={"Authorization": value})
    assert_error(response, 401, "auth_invalid")
    assert "WWW-Authenticate" in response.headers


async def test_any_request_unknown_token_returns_401(client):
    assert_error(await client.get("/v1/bookings", headers={"Authorization": "Bearer sk_live_nope"}), 401, "auth_invalid")


async def test_any_request_revoked_token_returns_401_with_rate_headers(client):
    response = await client.get("/v1/rooms", headers=REVOKED)
    assert_error(response, 401, "auth_invalid")
    assert all(h in response.headers for h in RATE_HEADERS)


@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/bookings"), ("PATCH", "/v1/bookings/bk_x"), ("POST", "/v1/bookings/bk_x/cancel")])
async def test_mutation_read_only_token_returns_403_with_rate_headers(client, method, path):
    response = await client.request(method, path, headers=RO, json={"notes": "x"})
    assert_error(response, 403, "auth_scope_insufficient")
    assert all(h in response.headers for h in RATE_HEADERS)


@pytest.mark.parametrize("path", ["/", "/v1", "/v2/bookings", "/v1/bookings/bk_1/refund", "/_mock/nope", "/v1/bookings/"])
async def test_unknown_route_returns_404_not_found(client, path):
    assert_error(await client.get(path, headers=RW), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/bookings", "GET, HEAD, POST"),
        ("PUT", "/v1/bookings/bk_1", "GET, HEAD, PATCH"),
        ("GET", "/v1/bookings/bk_1/cancel", "POST"),
        ("POST", "/v1/rooms", "GET, HEAD"),
        ("OPTIONS", "/v1/availability", "GET, HEAD"),
        ("DELETE", "/_mock/clock", "GET, HEAD, PUT"),
    ],
)
async def test_known_route_wrong_method_returns_405_with_allow(client, method, path, allow):
    response = await client.request(method, path, headers=RW)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow


async def test_head_on_get_route_answers_like_get_without_body(client):
    response = await client.head("/v1/rooms", headers=RW)
    assert response.status_code == 200 and response.content == b""


async def test_create_booking_body_over_1mb_returns_413(client):
    body = b'{"notes": "' + b"x" * (1024 * 1024) + b'"}'
    assert_error(await post_raw(client, body), 413, "payload_too_large")


async def test_create_booking_chunked_body_over_1mb_returns_413(client):
    async def chunks():
        yield b'{"notes": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    response = await client.post("/v1/bookings", headers={**RW, "Idempotency-Key": "c", "Content-Type": "application/json"}, content=chunks())
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data; boundary=x", b"garbage"),
    ("application/x-www-form-urlencoded", b"limit=500"),
    ("application/json", b"{not json"),
])
async def test_list_bookings_with_a_body_of_any_type_ignores_it(client, content_type, body):
    # listBookings takes no body: whatever is sent is not read, parsed or validated.
    response = await client.request("GET", "/v1/bookings?limit=2", headers={**RW, "Content-Type": content_type}, content=body)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None or len(response.json()["data"]) == 2


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
async def test_create_booking_wrong_content_type_returns_415(client, content_type):
    assert_error(await post_raw(client, b"room_id=rm_studio", content_type), 415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["Application/JSON", "APPLICATION/JSON; charset=utf-8"])
async def test_create_booking_media_type_in_any_case_is_json(client, content_type):
    assert_error(await post_raw(client, b'{"room_id": "rm_studio"}', content_type), 400, "invalid_request")
    created = await post_raw(client, orjson.dumps(booking_body()), content_type)
    assert created.status_code == 201, created.text


async def test_update_booking_media_type_in_any_case_is_validated(client):
    booking = (await create(client)).json()
    response = await client.patch(f"/v1/bookings/{booking['id']}", headers={**RW, "Content-Type": "Application/Json"},
                                  content=b'{"bogus": 1}')
    assert_error(response, 400, "invalid_request", "bogus")


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"room_id": "rm_studio",}', b"nul", b"[]", b'"text"', b"   ", b'{"a": NaN}', b"\xef\xbb\xbf{}"],
)
async def test_create_booking_malformed_json_returns_400(client, body):
    assert_error(await post_raw(client, body), 400, "invalid_request")


async def test_create_booking_non_utf8_body_returns_400(client):
    body = '{"room_id": "rm_studio", "notes": "café"}'.encode("latin-1")
    error = assert_error(await post_raw(client, body), 400, "invalid_request")
    assert "UTF-8" in error["message"]


async def test_create_booking_deeply_nested_json_returns_400(client):
    assert_error(await post_raw(client, b"[" * 100_000 + b"]" * 100_000), 400, "invalid_request")
    assert_error(await post_raw(client, b'{"notes":' * 5000 + b"1" + b"}" * 5000), 400, "invalid_request")


async def test_create_booking_empty_body_returns_400(client):
    assert_error(await post_raw(client, b""), 400, "invalid_request")


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"room_id": None}, "room_id"),
        ({"start_at": "tomorrow"}, "start_at"),
        ({"start_at": "2026-05-23 14:00"}, "start_at"),
        ({"end_at": 12}, "end_at"),
        ({"attendees": "4"}, "attendees"),
        ({"attendees": 0}, "attendees"),
        ({"attendees": 1.5}, "attendees"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"booked_by": {}}, "booked_by"),
        ({"booked_by": {"member_id": "mem_alice", "guest": {"email": "a@b.c", "name": "A"}}}, "booked_by"),
        ({"booked_by": {"guest": {"email": "a@b.c"}}}, "booked_by.guest.name"),
        ({"notes": "x" * 2001}, "notes"),
        ({"idempotency_key": ""}, "idempotency_key"),
    ],
)
async def test_create_booking_schema_violation_returns_400_with_param(client, app, change, param):
    body = {**booking_body(), **change}
    if change.get("room_id", "") is None:
        del body["room_id"]
    response = await client.post("/v1/bookings", headers={**RW, "Idempotency-Key": "v"}, json=body)
    error = assert_error(response, 400, "invalid_request")
    assert error.get("param", "").startswith(param), error
    assert app.backend.store.bookings == {}


async def test_create_booking_bad_idempotency_key_header_returns_400(client):
    response = await client.post("/v1/bookings", headers={**RW, "Idempotency-Key": "has space"}, json=booking_body())
    assert_error(response, 400, "invalid_request", "Idempotency-Key")


async def test_any_handler_crash_returns_500_envelope_without_trace(client, app, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret stack detail")

    monkeypatch.setattr(app.backend, "list_bookings", explode)
    response = await client.get("/v1/bookings", headers=RW)
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text and "Traceback" not in response.text
    assert all(h in response.headers for h in RATE_HEADERS)


async def test_every_response_carries_a_distinct_request_id(client):
    ids = set()
    for request in [client.get("/v1/rooms", headers=RW), client.get("/nope"), client.get("/v1/bookings"), create(client)]:
        response = await request
        assert response.headers["X-Request-Id"].startswith("req_")
        ids.add(response.headers["X-Request-Id"])
    assert len(ids) == 4


async def test_bad_input_never_changes_state(client, app):
    for body in [b"{", b"[]", b'{"room_id": "rm_studio"}']:
        await post_raw(client, body)
    await create(client, start="2026-05-23T14:10:00Z")
    await create(client, attendees=99)
    assert app.backend.store.bookings == {}
    assert app.backend.events_of("ws_demo") == []


async def test_get_with_huge_body_ignores_the_body(client):
    response = await client.request("GET", "/v1/rooms", headers={**RW, "Content-Type": "application/json"}, content=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 200


async def test_control_post_with_body_over_1mb_returns_413(client):
    response = await client.put("/_mock/clock", headers={"Content-Type": "application/json"}, content=b'{"now": "' + b"x" * (1024 * 1024) + b'"}')
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("params", [{"from": "9999-12-31T23:00:00Z"}, {"from": "0001-01-01T00:00:00Z", "to": "0001-01-02T00:00:00Z"}])
@pytest.mark.parametrize("path", ["/v1/bookings", "/v1/availability"])
async def test_list_and_availability_at_calendar_edges_answer_without_overflow(client, path, params):
    assert (await client.get(path, headers=RW, params=params)).status_code == 200


async def test_any_request_offset_pushing_past_year_9999_returns_400(client):
    assert_error(await client.get("/v1/bookings", headers=RW, params={"from": "9999-12-31T23:00:00-05:00"}), 400, "invalid_request", "from")


async def test_set_clock_beyond_year_9000_returns_400(client):
    assert_error(await client.put("/_mock/clock", json={"now": "9999-12-31T23:59:00Z"}), 400, "invalid_request", "now")


async def test_get_booking_with_control_characters_in_the_id_returns_400_naming_id(client):
    # The id is routed like any other and fails the contract's id pattern, quota headers and all.
    for raw in ("%0A", "bk_line%0Abreak", "%00", "bk_x%7F", "bk_abc%0A"):
        response = await client.get(f"/v1/bookings/{raw}", headers=RW)
        assert_error(response, 400, "invalid_request", "id")
        assert "X-RateLimit-Remaining" in response.headers


async def test_get_room_with_a_trailing_newline_in_the_id_returns_400_naming_id(client):
    # JSON Schema patterns are ECMA-262: `$` does not match before a final newline.
    assert_error(await client.get("/v1/rooms/rm_studio%0A", headers=RW), 400, "invalid_request", "id")


async def test_path_with_control_characters_outside_any_route_returns_404(client):
    assert_error(await client.get("/v1/bookings%0A", headers=RW), 404, "not_found")
