"""The Python client openapi-python-client generates from dist/openapi.json, used against a live mock
exactly as an SDK author's user would: typed models in, typed models (or the typed error) out."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

RW_TOKEN = "sk_test_demo_rw"
RO_TOKEN = "sk_test_demo_ro"


@pytest.fixture
def api(python_sdk, live_mock):  # type: ignore[no-untyped-def]
    httpx.post(f"{live_mock.url}/_mock/reset", timeout=5).raise_for_status()
    with python_sdk.AuthenticatedClient(base_url=live_mock.url, token=RW_TOKEN, raise_on_unexpected_status=True) as client:
        yield client


def _day_after_tomorrow() -> datetime:
    """A day the demo fixture leaves free in rm_studio (its blackouts are in other rooms)."""
    return (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)


def _create(sdk, client, start: datetime, minutes: int = 60, key: str | None = None, **fields):  # type: ignore[no-untyped-def]
    from litehq_calendar.api.bookings import create_booking
    from litehq_calendar.models import BookingCreate, MemberBookerInput

    body = BookingCreate(room_id="rm_studio", start_at=start, end_at=start + timedelta(minutes=minutes),
                         booked_by=MemberBookerInput(member_id="mem_alice"), **fields)
    return create_booking.sync_detailed(client=client, body=body, idempotency_key=key or str(uuid.uuid4()))


def test_list_bookings_walks_every_page_along_next_cursor(python_sdk, api):
    from litehq_calendar.api.bookings import list_bookings
    from litehq_calendar.models import Booking, BookingList

    day = _day_after_tomorrow()
    created = []
    for hour in (9, 10, 11, 12, 13):
        response = _create(python_sdk, api, day.replace(hour=hour))
        assert response.status_code == 201, response.content
        created.append(response.parsed.id)

    walked, pages, cursor = [], 0, None
    while pages < 10:
        kwargs = {"cursor": cursor} if cursor else {}
        page = list_bookings.sync(client=api, from_=day, to=day + timedelta(days=1), room_id="rm_studio", limit=2, **kwargs)
        assert isinstance(page, BookingList)
        assert all(isinstance(booking, Booking) for booking in page.data)
        assert len(page.data) <= 2
        walked += [booking.id for booking in page.data]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert walked == created  # ordered by start_at, none repeated or skipped
    assert pages == 3


def test_create_with_idempotency_key_replays_and_conflicts_as_typed_results(python_sdk, api):
    from litehq_calendar.models import Booking, BookingStatus, Error, ErrorCode

    start = _day_after_tomorrow().replace(hour=14)
    key = f"sdk-{uuid.uuid4()}"
    first = _create(python_sdk, api, start, minutes=90, key=key, attendees=4, notes="Studio mic check 13:55")
    assert first.status_code == 201
    booking = first.parsed
    assert isinstance(booking, Booking)
    assert booking.status is BookingStatus.PENDING_PAYMENT
    assert (booking.room.id, booking.room.name) == ("rm_studio", "Studio")
    assert booking.price.amount_minor == 8400 and booking.price.currency == "GBP"
    assert booking.start_at == start and booking.booked_by.member_id == "mem_alice"
    assert first.headers["Location"].endswith(f"/v1/bookings/{booking.id}")

    retry = _create(python_sdk, api, start, minutes=90, key=key, attendees=4, notes="Studio mic check 13:55")
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.parsed.id == booking.id

    reused = _create(python_sdk, api, start, minutes=60, key=key, attendees=4)
    assert reused.status_code == 409
    assert isinstance(reused.parsed, Error)
    assert reused.parsed.error.code is ErrorCode.IDEMPOTENCY_CONFLICT


def test_patch_lengthens_a_confirmed_booking_with_a_delta_charge(python_sdk, api, live_mock):
    from litehq_calendar.api.bookings import update_booking
    from litehq_calendar.models import Booking, BookingStatus, BookingUpdate, ChargeKind

    start = _day_after_tomorrow().replace(hour=14)
    booking = _create(python_sdk, api, start, minutes=90, attendees=4).parsed
    httpx.post(f"{live_mock.url}/_mock/bookings/{booking.id}/checkout/complete", timeout=5).raise_for_status()

    updated = update_booking.sync(client=api, id=booking.id, idempotency_key=str(uuid.uuid4()),
                                  body=BookingUpdate(end_at=start + timedelta(hours=2), attendees=6, notes="Extended by 30 min"))
    assert isinstance(updated, Booking)
    assert updated.status is BookingStatus.CONFIRMED
    assert (updated.end_at, updated.attendees, updated.notes) == (start + timedelta(hours=2), 6, "Extended by 30 min")
    assert [(c.kind, c.amount.amount_minor) for c in updated.charges] == [(ChargeKind.BOOKING, 8400), (ChargeKind.DELTA, 2800)]


def test_cancel_returns_the_cancelled_booking_with_its_refund(python_sdk, api, live_mock):
    from litehq_calendar.api.bookings import cancel_booking, get_booking
    from litehq_calendar.models import BookingCancel, BookingStatus, CancellationReason, RefundPolicy

    booking = _create(python_sdk, api, _day_after_tomorrow().replace(hour=16), minutes=90).parsed
    httpx.post(f"{live_mock.url}/_mock/bookings/{booking.id}/checkout/complete", timeout=5).raise_for_status()

    cancelled = cancel_booking.sync(client=api, id=booking.id, body=BookingCancel(
        reason=CancellationReason.MEMBER_REQUESTED, refund_policy=RefundPolicy.PARTIAL, notify_attendees=False))
    assert cancelled.status is BookingStatus.CANCELLED
    assert cancelled.cancellation.reason is CancellationReason.MEMBER_REQUESTED
    assert cancelled.cancellation.refund.amount.amount_minor == 4200  # half of 8400
    assert get_booking.sync(client=api, id=booking.id).status is BookingStatus.CANCELLED


def test_errors_arrive_as_the_clients_typed_error(python_sdk, api, live_mock):
    from litehq_calendar import AuthenticatedClient
    from litehq_calendar.api.bookings import cancel_booking, get_booking
    from litehq_calendar.models import Error, ErrorCode, ErrorDetail

    missing = get_booking.sync_detailed(client=api, id="bk_doesnotexist")
    assert missing.status_code == 404
    assert isinstance(missing.parsed, Error) and isinstance(missing.parsed.error, ErrorDetail)
    assert missing.parsed.error.code is ErrorCode.BOOKING_NOT_FOUND
    assert missing.parsed.error.request_id == missing.headers["X-Request-Id"]

    with AuthenticatedClient(base_url=live_mock.url, token=RO_TOKEN) as read_only:
        refused = _create(python_sdk, read_only, _day_after_tomorrow().replace(hour=18))
    assert refused.status_code == 403
    assert refused.parsed.error.code is ErrorCode.AUTH_SCOPE_INSUFFICIENT

    booking = _create(python_sdk, api, _day_after_tomorrow().replace(hour=19)).parsed
    assert cancel_booking.sync(client=api, id=booking.id).status.value == "cancelled"
    again = cancel_booking.sync(client=api, id=booking.id)
    assert isinstance(again, Error) and again.error.code is ErrorCode.BOOKING_NOT_CANCELLABLE

    misaligned = _create(python_sdk, api, _day_after_tomorrow().replace(hour=20, minute=10))
    assert misaligned.status_code == 422
    assert misaligned.parsed.error.code is ErrorCode.SLOT_MISALIGNED
