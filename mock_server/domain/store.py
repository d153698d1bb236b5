"""In-memory records with the indexes that keep every query O(log n + page): no scans."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sortedcontainers import SortedList

from .models import (
    HOLDING_STATUSES,
    ApiToken,
    Booking,
    BookingStatus,
    Company,
    Event,
    Member,
    Room,
    Workspace,
)

SortKey = tuple[datetime, str]


@dataclass(slots=True, frozen=True)
class BookingFilter:
    """The filter set of a list query; `start_from` inclusive, `start_to` exclusive on start_at."""

    start_from: datetime
    start_to: datetime
    status: BookingStatus | None = None
    room_id: str | None = None
    member_id: str | None = None
    company_id: str | None = None

    def matches(self, booking: Booking) -> bool:
        return (
            (self.status is None or booking.status is self.status)
            and (self.room_id is None or booking.room.id == self.room_id)
            and (self.member_id is None or booking.booker.member_id == self.member_id)
            and (self.company_id is None or booking.booker.company_id == self.company_id)
        )


@dataclass(slots=True)
class _WorkspaceBookings:
    """Sorted (start_at, id) keys of one workspace's bookings: all, and per filterable value."""

    everything: SortedList = field(default_factory=SortedList)
    by_facet: dict[tuple[str, str], SortedList] = field(default_factory=dict)

    def add(self, key: SortKey, facets: list[tuple[str, str]]) -> None:
        self.everything.add(key)
        for facet in facets:
            index = self.by_facet.get(facet)
            if index is None:
                index = self.by_facet[facet] = SortedList()
            index.add(key)

    def remove(self, key: SortKey, facets: list[tuple[str, str]]) -> None:
        self.everything.remove(key)
        for facet in facets:
            self.by_facet[facet].remove(key)


def _facets(booking: Booking) -> list[tuple[str, str]]:
    facets = [("status", booking.status.value), ("room", booking.room.id)]
    if booking.booker.member_id is not None:
        facets.append(("member", booking.booker.member_id))
    if booking.booker.company_id is not None:
        facets.append(("company", booking.booker.company_id))
    return facets


@dataclass(slots=True, order=True)
class DueTransition:
    """A lifecycle transition that falls due at `due_at` (expire a hold, complete a booking)."""

    due_at: datetime
    seq: int
    booking_id: str = field(compare=False)
    kind: str = field(compare=False)  # "expire" | "complete"


class Store:
    """All state of one backend. Bookings are indexed three ways: by id; per workspace by
    (start_at, id), overall and per status/room/member/company, for listing; and per room by
    interval, holding bookings only, for overlap checks."""

    def __init__(self) -> None:
        self.workspaces: dict[str, Workspace] = {}
        self.tokens: dict[str, ApiToken] = {}
        self.rooms: dict[str, Room] = {}
        self.rooms_by_workspace: dict[str, SortedList] = {}
        self.members: dict[str, Member] = {}
        self.companies: dict[str, Company] = {}
        self.bookings: dict[str, Booking] = {}
        self.events: dict[str, list[Event]] = {}
        self._listing: dict[str, _WorkspaceBookings] = {}
        # Per room: (start_at, end_at, id) of pending/confirmed bookings. Those never overlap each
        # other (creation and edits refuse overlaps), which is what makes the overlap query cheap.
        self._occupancy: dict[str, SortedList] = {}
        self._due: list[DueTransition] = []
        self._due_seq = itertools.count()

    # -- reference data -------------------------------------------------------------------------

    def add_workspace(self, workspace: Workspace) -> None:
        self.workspaces[workspace.id] = workspace
        self.rooms_by_workspace.setdefault(workspace.id, SortedList())
        self.events.setdefault(workspace.id, [])
        self._listing.setdefault(workspace.id, _WorkspaceBookings())

    def add_token(self, token: ApiToken) -> None:
        self.tokens[token.token] = token

    def add_room(self, room: Room) -> None:
        self.rooms[room.id] = room
        self.rooms_by_workspace[room.workspace_id].add(room.id)
        self._occupancy.setdefault(room.id, SortedList())

    def add_company(self, company: Company) -> None:
        self.companies[company.id] = company

    def add_member(self, member: Member) -> None:
        self.members[member.id] = member

    def room_in(self, workspace_id: str, room_id: str) -> Room | None:
        room = self.rooms.get(room_id)
        return room if room is not None and room.workspace_id == workspace_id else None

    def member_in(self, workspace_id: str, member_id: str) -> Member | None:
        member = self.members.get(member_id)
        return member if member is not None and member.workspace_id == workspace_id else None

    def rooms_page(self, workspace_id: str, after_id: str | None, limit: int) -> tuple[list[Room], bool]:
        ids = self.rooms_by_workspace.get(workspace_id, SortedList())
        start = ids.bisect_right(after_id) if after_id is not None else 0
        page = [self.rooms[i] for i in ids[start : start + limit + 1]]
        return page[:limit], len(page) > limit

    # -- bookings -------------------------------------------------------------------------------

    def booking_in(self, workspace_id: str, booking_id: str) -> Booking | None:
        booking = self.bookings.get(booking_id)
        return booking if booking is not None and booking.workspace_id == workspace_id else None

    def insert_booking(self, booking: Booking) -> None:
        self.bookings[booking.id] = booking
        self._index(booking)

    def unindex(self, booking: Booking) -> None:
        """Take a booking out of the sorted indexes before changing a field they are keyed on."""
        self._listing[booking.workspace_id].remove(booking.sort_key, _facets(booking))
        if booking.status in HOLDING_STATUSES:
            self._occupancy[booking.room.id].remove((booking.start_at, booking.end_at, booking.id))

    def reindex(self, booking: Booking) -> None:
        self._index(booking)

    def _index(self, booking: Booking) -> None:
        self._listing[booking.workspace_id].add(booking.sort_key, _facets(booking))
        if booking.status in HOLDING_STATUSES:
            self._occupancy[booking.room.id].add((booking.start_at, booking.end_at, booking.id))

    def holding_bookings(self, room_id: str, start: datetime, end: datetime) -> Iterator[Booking]:
        """Pending or confirmed bookings of a room that overlap [start, end), in start order."""
        occupancy = self._occupancy.get(room_id)
        if not occupancy:
            return
        i = occupancy.bisect_left((start,))
        if i > 0 and occupancy[i - 1][1] > start:
            i -= 1  # the one booking that may start before `start` and reach into the range
        for item_start, _item_end, booking_id in occupancy.islice(i):
            if item_start >= end:
                break
            if _item_end > start:
                yield self.bookings[booking_id]

    def bookings_page(
        self, workspace_id: str, flt: BookingFilter, after: SortKey | None, limit: int
    ) -> tuple[list[Booking], bool]:
        """One page of matching bookings in (start_at, id) order after `after`, and whether more exist."""
        listing = self._listing.get(workspace_id)
        if listing is None:
            return [], False
        # Walk the smallest index that already implies one of the filters; check the rest per item.
        candidates = [listing.everything]
        for facet, value in (
            ("room", flt.room_id),
            ("member", flt.member_id),
            ("company", flt.company_id),
            ("status", flt.status.value if flt.status else None),
        ):
            if value is not None:
                candidates.append(listing.by_facet.get((facet, value), SortedList()))
        index = min(candidates, key=len)
        if after is not None and after >= (flt.start_from, ""):
            keys = index.irange(minimum=after, maximum=(flt.start_to, ""), inclusive=(False, False))
        else:
            keys = index.irange(minimum=(flt.start_from, ""), maximum=(flt.start_to, ""), inclusive=(True, False))
        page: list[Booking] = []
        for _start, booking_id in keys:
            booking = self.bookings[booking_id]
            if flt.matches(booking):
                if len(page) == limit:
                    return page, True
                page.append(booking)
        return page, False

    def all_bookings(self, workspace_id: str) -> Iterator[Booking]:
        listing = self._listing.get(workspace_id)
        if listing is None:
            return
        for _start, booking_id in listing.everything:
            yield self.bookings[booking_id]

    # -- due transitions ------------------------------------------------------------------------

    def schedule(self, due_at: datetime, booking_id: str, kind: str) -> None:
        heapq.heappush(self._due, DueTransition(due_at, next(self._due_seq), booking_id, kind))

    def pop_due(self, now: datetime) -> DueTransition | None:
        """The earliest transition due at or before `now`, if any (stale ones are the caller's to skip)."""
        if self._due and self._due[0].due_at <= now:
            return heapq.heappop(self._due)
        return None

    def next_due_at(self) -> datetime | None:
        return self._due[0].due_at if self._due else None
