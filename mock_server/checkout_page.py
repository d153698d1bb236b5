"""The mock's stand-in for Stripe Checkout: one server-rendered, self-contained, accessible HTML page.

No scripts, no external assets (styles are inline), plain forms that work with any browser or
`curl -d ''`. Everything shown is escaped. The page is rendered from the booking and the mock clock;
it never changes state itself — Pay and Abandon are POSTs handled in `api/checkout.py`.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from .domain.instants import format_instant
from .domain.models import Booking, BookingStatus

# ISO 4217 currencies without minor units; every other currency is shown with two decimals.
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "CHF": "CHF\u00a0", "AUD": "A$", "CAD": "CA$"}

# Messages after a button press, shown in a status region (the redirect carries `?outcome=`).
OUTCOMES = ("paid", "abandoned", "not_payable")

STYLE = """
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body { margin: 0; background: #f4f5f7; color: #1a1a1a; line-height: 1.5; }
main { max-width: 32rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem 2rem; border-radius: 12px;
       box-shadow: 0 1px 3px rgba(0,0,0,.15); }
.mock { font-size: .875rem; color: #4a4a4a; background: #fff4d6; border: 1px solid #c9a227; padding: .25rem .75rem;
        border-radius: 6px; }
h1 { font-size: 1.5rem; margin: 1rem 0 .5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .5rem 1.5rem; margin: 1.5rem 0; }
dt { font-weight: 600; color: #333; }
dd { margin: 0; }
.total { font-size: 1.25rem; font-weight: 700; }
[role=status] { padding: .75rem 1rem; border-radius: 8px; background: #e8f1fb; border: 1px solid #2a6bb3; }
[role=status]:empty { display: none; }
.actions { display: flex; gap: 1rem; flex-wrap: wrap; }
.actions form { margin: 0; }
button { font: inherit; font-weight: 600; padding: .75rem 1.5rem; border-radius: 8px; cursor: pointer;
         border: 2px solid #1d4ed8; min-height: 44px; }
button.pay { background: #1d4ed8; color: #fff; }
button.abandon { background: #fff; color: #1d4ed8; }
button:focus-visible, a:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
a { color: #1d4ed8; }
"""


def format_money(amount_minor: int, currency: str) -> str:
    """`8400, "GBP"` → `£84.00`; currencies without a known symbol read `84.00 SEK`."""
    code = currency.upper()
    digits = 0 if code in ZERO_DECIMAL else 2
    major = f"{amount_minor / 10**digits:,.{digits}f}"
    symbol = SYMBOLS.get(code)
    return f"{symbol}{major}" if symbol else f"{major}\u00a0{code}"


def format_duration(seconds: float) -> str:
    """Whole minutes and seconds, for the time left in the checkout window: `29 min 5 s`."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = ([f"{hours} h"] if hours else []) + ([f"{minutes} min"] if hours or minutes else []) + [f"{secs} s"]
    return " ".join(parts)


def _time(instant: datetime, text: str) -> str:
    return f'<time datetime="{format_instant(instant)}">{escape(text)}</time>'


def _when(booking: Booking) -> str:
    start, end = booking.start_at, booking.end_at
    day = _time(start, start.strftime("%A %-d %B %Y"))
    span = f"{_time(start, start.strftime('%H:%M'))}–{_time(end, end.strftime('%H:%M'))}"
    if end.date() != start.date():
        span = f"{_time(start, start.strftime('%H:%M'))} – {_time(end, end.strftime('%A %-d %B %Y %H:%M'))}"
    return f"{day}, {span} UTC"


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(title)} · LiteHQ checkout (mock)</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        '<main aria-labelledby="title">\n'
        '<p class="mock">Mock checkout of the LiteHQ Calendar API mock: no card is asked for and no money moves.</p>\n'
        f"{body}\n</main>\n</body>\n</html>\n"
    )


def render_checkout(booking: Booking, now: datetime, outcome: str | None = None) -> str:
    """The page for one booking in whatever state it is now."""
    status = booking.status
    price = format_money(booking.price_minor, booking.currency)
    details = [
        ("Booking", f"<code>{escape(booking.id)}</code>"),
        ("Room", escape(booking.room.name)),
        ("When", _when(booking)),
        ("Attendees", str(booking.attendees)),
        ("Total", f'<span class="total">{escape(price)}</span> <span>({escape(booking.currency)})</span>'),
    ]
    message = ""
    actions = ""
    if status is BookingStatus.PENDING_PAYMENT:
        assert booking.expires_at is not None
        left = (booking.expires_at - now).total_seconds()
        heading = "Pay for your booking"
        details.append((
            "Time left",
            f"{escape(format_duration(left))} to pay (the slot is held until "
            f"{_time(booking.expires_at, booking.expires_at.strftime('%H:%M:%S'))} UTC)",
        ))
        if outcome == "abandoned":
            message = (
                "You left the checkout without paying. The slot stays held until the time above; "
                "then the booking expires and the slot is released. You can still pay until then."
            )
        ref = escape(booking.id)
        actions = (
            '<div class="actions">\n'
            f'<form method="post" action="/_mock/checkout/{ref}/pay"><button type="submit" class="pay">Pay {escape(price)}</button></form>\n'
            f'<form method="post" action="/_mock/checkout/{ref}/abandon"><button type="submit" class="abandon">Abandon</button></form>\n'
            "</div>"
        )
    elif status is BookingStatus.CONFIRMED:
        heading = "Booking confirmed"
        message = f"Payment received: {price}. The booking is confirmed." if outcome == "paid" else "This booking is paid and confirmed."
    elif status is BookingStatus.EXPIRED:
        heading = "Checkout expired"
        message = (
            "The checkout window closed without payment, so this booking expired and its slot was released. "
            "Nothing was charged."
        )
    elif status is BookingStatus.CANCELLED:
        heading = "Booking cancelled"
        message = "This booking was cancelled; there is nothing to pay."
    else:
        heading = "Booking completed"
        message = "This booking is paid and has already taken place."
    if outcome == "not_payable" and status is not BookingStatus.PENDING_PAYMENT:
        message = f"Payment not taken: the booking is {status.value.replace('_', ' ')}. " + message
    rows = "\n".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in details)
    body = (
        f'<h1 id="title">{escape(heading)}</h1>\n'
        f'<div role="status" aria-live="polite">{escape(message)}</div>\n'
        f'<dl aria-label="Booking details">\n{rows}\n</dl>\n{actions}'
    )
    return _page(heading, body)


def render_missing(booking_id: str) -> str:
    body = (
        '<h1 id="title">No such checkout</h1>\n'
        f'<div role="status" aria-live="polite">There is no booking {escape(booking_id)} on this mock. '
        "It may have been reset; create the booking again to get a new checkout link.</div>"
    )
    return _page("No such checkout", body)
