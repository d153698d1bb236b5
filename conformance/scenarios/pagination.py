"""Pagination: keyset walks never repeat or skip, order by start_at then id, filters are exact, cursors are guarded."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from conformance.scenario import Need, RuleBroken, ScenarioSkipped, expect, expect_error, expect_status, scenario
from conformance.world import World, iso, parse_instant

AREA = "pagination"
SEED_SIZE = 9


def _seed(world: World) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A window holding a known set of bookings: consecutive slots in one room plus ties in others."""
    cached = world.cache.get("pagination_seed")
    if cached is not None:
        return cached
    rooms = world.other_rooms(3)
    main = rooms[0]
    first_start, _ = world.slots.take(main, main.slot_minutes)
    bookings = [world.booking(main, slot=(first_start, first_start + timedelta(minutes=main.slot_minutes)))]
    for _ in range(SEED_SIZE - 1):
        bookings.append(world.booking(main, minutes=main.slot_minutes))
    # Bookings that start at the same instant in other rooms make `id` the tie-breaker of the order.
    for room in rooms[1:]:
        for anchor in (bookings[2], bookings[5]):
            start = parse_instant(anchor["start_at"])
            if _fits(room, start):
                reply = world.create(world.booking_body(room, slot=(start, start + timedelta(minutes=room.slot_minutes))))
                if reply.status == 201:
                    bookings.append(reply.json())
    last = max(parse_instant(b["start_at"]) for b in bookings)
    window = {"from": iso(first_start), "to": iso(last + timedelta(seconds=1))}
    world.cache["pagination_seed"] = (window, bookings)
    return window, bookings


def _fits(room: Any, start: Any) -> bool:
    minutes = start.hour * 60 + start.minute
    opens = int(room.opens_at[:2]) * 60 + int(room.opens_at[3:])
    closes = int(room.closes_at[:2]) * 60 + int(room.closes_at[3:])
    return minutes % room.slot_minutes == 0 and opens <= minutes and minutes + room.slot_minutes <= closes


def _order_key(item: dict[str, Any]) -> tuple[Any, str]:
    return parse_instant(item["start_at"]), item["id"]


def _check_walk(items: list[dict[str, Any]], expected_ids: set[str], what: str, evidence: Any) -> None:
    ids = [b["id"] for b in items]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    expect(not repeated, f"{what}: {repeated} appear on more than one page", evidence)
    missing = sorted(expected_ids - set(ids))
    expect(not missing, f"{what}: {missing} exist for the whole walk but never appear", evidence)
    for before, after in zip(items, items[1:]):
        if _order_key(before) > _order_key(after):
            raise RuleBroken(f"{what}: {before['id']} ({before['start_at']}) is listed before {after['id']} ({after['start_at']}); "
                             "the order is start_at then id", evidence)


@scenario()
def test_walk_with_any_limit_lists_each_booking_once_ordered_by_start_then_id(world: World) -> None:
    """Walking with limits 1, 2, 4 and 200 returns every booking once, ordered by start_at then id."""
    window, bookings = _seed(world)
    expected = {b["id"] for b in bookings}
    for limit in (1, 2, 4, 200):
        items, pages = world.walk(window, limit=limit)
        _check_walk(items, expected, f"walk with limit={limit}", pages[-1])
        oversized = [len(p.json()["data"]) for p in pages if len(p.json()["data"]) > limit]
        expect(not oversized, f"limit={limit}: pages of {oversized} items", pages[-1])


@scenario()
def test_next_cursor_is_null_exactly_on_the_page_with_the_last_booking(world: World) -> None:
    """next_cursor is null on the page holding the last item, and only there, even when it is a full page."""
    window, _ = _seed(world)
    everything, _ = world.walk(window, limit=200)
    total = len(everything)
    exact = world.get("/v1/bookings", params={**window, "limit": total})
    expect_status(exact, 200, f"limit={total} (exactly the number of matching bookings)")
    expect(exact.json()["next_cursor"] is None,
           f"with limit={total} the one page holds every matching booking, yet next_cursor is {exact.json()['next_cursor']!r}", exact)
    partial = world.get("/v1/bookings", params={**window, "limit": total - 1})
    expect(partial.json().get("next_cursor"), f"with limit={total - 1} one booking is left, so next_cursor must not be null", partial)


@scenario()
def test_status_and_room_filters_return_exactly_the_matching_bookings(world: World) -> None:
    """status and room_id filters return all matching bookings and nothing else."""
    window, bookings = _seed(world)
    cancelled = bookings[1]
    reply = world.post(f"/v1/bookings/{cancelled['id']}/cancel", {"reason": "other"})
    expect_status(reply, 200, "cancelling a pending booking")
    cancelled_ids = world.cache.setdefault("pagination_cancelled", set())
    cancelled_ids.add(cancelled["id"])
    items, pages = world.walk({**window, "status": "cancelled"}, limit=3)
    expect(all(b["status"] == "cancelled" for b in items), "status=cancelled lists a booking in another status", pages[-1])
    _check_walk(items, cancelled_ids, "status=cancelled", pages[-1])
    pending, pages = world.walk({**window, "status": "pending_payment"}, limit=3)
    expect(cancelled["id"] not in {b["id"] for b in pending}, "status=pending_payment lists a cancelled booking", pages[-1])
    room_id = bookings[0]["room"]["id"]
    in_room = {b["id"] for b in bookings if b["room"]["id"] == room_id}
    items, pages = world.walk({**window, "room_id": room_id}, limit=4)
    expect(all(b["room"]["id"] == room_id for b in items), f"room_id={room_id} lists bookings of other rooms", pages[-1])
    _check_walk(items, in_room, f"room_id={room_id}", pages[-1])
    empty = world.get("/v1/bookings", params={**window, "room_id": "rm_conformanceNoSuchRoom"})
    expect(empty.status == 200 and empty.json()["data"] == [], "a room_id matching no room gives an empty page", empty)


@scenario(Need.MEMBER)
def test_member_and_company_filters_return_exactly_the_matching_bookings(world: World) -> None:
    """member_id and company_id filters return the member's bookings and nothing else."""
    room = world.room()
    member_booking = world.booking(room, booked_by={"member_id": world.member_id})
    company_id = member_booking["booked_by"].get("company_id")
    guest_booking = world.booking(room)
    starts = sorted(parse_instant(b["start_at"]) for b in (member_booking, guest_booking))
    window = {"from": iso(starts[0]), "to": iso(starts[-1] + timedelta(seconds=1))}
    items, pages = world.walk({**window, "member_id": world.member_id}, limit=2)
    expect(all(b["booked_by"].get("member_id") == world.member_id for b in items), "member_id filter lists others' bookings", pages[-1])
    _check_walk(items, {member_booking["id"]}, f"member_id={world.member_id}", pages[-1])
    if company_id:
        items, pages = world.walk({**window, "company_id": company_id}, limit=2)
        expect(all(b["booked_by"].get("company_id") == company_id for b in items), "company_id filter lists other companies' bookings", pages[-1])
        expect(guest_booking["id"] not in {b["id"] for b in items}, "company_id filter lists a guest booking", pages[-1])
        _check_walk(items, {member_booking["id"]}, f"company_id={company_id}", pages[-1])


@scenario()
def test_from_is_inclusive_and_to_is_exclusive(world: World) -> None:
    """A booking starting exactly at `from` is listed; one starting exactly at `to` is not."""
    _, bookings = _seed(world)
    first, second = bookings[3], bookings[4]
    reply = world.get("/v1/bookings", params={"from": first["start_at"], "to": second["start_at"], "limit": 200})
    expect_status(reply, 200, "listing [first.start_at, second.start_at)")
    ids = {b["id"] for b in reply.json()["data"]}
    expect(first["id"] in ids, f"{first['id']} starts exactly at `from` and must be listed (from is inclusive)", reply)
    expect(second["id"] not in ids, f"{second['id']} starts exactly at `to` and must not be listed (to is exclusive)", reply)
    outside = [b["id"] for b in reply.json()["data"] if not first["start_at"] <= b["start_at"] < second["start_at"]]
    expect(not outside, f"{outside} start outside [from, to)", reply)


@scenario(reads_only=True)
def test_limit_outside_1_to_200_is_400_not_clamped(world: World) -> None:
    """limit=0, limit=201 and limit=-1 are 400 invalid_request naming limit, never clamped."""
    for limit in (0, 201, -1):
        expect_error(world.get("/v1/bookings", params={"limit": limit}), 400, "invalid_request", f"limit={limit}", param="limit")
    expect_status(world.get("/v1/bookings", params={"limit": 200}), 200, "limit=200 (the maximum)")
    expect_status(world.get("/v1/bookings", params={"limit": 1}), 200, "limit=1 (the minimum)")


def _some_cursor(world: World) -> tuple[dict[str, Any], str]:
    """Filters and a next_cursor issued for them: from seeded bookings, or from existing data under PROFILE=safe."""
    if world.has(Need.WRITES):
        window, _ = _seed(world)
    else:
        now = world.now()
        window = {"from": iso(now - timedelta(days=1)), "to": iso(now + timedelta(days=30))}
    reply = world.get("/v1/bookings", params={**window, "limit": 1})
    expect_status(reply, 200, "listing with limit=1")
    cursor = reply.json().get("next_cursor")
    if not cursor:
        raise ScenarioSkipped("fewer than two bookings in the next 30 days, so no cursor to tamper with; run with PROFILE=full")
    return window, cursor


@scenario(reads_only=True)
def test_tampered_cursor_is_400_invalid_request(world: World) -> None:
    """An altered or invented cursor is 400 invalid_request naming cursor."""
    window, cursor = _some_cursor(world)
    middle = len(cursor) // 2
    flipped = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    for bad in (flipped, cursor[:-2], cursor + "x", "not-a-cursor"):
        expect_error(world.get("/v1/bookings", params={**window, "limit": 1, "cursor": bad}), 400, "invalid_request",
                     f"cursor {bad[:24]}…", param="cursor")


@scenario(reads_only=True)
def test_cursor_sent_with_other_filters_is_400_invalid_request(world: World) -> None:
    """A cursor is bound to the filters it was issued for; other filters make it 400 invalid_request."""
    window, cursor = _some_cursor(world)
    later_to = iso(parse_instant(window["to"]) + timedelta(days=1))
    for changed in ({"to": later_to}, {"status": "confirmed"}, {"room_id": "rm_conformanceOther"}):
        reply = world.get("/v1/bookings", params={**window, **changed, "limit": 1, "cursor": cursor})
        expect_error(reply, 400, "invalid_request", f"cursor issued for {window} sent with {changed}", param="cursor")


@scenario()
def test_walk_stays_exact_while_bookings_are_inserted(world: World) -> None:
    """Bookings created during a walk, before and after its position, never make it repeat or skip one."""
    window, bookings = _seed(world)
    before_walk, _ = world.walk(window, limit=200)
    rooms = world.other_rooms(3)
    spare = rooms[-1] if len(rooms) > 1 else rooms[0]
    seeded_starts = sorted({parse_instant(b["start_at"]) for b in bookings})
    inserted: list[str] = []

    step = timedelta(minutes=spare.slot_minutes)
    window_from, window_to = parse_instant(window["from"]), parse_instant(window["to"])

    def insert(page_number: int) -> None:
        # One insert near the walk's position (just behind it) and one ahead of it, every page.
        behind = seeded_starts[min(page_number * 2, len(seeded_starts) - 1)] + step
        ahead = seeded_starts[-1] - step * (page_number + 1)
        for start in (behind, ahead):
            if window_from <= start < window_to and _fits(spare, start):
                reply = world.create(world.booking_body(spare, slot=(start, start + step)))
                if reply.status == 201:
                    inserted.append(reply.json()["id"])

    items, pages = world.walk(window, limit=2, between_pages=insert)
    expect(inserted, "the scenario could not insert any booking during the walk", pages[-1])
    _check_walk(items, {b["id"] for b in before_walk}, f"walk with limit=2 while {len(inserted)} bookings were inserted", pages[-1])


@scenario(reads_only=True)
def test_walking_existing_bookings_never_repeats_and_keeps_order(world: World) -> None:
    """The default listing, walked with limit=5, never repeats a booking and keeps start_at-then-id order."""
    items, pages = world.walk({}, limit=5, max_pages=40, must_end=False)
    _check_walk(items, set(), "default listing walked with limit=5", pages[-1])
    now = world.now() - timedelta(seconds=5)
    early = [b["id"] for b in items if parse_instant(b["start_at"]) < now.replace(microsecond=0) - timedelta(minutes=1)]
    expect(not early, f"{early[:3]} start before now, but `from` defaults to now", pages[-1])
