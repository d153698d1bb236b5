"""The injected clock and the seedable id source."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from mock_server.domain.clock import MockClock, SystemClock
from mock_server.domain.ids import PREFIXES, IdSource

from .conftest import NOW


def test_system_clock_now_is_aware_utc():
    now = SystemClock().now()
    assert now.utcoffset() == timedelta(0)


def test_mock_clock_frozen_does_not_move():
    clock = MockClock(NOW, frozen=True)
    time.sleep(0.01)
    assert clock.now() == NOW


def test_mock_clock_unfrozen_runs_from_anchor():
    clock = MockClock(NOW)
    time.sleep(0.01)
    assert NOW < clock.now() < NOW + timedelta(seconds=5)


def test_mock_clock_advance_and_set_move_now():
    clock = MockClock(NOW, frozen=True)
    clock.advance(timedelta(hours=2))
    assert clock.now() == NOW + timedelta(hours=2)
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)


def test_mock_clock_naive_time_is_rejected():
    with pytest.raises(ValueError):
        MockClock(datetime(2026, 1, 1))


def test_ids_new_same_seed_same_sequence():
    a, b = IdSource(42), IdSource(42)
    assert [a.new("bk") for _ in range(3)] == [b.new("bk") for _ in range(3)]


def test_ids_new_streams_per_prefix_are_independent():
    a, b = IdSource(42), IdSource(42)
    for _ in range(5):
        a.new("req")
    assert a.new("bk") == b.new("bk")


def test_ids_new_every_prefix_matches_contract_pattern():
    ids = IdSource(1)
    for prefix in PREFIXES:
        assert re.fullmatch(rf"{prefix}_[A-Za-z0-9]+", ids.new(prefix))


def test_ids_new_unknown_prefix_raises():
    with pytest.raises(ValueError):
        IdSource(1).new("xx")


def test_ids_new_unseeded_sources_differ():
    assert IdSource().new("bk") != IdSource().new("bk")


def test_ids_new_draws_what_random_choices_would():
    import hashlib
    import random

    from mock_server.domain.ids import BASE62, IdSource

    source = IdSource("fixed")
    reference = random.Random(hashlib.sha256(b"fixed:bk").digest())
    for _ in range(500):
        assert source.new("bk") == "bk_" + "".join(reference.choices(BASE62, k=16))
