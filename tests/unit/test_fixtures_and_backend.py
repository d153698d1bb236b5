"""The default fixture as DESIGN.md names it, other fixtures, authentication and reset."""

from datetime import time

import pytest

from mock_server.domain import errors
from mock_server.domain.backend import Backend
from mock_server.domain.fixtures import FixtureError
from mock_server.domain.models import READ_SCOPE, WRITE_SCOPE

from .conftest import create


def test_demo_fixture_has_design_workspaces_tokens_members(backend):
    store = backend.store
    assert set(store.workspaces) == {"ws_demo", "ws_nostripe", "ws_other"}
    assert store.workspaces["ws_demo"].stripe_onboarded and not store.workspaces["ws_nostripe"].stripe_onboarded
    tokens = {t.token: (t.workspace_id, t.scopes, t.revoked) for t in store.tokens.values()}
    assert tokens == {
        "sk_test_demo_rw": ("ws_demo", {READ_SCOPE, WRITE_SCOPE}, False),
        "sk_test_demo_ro": ("ws_demo", {READ_SCOPE}, False),
        "sk_test_demo_revoked": ("ws_demo", {READ_SCOPE, WRITE_SCOPE}, True),
        "sk_test_nostripe_rw": ("ws_nostripe", {READ_SCOPE, WRITE_SCOPE}, False),
        "sk_test_other_rw": ("ws_other", {READ_SCOPE, WRITE_SCOPE}, False),
    }
    assert {m: store.members[m].company_id for m in ("mem_alice", "mem_bob")} == {"mem_alice": "co_acme", "mem_bob": "co_acme"}
    assert store.companies["co_acme"].workspace_id == "ws_demo"


def test_demo_fixture_studio_room_matches_docs(backend):
    studio = backend.store.rooms["rm_studio"]
    assert (studio.name, studio.slot_minutes, studio.capacity, studio.price_per_hour_minor, studio.currency) == ("Studio", 30, 8, 5600, "GBP")
    assert (studio.opens_at, studio.closes_at) == (time(8), time(22))
    rooms = [backend.store.rooms[r] for r in backend.store.rooms_by_workspace["ws_demo"]]
    assert len({r.slot_minutes for r in rooms}) >= 3 and len({r.tier for r in rooms}) >= 3
    assert any(r.blackouts for r in rooms)


def test_authenticate_unknown_and_revoked_raise_auth_invalid(backend):
    with pytest.raises(errors.AuthInvalid):
        backend.authenticate("sk_test_nope")
    with pytest.raises(errors.AuthInvalid) as exc:
        backend.authenticate("sk_test_demo_revoked")
    assert exc.value.headers["X-RateLimit-Limit"] == "500"


def test_reset_restores_fixture_and_replays_seeded_ids(backend, demo):
    first = create(backend, demo)
    backend.configure_workspace("ws_demo", {"stripe_onboarded": False})
    backend.reset()
    assert backend.store.bookings == {} and backend.events_of("ws_demo") == []
    assert backend.store.workspaces["ws_demo"].stripe_onboarded
    again = create(backend, backend.authenticate("sk_test_demo_rw"))
    assert again.id == first.id


def test_reset_keeps_event_subscribers(backend, demo):
    seen = []
    backend.subscribe(seen.append)
    backend.reset()
    create(backend, backend.authenticate("sk_test_demo_rw"))
    assert [e.type for e in seen] == ["booking.created"]


def test_event_sink_failure_does_not_undo_change(backend, demo):
    def broken(event):
        raise RuntimeError("boom")

    backend.subscribe(broken)
    booking = create(backend, demo)
    assert backend.get_booking(demo, booking.id).status.value == "pending_payment"


def test_configure_workspace_checkout_window_applies_to_new_holds(backend, demo):
    backend.configure_workspace("ws_demo", {"checkout_window_minutes": 5})
    assert create(backend, demo).to_wire()["expires_at"] == "2026-05-22T09:05:00Z"


def test_configure_unknown_workspace_raises_workspace_not_found(backend):
    with pytest.raises(errors.WorkspaceNotFound):
        backend.configure_workspace("ws_nope", {})


def test_fixture_with_bookings_loads_them_through_the_rules(clock):
    data = {
        "workspaces": [
            {
                "id": "ws_x",
                "tokens": [{"token": "sk_test_x", "scopes": ["calendar:read"]}],
                "members": [{"id": "mem_x", "name": "X", "email": "x@example.com"}],
                "rooms": [{"id": "rm_x", "name": "X", "tier": "t", "capacity": 2, "slot_minutes": 60, "price_per_hour_minor": 100}],
                "bookings": [
                    {"room_id": "rm_x", "in_days": 1, "from": "10:00", "to": "11:00", "member_id": "mem_x"},
                    {"room_id": "rm_x", "in_days": 1, "from": "11:00", "to": "12:00", "guest": {"email": "g@example.com", "name": "G"}, "status": "pending_payment"},
                ],
            }
        ]
    }
    backend = Backend(fixture=data, clock=clock)
    statuses = sorted(b.status.value for b in backend.store.bookings.values())
    assert statuses == ["confirmed", "pending_payment"]


@pytest.mark.parametrize(
    "data",
    [
        {"nope": []},
        {"workspaces": [{"name": "no id"}]},
        {"workspaces": [{"id": "ws_has-dash"}]},
        {"workspaces": [{"id": "ws_x", "rooms": [{"id": "rm_under_score", "name": "X", "tier": "t", "capacity": 1,
                                                   "slot_minutes": 60, "price_per_hour_minor": 1}]}]},
        {"workspaces": [{"id": "ws_x", "rooms": [{"id": "rm_x"}]}]},
        {"workspaces": [{"id": "ws_x", "rooms": [{"id": "rm_x", "name": "X", "tier": "t", "capacity": 1, "slot_minutes": 60,
                                                   "price_per_hour_minor": 1, "opening_hours": {"opens_at": "25:00", "closes_at": "24:00"}}]}]},
    ],
)
def test_load_fixture_malformed_raises_fixture_error(clock, data, tmp_path):
    import yaml

    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(FixtureError):
        Backend(fixture=path, clock=clock)
