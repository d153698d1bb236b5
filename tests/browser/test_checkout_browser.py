"""A person at the checkout page, in headless Chromium: create a booking as the docs' curl does, open its
`checkout_url`, press Pay — the API says confirmed and the webhook receiver gets a correctly signed
`booking.confirmed`; press Abandon — the booking stays pending, and once the window has passed the
page says it expired. Everything the page loads comes from the mock itself."""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from conformance.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.browser

TOKEN = {"Authorization": "Bearer sk_test_demo_rw"}
SECRET = "whsec_browserTest42"


@pytest.fixture(scope="module")
def api(live_mock) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=live_mock.url, timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def receiver(api) -> Iterator[WebhookReceiver]:  # type: ignore[no-untyped-def]
    with WebhookReceiver() as server:
        registered = api.put("/_mock/workspaces/ws_demo/webhook", json={"url": server.url, "secret": SECRET, "base_delay_ms": 100})
        assert registered.status_code == 200, registered.text
        yield server


def book(api: httpx.Client, hour: int) -> dict:
    """POST /v1/bookings exactly as the docs' curl example does: 14:00-15:30 in the Studio costs £84.00."""
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    body = {
        "room_id": "rm_studio",
        "start_at": f"{day}T{hour:02d}:00:00Z",
        "end_at": f"{day}T{hour + 1:02d}:30:00Z",
        "booked_by": {"member_id": "mem_alice"},
        "notes": "Studio mic check 13:55",
        "attendees": 4,
    }
    created = api.post("/v1/bookings", json=body, headers={**TOKEN, "Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201, created.text
    return created.json()


def status_of(api: httpx.Client, booking_id: str) -> str:
    return api.get(f"/v1/bookings/{booking_id}", headers=TOKEN).json()["status"]


def signed_event(receiver: WebhookReceiver, booking_id: str, event_type: str) -> dict:
    """Wait for the event, check its signature with Python's own hmac (as the docs' Node sample does)."""
    def arrived(deliveries) -> bool:  # type: ignore[no-untyped-def]
        return any(json.loads(d.body)["type"] == event_type and json.loads(d.body)["data"]["object"]["id"] == booking_id
                   for d in deliveries)

    assert receiver.wait_until(arrived, timeout_s=10), f"{event_type} for {booking_id} never arrived"
    delivery = next(d for d in receiver.received if json.loads(d.body)["type"] == event_type
                    and json.loads(d.body)["data"]["object"]["id"] == booking_id)
    expected = hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivery.header("LiteHQ-Signature") or "", expected)
    return json.loads(delivery.body)


def open_checkout(browser, url: str, origin: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 800, "height": 900})
    foreign: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(origin) else foreign.append(request.url))
    page.goto(url, wait_until="load", timeout=15_000)
    return page, foreign


def test_pay_in_the_browser_confirms_the_booking_and_delivers_booking_confirmed(browser, api, live_mock, receiver, tmp_path: Path):  # type: ignore[no-untyped-def]
    booking = book(api, 14)
    assert booking["checkout_url"].startswith(live_mock.url + "/_mock/checkout/")
    page, foreign = open_checkout(browser, booking["checkout_url"], live_mock.url)
    try:
        assert page.get_by_role("heading", level=1).inner_text() == "Pay for your booking"
        details = page.get_by_label("Booking details").inner_text()
        for shown in ("Studio", "14:00", "15:30", "UTC", "4", "£84.00", "to pay"):
            assert shown in details, shown
        page.screenshot(path=str(tmp_path / "checkout-pending.png"), full_page=True)

        page.get_by_role("button", name="Pay £84.00").click()
        page.wait_for_url("**?outcome=paid", timeout=10_000)
        assert page.get_by_role("heading", level=1).inner_text() == "Booking confirmed"
        assert "Payment received: £84.00" in page.get_by_role("status").inner_text()
        assert page.get_by_role("button").count() == 0
        assert foreign == [], f"the page loaded something from outside the mock: {foreign}"
    finally:
        page.close()

    assert status_of(api, booking["id"]) == "confirmed"
    event = signed_event(receiver, booking["id"], "booking.confirmed")
    assert event["data"]["object"]["status"] == "confirmed" and event["data"]["object"]["charges"][0]["kind"] == "booking"


def test_abandon_by_keyboard_keeps_the_booking_pending_until_the_window_passes_then_the_page_says_expired(browser, api, live_mock, receiver):  # type: ignore[no-untyped-def]
    booking = book(api, 17)
    page, foreign = open_checkout(browser, booking["checkout_url"], live_mock.url)
    try:
        # Keyboard only: Tab reaches Pay first, then Abandon; Enter presses it.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Pay £84.00"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Abandon"
        page.keyboard.press("Enter")
        page.wait_for_url("**?outcome=abandoned", timeout=10_000)
        assert "You left the checkout without paying" in page.get_by_role("status").inner_text()
        assert status_of(api, booking["id"]) == "pending_payment"

        expires_at = datetime.fromisoformat(booking["expires_at"].replace("Z", "+00:00"))
        moved = api.put("/_mock/clock", json={"now": (expires_at + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")})
        assert moved.status_code == 200, moved.text
        page.reload(wait_until="load")
        assert page.get_by_role("heading", level=1).inner_text() == "Checkout expired"
        assert "Nothing was charged" in page.get_by_role("status").inner_text()
        assert page.get_by_role("button").count() == 0
        assert foreign == []
    finally:
        page.close()
        api.put("/_mock/clock", json={"now": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})

    assert status_of(api, booking["id"]) == "expired"
    assert signed_event(receiver, booking["id"], "booking.expired")["data"]["object"]["status"] == "expired"
