"""The checkout page behind `checkout_url`: what it shows, Pay, Abandon, expiry; HTML without the browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from mock_server.checkout_page import format_duration, format_money

from .conftest import OTHER, RW, create

pytestmark = pytest.mark.anyio


class Page(HTMLParser):
    """What a person (or a screen reader) gets from the page: text, headings, forms, buttons, assets."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.forms: list[str] = []
        self.buttons: list[str] = []
        self._in_button = False
        self.h1 = ""
        self._in_h1 = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "form":
            self.forms.append(f"{attributes.get('method')} {attributes.get('action')}")
        self._in_button = tag == "button" or self._in_button
        self._in_h1 = tag == "h1" or self._in_h1

    def handle_endtag(self, tag):
        if tag == "button":
            self._in_button = False
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_button and data.strip():
            self.buttons.append(data.strip())
        if self._in_h1:
            self.h1 += data

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


async def open_page(client, url: str) -> tuple[int, Page, object]:
    response = await client.get(url)
    return response.status_code, Page(response.text), response


def path_of(checkout_url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", checkout_url)


async def test_pending_booking_page_shows_room_time_attendees_price_and_time_left(client):
    booking = (await create(client, attendees=4)).json()
    assert booking["checkout_url"] == f"http://127.0.0.1:8080/_mock/checkout/{booking['id']}"
    status, page, response = await open_page(client, path_of(booking["checkout_url"]))
    assert status == 200 and response.headers["content-type"] == "text/html" and response.headers["cache-control"] == "no-store"
    assert page.h1 == "Pay for your booking"
    text = page.plain
    for shown in ("Studio", "Saturday 23 May 2026", "14:00", "15:30", "UTC", "Attendees 4", "£84.00", "(GBP)", "30 min 0 s to pay", "09:30:00 UTC"):
        assert shown in text, shown
    assert page.forms == [f"post /_mock/checkout/{booking['id']}/pay", f"post /_mock/checkout/{booking['id']}/abandon"]
    assert page.buttons == ["Pay £84.00", "Abandon"]


async def test_page_is_self_contained_and_accessible(client):
    booking = (await create(client)).json()
    html = (await client.get(path_of(booking["checkout_url"]))).text
    page = Page(html)
    assert html.startswith("<!doctype html>")
    assert ("html", {"lang": "en"}) in page.tags
    assert any(tag == "meta" and attrs.get("charset") == "utf-8" for tag, attrs in page.tags)
    assert any(tag == "meta" and attrs.get("name") == "viewport" for tag, attrs in page.tags)
    assert "<title>Pay for your booking · LiteHQ checkout (mock)</title>" in html
    assert ("main", {"aria-labelledby": "title"}) in page.tags and ("h1", {"id": "title"}) in page.tags
    assert any(tag == "div" and attrs.get("role") == "status" for tag, attrs in page.tags)
    assert all(attrs.get("type") == "submit" for tag, attrs in page.tags if tag == "button")
    # No scripts, no external assets of any kind.
    assert not any(tag in ("script", "link", "img", "iframe") for tag, _ in page.tags)
    assert "http://" not in html and "https://" not in html and "src=" not in html and "url(" not in html


async def test_pay_confirms_the_booking_fires_booking_confirmed_and_redirects_to_the_page(client):
    booking = (await create(client)).json()
    response = await client.post(f"/_mock/checkout/{booking['id']}/pay", data={})
    assert response.status_code == 303 and response.headers["location"] == f"/_mock/checkout/{booking['id']}?outcome=paid"
    confirmed = (await client.get(f"/v1/bookings/{booking['id']}", headers=RW)).json()
    assert confirmed["status"] == "confirmed" and [c["kind"] for c in confirmed["charges"]] == ["booking"]
    events = (await client.get("/_mock/workspaces/ws_demo/events")).json()["data"]
    assert [e["type"] for e in events] == ["booking.created", "booking.confirmed"]
    status, page, _ = await open_page(client, response.headers["location"])
    assert status == 200 and page.h1 == "Booking confirmed" and "Payment received: £84.00" in page.plain
    assert page.buttons == []


async def test_abandon_leaves_the_booking_pending_until_the_window_elapses_then_the_page_says_expired(client):
    booking = (await create(client)).json()
    response = await client.post(f"/_mock/checkout/{booking['id']}/abandon")
    assert response.status_code == 303 and response.headers["location"].endswith("?outcome=abandoned")
    assert (await client.get(f"/v1/bookings/{booking['id']}", headers=RW)).json()["status"] == "pending_payment"
    _, page, _ = await open_page(client, response.headers["location"])
    assert "You left the checkout without paying" in page.plain and page.buttons == ["Pay £84.00", "Abandon"]

    await client.post("/_mock/clock/advance", json={"seconds": 10 * 60})
    _, page, _ = await open_page(client, path_of(booking["checkout_url"]))
    assert "20 min 0 s to pay" in page.plain

    await client.post("/_mock/clock/advance", json={"seconds": 20 * 60})
    _, page, _ = await open_page(client, path_of(booking["checkout_url"]))
    assert page.h1 == "Checkout expired" and "Nothing was charged" in page.plain and page.buttons == []
    assert (await client.get(f"/v1/bookings/{booking['id']}", headers=RW)).json()["status"] == "expired"
    events = (await client.get("/_mock/workspaces/ws_demo/events")).json()["data"]
    assert [e["type"] for e in events] == ["booking.created", "booking.expired"]


async def test_pay_after_expiry_takes_no_payment_and_says_so(client):
    booking = (await create(client)).json()
    await client.post("/_mock/clock/advance", json={"seconds": 31 * 60})
    response = await client.post(f"/_mock/checkout/{booking['id']}/pay")
    assert response.status_code == 303 and response.headers["location"].endswith("?outcome=not_payable")
    _, page, _ = await open_page(client, response.headers["location"])
    assert page.plain.count("Payment not taken: the booking is expired.") == 1
    assert (await client.get(f"/v1/bookings/{booking['id']}", headers=RW)).json()["charges"] == []


async def test_cancelled_booking_page_has_nothing_to_pay(client):
    booking = (await create(client)).json()
    await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=RW, json={})
    _, page, _ = await open_page(client, f"/_mock/checkout/{booking['id']}")
    assert page.h1 == "Booking cancelled" and page.buttons == []


async def test_unknown_booking_is_a_404_page(client):
    for method, path in (("GET", "/_mock/checkout/bk_nope"), ("POST", "/_mock/checkout/bk_nope/pay"), ("POST", "/_mock/checkout/bk_nope/abandon")):
        response = await client.request(method, path)
        assert response.status_code == 404 and response.headers["content-type"] == "text/html"
        assert Page(response.text).h1 == "No such checkout"


async def test_malformed_booking_id_is_400_and_head_works(client):
    assert (await client.get("/_mock/checkout/nope")).status_code == 400
    booking = (await create(client)).json()
    head = await client.head(f"/_mock/checkout/{booking['id']}")
    assert head.status_code == 200 and head.content == b""


async def test_other_workspace_currency_is_shown_in_its_own_money(client):
    booking = (await create(client, headers=OTHER, room="rm_otherstudio", booked_by={"guest": {"email": "g@example.com", "name": "<b>G</b>"}})).json()
    _, page, response = await open_page(client, path_of(booking["checkout_url"]))
    assert "€" in page.plain and "(EUR)" in page.plain
    assert "<b>G</b>" not in response.text


def test_money_and_durations_read_naturally():
    assert format_money(8400, "GBP") == "£84.00"
    assert format_money(123456, "EUR") == "€1,234.56"
    assert format_money(500, "JPY") == "¥500"
    assert format_money(995, "SEK") == "9.95\u00a0SEK"
    assert format_duration(29 * 60 + 5) == "29 min 5 s"
    assert format_duration(3600 * 2 + 61) == "2 h 1 min 1 s"
    assert format_duration(-3) == "0 s"
