"""Listing bookings and rooms: filters, keyset pages, signed cursors bound to their filters."""

from datetime import timedelta

import pytest

from mock_server.domain import errors
from mock_server.domain.pagination import CursorCodec

from .conftest import NOW, create


def fill(backend, principal, days=3):
    """Four one-hour bookings a day on the focus booth (24 h, 15-min grid), in scrambled order."""
    made = []
    for day in range(1, days + 1):
        for hour in (15, 9, 12, 18):
            start = (NOW + timedelta(days=day)).replace(hour=hour, minute=0)
            made.append(
                create(backend, principal, room="rm_focus", start=start.isoformat(), end=(start + timedelta(hours=1)).isoformat(),
                       attendees=1, booked_by={"member_id": "mem_bob" if hour == 9 else "mem_alice"})
            )
    return made


def walk(backend, principal, **kwargs):
    seen, cursor = [], None
    for _ in range(100):
        page, cursor = backend.list_bookings(principal, cursor=cursor, **kwargs)
        seen += [b.id for b in page]
        if cursor is None:
            return seen
    raise AssertionError("walk did not end")


def test_list_default_window_orders_by_start_then_id(backend, demo):
    made = fill(backend, demo)
    page, cursor = backend.list_bookings(demo)
    assert [b.id for b in page] == [b.id for b in sorted(made, key=lambda b: (b.start_at, b.id))]
    assert cursor is None


def test_list_from_inclusive_to_exclusive(backend, demo):
    fill(backend, demo)
    page, _ = backend.list_bookings(demo, start_from="2026-05-23T09:00:00Z", start_to="2026-05-23T18:00:00Z")
    assert [b.start_at.hour for b in page] == [9, 12, 15]


def test_list_to_not_after_from_raises_invalid_request(backend, demo):
    with pytest.raises(errors.InvalidRequest) as exc:
        backend.list_bookings(demo, start_from="2026-05-23T09:00:00Z", start_to="2026-05-23T09:00:00Z")
    assert exc.value.param == "to"


def test_list_filters_status_room_member_company(backend, demo):
    made = fill(backend, demo, days=1)
    backend.complete_checkout(made[0].id)
    assert [b.id for b in backend.list_bookings(demo, status="confirmed")[0]] == [made[0].id]
    assert len(backend.list_bookings(demo, member_id="mem_bob")[0]) == 1
    assert len(backend.list_bookings(demo, company_id="co_acme")[0]) == 4
    assert backend.list_bookings(demo, room_id="rm_studio")[0] == []
    assert backend.list_bookings(demo, room_id="rm_nonexistent")[0] == []


def test_list_pages_walk_every_item_once(backend, demo):
    made = fill(backend, demo, days=5)
    assert walk(backend, demo, limit=3) == [b.id for b in sorted(made, key=lambda b: (b.start_at, b.id))]


def test_list_last_full_page_has_null_cursor(backend, demo):
    fill(backend, demo, days=1)
    page, cursor = backend.list_bookings(demo, limit=4)
    assert len(page) == 4 and cursor is None
    page, cursor = backend.list_bookings(demo, limit=3)
    assert cursor is not None
    page, cursor = backend.list_bookings(demo, limit=3, cursor=cursor)
    assert len(page) == 1 and cursor is None


def test_list_walk_under_inserts_never_repeats_or_skips(backend, demo):
    made = fill(backend, demo, days=4)
    original = {b.id for b in made}
    seen, cursor = [], None
    for step in range(100):
        page, cursor = backend.list_bookings(demo, limit=2, cursor=cursor)
        seen += [b.id for b in page]
        # Insert before, inside and after the walk's position.
        start = (NOW + timedelta(days=1 + step % 4)).replace(hour=0, minute=0) + timedelta(minutes=15 * (step // 4))
        create(backend, demo, room="rm_focus", start=start.isoformat(), end=(start + timedelta(minutes=15)).isoformat())
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert original <= set(seen)


def test_list_cursor_keeps_first_page_range_as_clock_moves(backend, demo, clock):
    fill(backend, demo, days=2)
    _, cursor = backend.list_bookings(demo, limit=2)
    clock.advance(timedelta(days=1, hours=12))
    page, _ = backend.list_bookings(demo, limit=50, cursor=cursor)
    assert len(page) == 6


@pytest.mark.parametrize("other", [{"status": "confirmed"}, {"room_id": "rm_focus"}, {"start_from": "2026-05-22T09:00:00Z"}])
def test_list_cursor_with_other_filters_raises_invalid_request(backend, demo, other):
    fill(backend, demo)
    _, cursor = backend.list_bookings(demo, limit=2)
    with pytest.raises(errors.InvalidRequest) as exc:
        backend.list_bookings(demo, limit=2, cursor=cursor, **other)
    assert exc.value.param == "cursor"


def test_list_cursor_of_other_workspace_raises_invalid_request(backend, demo):
    fill(backend, demo)
    _, cursor = backend.list_bookings(demo, limit=2)
    with pytest.raises(errors.InvalidRequest):
        backend.list_bookings(backend.authenticate("sk_test_other_rw"), limit=2, cursor=cursor)


@pytest.mark.parametrize("mutate", [lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"), lambda c: "x" + c, lambda c: "garbage", lambda c: c + ".x", lambda c: "€"])
def test_list_tampered_cursor_raises_invalid_request(backend, demo, mutate):
    fill(backend, demo)
    _, cursor = backend.list_bookings(demo, limit=2)
    with pytest.raises(errors.InvalidRequest) as exc:
        backend.list_bookings(demo, limit=2, cursor=mutate(cursor))
    assert exc.value.param == "cursor"


def test_cursor_codec_other_secret_rejects():
    cursor = CursorCodec(b"a" * 32).encode([1], {"x": 1})
    assert CursorCodec(b"a" * 32).decode(cursor, {"x": 1}) == [1]
    with pytest.raises(errors.InvalidRequest):
        CursorCodec(b"b" * 32).decode(cursor, {"x": 1})


def test_list_rooms_paged_by_id_with_tier_filter(backend, demo):
    rooms, cursor = backend.list_rooms(demo, limit=2)
    assert [r.id for r in rooms] == ["rm_boardroom", "rm_focus"]
    rooms, cursor = backend.list_rooms(demo, limit=2, cursor=cursor)
    assert [r.id for r in rooms] == ["rm_loft", "rm_studio"] and cursor is None
    assert [r.id for r in backend.list_rooms(demo, tier="studio")[0]] == ["rm_studio"]
    _, cursor = backend.list_rooms(demo, limit=1)
    with pytest.raises(errors.InvalidRequest):
        backend.list_rooms(demo, limit=1, cursor=cursor, tier="studio")


def test_get_room_other_workspace_raises_room_not_found(backend, demo):
    assert backend.get_room(demo, "rm_studio").to_wire()["price_per_hour"] == {"currency": "GBP", "amount_minor": 5600}
    with pytest.raises(errors.RoomNotFound):
        backend.get_room(demo, "rm_otherstudio")


def test_cursor_mac_is_hmac_sha256_of_binding_then_payload():
    import hashlib
    import hmac

    import orjson

    from mock_server.domain.pagination import CursorCodec

    codec = CursorCodec(b"k" * 32)
    binding, payload = {"ws": "ws_demo", "list": "bookings"}, b'["2026-05-23T14:00:00+00:00","bk_x"]'
    message = orjson.dumps(binding, option=orjson.OPT_SORT_KEYS) + b"\n" + payload
    assert codec._mac(payload, binding) == hmac.new(b"k" * 32, message, hashlib.sha256).digest()[:18]
    assert codec._mac(payload, binding) == codec._mac(payload, binding)  # the keyed state is copied, not consumed
