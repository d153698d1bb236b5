"""Slot grid alignment, opening hours, pricing and RFC 3339 parsing."""

from datetime import UTC, datetime, time

import pytest

from mock_server.domain import pricing, slots
from mock_server.domain.errors import InvalidRequest, SlotMisaligned
from mock_server.domain.instants import format_instant, parse_instant
from mock_server.domain.models import Room


def room(slot=30, opens=time(8), closes=time(22), rate=5600) -> Room:
    return Room("rm_x", "ws_x", "X", "studio", 8, slot, opens, closes, rate, "GBP")


def at(text: str) -> datetime:
    return parse_instant(text, param="t")


def test_check_alignment_on_grid_passes():
    slots.check_alignment(room(), at("2026-05-23T14:00:00Z"), at("2026-05-23T15:30:00Z"))


@pytest.mark.parametrize(
    ("start", "end", "param"),
    [
        ("2026-05-23T14:10:00Z", "2026-05-23T15:30:00Z", "start_at"),
        ("2026-05-23T14:00:00Z", "2026-05-23T15:20:00Z", "end_at"),
        ("2026-05-23T14:00:30Z", "2026-05-23T15:30:00Z", "start_at"),
        ("2026-05-23T14:00:00.5Z", "2026-05-23T15:30:00Z", "start_at"),
    ],
)
def test_check_alignment_off_grid_raises_slot_misaligned(start, end, param):
    with pytest.raises(SlotMisaligned) as exc:
        slots.check_alignment(room(), at(start), at(end))
    assert exc.value.param == param


def test_check_alignment_grid_is_anchored_at_utc_midnight_not_local_offset():
    # 14:00+05:30 is 08:30Z: on a 30-minute grid, off a 60-minute one.
    slots.check_alignment(room(30), at("2026-05-23T14:00:00+05:30"), at("2026-05-23T15:00:00+05:30"))
    with pytest.raises(SlotMisaligned):
        slots.check_alignment(room(60), at("2026-05-23T14:00:00+05:30"), at("2026-05-23T15:00:00+05:30"))


def test_is_open_throughout_inside_hours_true_outside_false():
    r = room()
    assert slots.is_open_throughout(r, at("2026-05-23T08:00:00Z"), at("2026-05-23T22:00:00Z"))
    assert not slots.is_open_throughout(r, at("2026-05-23T07:30:00Z"), at("2026-05-23T09:00:00Z"))
    assert not slots.is_open_throughout(r, at("2026-05-23T21:30:00Z"), at("2026-05-23T22:30:00Z"))
    assert not slots.is_open_throughout(r, at("2026-05-23T20:00:00Z"), at("2026-05-24T09:00:00Z"))


def test_is_open_throughout_round_the_clock_room_spans_midnight():
    r = room(15, time(0), None)
    assert slots.is_open_throughout(r, at("2026-05-23T23:00:00Z"), at("2026-05-25T01:00:00Z"))


def test_is_open_throughout_overnight_hours_wrap_midnight():
    r = room(30, time(22), time(2))
    assert slots.is_open_throughout(r, at("2026-05-23T23:00:00Z"), at("2026-05-24T01:30:00Z"))
    assert slots.is_open_throughout(r, at("2026-05-24T00:00:00Z"), at("2026-05-24T02:00:00Z"))
    assert not slots.is_open_throughout(r, at("2026-05-24T01:30:00Z"), at("2026-05-24T02:30:00Z"))


def test_closed_windows_one_day_are_before_opening_and_after_closing():
    closed = slots.closed_windows(room(), at("2026-05-23T00:00:00Z"), at("2026-05-24T00:00:00Z"))
    assert [(format_instant(a), format_instant(b)) for a, b in closed] == [
        ("2026-05-23T00:00:00Z", "2026-05-23T08:00:00Z"),
        ("2026-05-23T22:00:00Z", "2026-05-24T00:00:00Z"),
    ]


def test_closed_windows_round_the_clock_room_is_never_closed():
    assert slots.closed_windows(room(15, time(0), None), at("2026-05-23T00:00:00Z"), at("2026-05-30T00:00:00Z")) == []


def test_price_minor_docs_example_costs_8400():
    assert pricing.price_minor(room(), at("2026-05-23T14:00:00Z"), at("2026-05-23T15:30:00Z")) == 8400


def test_price_minor_odd_rate_rounds_half_up():
    # 15 minutes of 1002/h = 250.5 → 251
    assert pricing.price_minor(room(15, rate=1002), at("2026-05-23T14:00:00Z"), at("2026-05-23T14:15:00Z")) == 251


@pytest.mark.parametrize(("policy", "expected"), [("full", 8401), ("partial", 4200), ("none", 0)])
def test_refund_minor_policies(policy, expected):
    assert pricing.refund_minor(8401, policy) == expected


def test_parse_instant_offset_is_converted_to_utc():
    assert format_instant(at("2026-05-23T16:00:00+02:00")) == "2026-05-23T14:00:00Z"


@pytest.mark.parametrize("text", ["2026-05-23", "2026-13-01T00:00:00Z", "2026-05-23T23:59:60Z", "0001-01-01T00:00:00+01:00", "nope"])
def test_parse_instant_impossible_values_raise_invalid_request_with_param(text):
    with pytest.raises(InvalidRequest) as exc:
        parse_instant(text, param="start_at")
    assert exc.value.param == "start_at"
