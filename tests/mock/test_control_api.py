"""The control API: reset, clock, workspaces; and its own errors."""

import pytest

from .conftest import RW, assert_error, create

pytestmark = pytest.mark.anyio


async def test_reset_mock_restores_the_fixture(client, app):
    await create(client)
    await client.patch("/_mock/workspaces/ws_demo", json={"stripe_onboarded": False, "processing_delay_ms": 5})
    response = await client.post("/_mock/reset")
    assert response.status_code == 204 and response.content == b""
    assert app.backend.store.bookings == {}
    demo = (await client.get("/_mock/workspaces/ws_demo")).json()
    assert demo["stripe_onboarded"] is True and demo["processing_delay_ms"] == 0


async def test_get_clock_reports_frozen_mock_time(client):
    assert (await client.get("/_mock/clock")).json() == {"now": "2026-05-22T09:00:00Z", "frozen": True}


async def test_date_header_follows_the_mock_clock_so_reset_minus_date_is_the_wait(client):
    await client.put("/_mock/clock", json={"now": "2030-01-01T10:00:00Z", "frozen": True})
    response = await client.get("/v1/rooms", headers=RW)
    assert response.headers.get_list("date") == ["Tue, 01 Jan 2030 10:00:00 GMT"]
    reset_in = int(response.headers["X-RateLimit-Reset"]) - 1893492000  # 2030-01-01T10:00:00Z
    assert 0 <= reset_in <= 300
    await client.post("/_mock/clock/advance", json={"seconds": 90})
    assert (await client.get("/v1/rooms", headers=RW)).headers["date"] == "Tue, 01 Jan 2030 10:01:30 GMT"


async def test_set_clock_accepts_offsets_and_unfreezing(client):
    body = (await client.put("/_mock/clock", json={"now": "2026-06-01T12:00:00+02:00", "frozen": False})).json()
    assert body["now"].startswith("2026-06-01T10:00") and body["frozen"] is False


@pytest.mark.parametrize(("body", "param"), [({"now": "soon"}, "now"), ({}, "now"), ({"now": "2026-06-01T00:00:00Z", "x": 1}, "x")])
async def test_set_clock_bad_body_returns_400(client, body, param):
    assert_error(await client.put("/_mock/clock", json=body), 400, "invalid_request", param)


async def test_advance_clock_negative_returns_400(client):
    assert_error(await client.post("/_mock/clock/advance", json={"seconds": -5}), 400, "invalid_request", "seconds")


async def test_list_workspaces_exposes_tokens_for_discovery(client):
    workspaces = {w["id"]: w for w in (await client.get("/_mock/workspaces")).json()["data"]}
    assert set(workspaces) == {"ws_demo", "ws_nostripe", "ws_other"}
    demo_tokens = {t["token"]: (t["scopes"], t["revoked"]) for t in workspaces["ws_demo"]["tokens"]}
    assert demo_tokens["sk_test_demo_ro"] == (["calendar:read"], False)
    assert demo_tokens["sk_test_demo_revoked"][1] is True
    assert workspaces["ws_demo"]["rate_limit"]["capacity"] == 500
    assert workspaces["ws_demo"]["checkout_window_minutes"] is None  # rm_focus holds for 15 min
    assert workspaces["ws_other"]["checkout_window_minutes"] == 30


async def test_list_workspaces_exposes_members_with_their_company(client):
    workspaces = {w["id"]: w for w in (await client.get("/_mock/workspaces")).json()["data"]}
    assert [(m["id"], m["company_id"]) for m in workspaces["ws_demo"]["members"]] == [
        ("mem_alice", "co_acme"), ("mem_bob", "co_acme"),
    ]
    assert [(m["id"], m["company_id"]) for m in workspaces["ws_nostripe"]["members"]] == [("mem_nina", None)]


async def test_configure_workspace_stripe_and_checkout_window_take_effect(client):
    await client.patch("/_mock/workspaces/ws_demo", json={"checkout_window_minutes": 10})
    assert (await create(client)).json()["expires_at"] == "2026-05-22T09:10:00Z"
    await client.patch("/_mock/workspaces/ws_demo", json={"stripe_onboarded": False})
    assert_error(await create(client, start="2026-05-23T16:00:00Z", end="2026-05-23T17:00:00Z"), 412, "stripe_unconfigured")


async def test_configure_workspace_unknown_returns_404_workspace_not_found(client):
    assert_error(await client.patch("/_mock/workspaces/ws_nope", json={"stripe_onboarded": True}), 404, "workspace_not_found")
    assert_error(await client.get("/_mock/workspaces/ws_nope/events"), 404, "workspace_not_found")


@pytest.mark.parametrize("body", [{}, {"rate_limit": {"capacity": 0}}, {"processing_delay_ms": -1}, {"nope": True}])
async def test_configure_workspace_bad_body_returns_400(client, body):
    assert_error(await client.patch("/_mock/workspaces/ws_demo", json=body), 400, "invalid_request")


async def test_control_api_needs_no_token_and_ignores_one(client):
    assert (await client.get("/_mock/clock", headers={"Authorization": "Bearer junk"})).status_code == 200
    assert (await client.get("/_mock/clock", headers=RW)).status_code == 200
