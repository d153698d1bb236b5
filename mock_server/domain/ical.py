"""The workspace's bookings as an RFC 5545 calendar, built with the `icalendar` library."""

from __future__ import annotations

from collections.abc import Iterable

from icalendar import Calendar, Event

from .models import Booking, BookingStatus

# Expired bookings never held a real slot, so calendars do not show them at all.
_ICAL_STATUS = {
    BookingStatus.PENDING_PAYMENT: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
}


def calendar_feed(bookings: Iterable[Booking]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//LiteHQ//Calendar API//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "LiteHQ bookings")
    for booking in bookings:
        status = _ICAL_STATUS.get(booking.status)
        if status is None:
            continue
        people = "1 attendee" if booking.attendees == 1 else f"{booking.attendees} attendees"
        event = Event()
        event.add("uid", f"{booking.id}@litehq")
        event.add("dtstamp", booking.updated_at.replace(microsecond=0))
        event.add("dtstart", booking.start_at)
        event.add("dtend", booking.end_at)
        event.add("summary", f"{booking.room.name} — {people}")
        event.add("status", status)
        event.add("sequence", booking.sequence)
        event.add("location", booking.room.name)
        calendar.add_component(event)
    return calendar.to_ical()
