"""Handlers of the mock's checkout page (`checkout_url`): show it, Pay, Abandon. HTML, not JSON."""

from __future__ import annotations

from connexion.lifecycle import ConnexionResponse

from ..checkout_page import render_checkout, render_missing
from ..domain.backend import Backend
from ..domain.errors import BookingNotFound, CheckoutNotPending

HTML = "text/html"


def html_response(page: str, status: int = 200) -> ConnexionResponse:
    # `<meta charset="utf-8">` in the page names the encoding; the media type stays exactly as documented.
    return ConnexionResponse(status_code=status, body=page.encode("utf-8"), headers={"Content-Type": HTML, "Cache-Control": "no-store"})


def see_page(booking_id: str, outcome: str) -> ConnexionResponse:
    """Post/Redirect/Get: after a button, the browser loads the page again (a reload resubmits nothing)."""
    return ConnexionResponse(status_code=303, headers={"Location": f"/_mock/checkout/{booking_id}?outcome={outcome}"})


class CheckoutPage:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def operations(self) -> dict:
        names = ("showCheckout", "payCheckout", "abandonCheckout")
        return {name: getattr(self, name) for name in names}

    async def showCheckout(self, id_, outcome=None):
        try:
            booking = self.backend.checkout_booking(id_)
        except BookingNotFound:
            return html_response(render_missing(id_), 404)
        return html_response(render_checkout(booking, self.backend.clock.now(), outcome))

    async def payCheckout(self, id_):
        try:
            self.backend.complete_checkout(id_)
        except BookingNotFound:
            return html_response(render_missing(id_), 404)
        except CheckoutNotPending:
            return see_page(id_, "not_payable")
        return see_page(id_, "paid")

    async def abandonCheckout(self, id_):
        # Leaving Stripe Checkout changes nothing: the hold runs until expires_at, then expires.
        try:
            self.backend.checkout_booking(id_)
        except BookingNotFound:
            return html_response(render_missing(id_), 404)
        return see_page(id_, "abandoned")
