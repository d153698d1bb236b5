"""Shared fixtures for the domain unit tests: a frozen mock clock and a backend on the demo fixture."""

from datetime import UTC, datetime

import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.clock import MockClock

NOW = datetime(2026, 5, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> MockClock:
    return MockClock(NOW, frozen=True)


@pytest.fixture
def backend(clock: MockClock) -> Backend:
    return Backend(clock=clock, seed=7)


@pytest.fixture
def demo(backend: Backend):
    return backend.authenticate("sk_test_demo_rw")


def create(backend: Backend, principal, start="2026-05-23T14:00:00Z", end="2026-05-23T15:30:00Z", room="rm_studio", **kwargs):
    kwargs.setdefault("booked_by", {"member_id": "mem_alice"})
    return backend.create_booking(principal, room_id=room, start_at=start, end_at=end, **kwargs)
