"""The mock served in-process (httpx over ASGI), on a frozen clock, with every response contract-checked."""

from __future__ import annotations

import uuid
import warnings
from datetime import UTC, datetime

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # connexion imports starlette.testclient, which warns about httpx
    from mock_server.app import create_app, load_documents
from mock_server.domain.clock import MockClock

NOW = datetime(2026, 5, 22, 9, 0, tzinfo=UTC)
RW = {"Authorization": "Bearer sk_test_demo_rw"}
RO = {"Authorization": "Bearer sk_test_demo_ro"}
OTHER = {"Authorization": "Bearer sk_test_other_rw"}
NOSTRIPE = {"Authorization": "Bearer sk_test_nostripe_rw"}
REVOKED = {"Authorization": "Bearer sk_test_demo_revoked"}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit")


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def clock() -> MockClock:
    return MockClock(NOW, frozen=True)


@pytest.fixture(scope="session")
def documents():
    return load_documents()


@pytest.fixture
def app(clock, documents):
    app = create_app(clock=clock, seed=11, validate_responses=True, documents=documents)
    yield app
    assert app.contract_violations == [], "responses broke the contract"


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def booking_body(start="2026-05-23T14:00:00Z", end="2026-05-23T15:30:00Z", room="rm_studio", **extra) -> dict:
    return {"room_id": room, "start_at": start, "end_at": end, "booked_by": {"member_id": "mem_alice"}, **extra}


async def create(client, headers=RW, key=None, **kwargs) -> httpx.Response:
    key = key or str(uuid.uuid4())
    return await client.post("/v1/bookings", headers={**headers, "Idempotency-Key": key}, json=booking_body(**kwargs))


def assert_error(response: httpx.Response, status: int, code: str, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["request_id"] == response.headers["X-Request-Id"]
    if param is not None:
        assert error.get("param") == param, error
    return error
