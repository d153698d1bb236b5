"""The one object holding a mock's whole state and rules; built by the app factory, `reset()` to the fixture."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import availability, ical
from .bookings import BookerInput, BookingChanges, BookingService
from .clock import Clock, MockClock, SystemClock
from .errors import (
    INVALID_TOKEN_CHALLENGE,
    AuthInvalid,
    AuthScopeInsufficient,
    BookingNotFound,
    EventNotFound,
    InvalidRequest,
    RoomNotFound,
    WebhookNotConfigured,
    WebhookNotFound,
    WorkspaceNotFound,
)
from .events import EventLog, EventSink
from .fixtures import DEMO_FIXTURE, load_fixture, read_fixture
from .idempotency import IdempotencyStore
from .ids import IdSource
from .instants import format_instant, parse_instant, shift
from .models import ApiToken, Booking, BookingStatus, Event, Member, RateLimitPolicy, Room, Workspace
from .pagination import CursorCodec
from .ratelimit import RateLimiter
from .store import BookingFilter, Store
from .webhooks import Delivery, RetryPolicy, WebhookEndpoint, WebhookRegistry, check_secret, check_url, with_policy

DEFAULT_LIST_WINDOW = timedelta(days=30)
CLOCK_RANGE = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC))


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is calling: a live API key and the workspace it belongs to."""

    token: ApiToken
    workspace: Workspace


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


class Backend:
    def __init__(
        self,
        *,
        fixture: Path | str | dict[str, Any] | None = None,
        clock: Clock | None = None,
        seed: int | str | None = None,
        public_url: str = "http://127.0.0.1:8080",
        rate_limit: RateLimitPolicy | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_policy: RetryPolicy | None = None,
        wall_clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock if clock is not None else MockClock()
        # Webhook deliveries run on real time (see domain/webhooks.py); attempts are stamped with this.
        self.wall_clock: Clock = wall_clock if wall_clock is not None else SystemClock()
        self.public_url = public_url.rstrip("/")
        self._fixture = fixture if isinstance(fixture, dict) else read_fixture(fixture or DEMO_FIXTURE)
        self._seed = seed
        # Overrides every workspace's policy after each reset (`--rate-limit`); None keeps the fixture's.
        self.rate_limit_override = rate_limit
        self._sinks: list[EventSink] = []
        self._reset_listeners: list[Callable[[], None]] = []
        # The default retry policy of every endpoint, and the endpoint `--webhook-url` gives every
        # workspace (restored by each reset); its secret is generated once if not given.
        self.webhook_policy = webhook_policy or RetryPolicy()
        self.startup_webhook: tuple[str, str] | None = None
        if webhook_url is not None:
            secret = check_secret(webhook_secret) if webhook_secret is not None else IdSource(seed).new("whsec")
            self.startup_webhook = (check_url(webhook_url), secret)
        self.reset()

    # -- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the fixture: all bookings, events, keys, buckets, ids and webhook deliveries start over.

        Endpoints registered through the control API are dropped; the `--webhook-url` one comes back.
        """
        for listener in self._reset_listeners:
            listener()
        self.ids = IdSource(self._seed)
        self.store = Store()
        self.events = EventLog(self.store, self.ids)
        for sink in self._sinks:
            self.events.subscribe(sink)
        self.bookings = BookingService(self.store, self.clock, self.ids, self.events, self.public_url)
        self.rate_limiter = RateLimiter(self.clock)
        self.idempotency = IdempotencyStore(self.clock)
        self.cursors = CursorCodec(self.ids.secret_bytes("cursor"))
        # Empty while the fixture loads: its bookings' events are logged, not delivered.
        self.webhooks = WebhookRegistry(self.wall_clock)
        load_fixture(self._fixture, self.store, self.bookings, self.clock)
        if self.startup_webhook is not None:
            url, secret = self.startup_webhook
            for workspace_id in self.store.workspaces:
                self.webhooks.register(WebhookEndpoint(workspace_id, url, secret, self.webhook_policy, from_startup=True))
        if self.rate_limit_override is not None:
            for workspace in self.store.workspaces.values():
                workspace.rate_limit = RateLimitPolicy(**{f.name: getattr(self.rate_limit_override, f.name) for f in fields(RateLimitPolicy)})

    def subscribe(self, sink: EventSink) -> None:
        """Attach an event consumer (webhook delivery) that survives resets."""
        self._sinks.append(sink)
        self.events.subscribe(sink)

    def on_reset(self, listener: Callable[[], None]) -> None:
        """Call `listener` at the start of every reset (webhook delivery drops its queues there)."""
        self._reset_listeners.append(listener)

    def catch_up(self) -> int:
        return self.bookings.catch_up()

    # -- auth -----------------------------------------------------------------------------------

    def identify(self, token: str) -> ApiToken | None:
        return self.store.tokens.get(token)

    def authenticate(self, token: str, required_scopes: list[str] | tuple[str, ...] = ()) -> Principal:
        """The principal behind a presented key, or 401 (unknown, revoked) / 403 (missing scope).

        A revoked key and a key lacking scope still name their workspace, so their errors carry
        the bucket's state (read without taking a token), as every attributable response does.
        """
        api_key = self.store.tokens.get(token)
        if api_key is None:
            raise AuthInvalid("Unknown API key.", headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE})
        workspace = self.store.workspaces[api_key.workspace_id]
        if api_key.revoked:
            bucket = self.rate_limiter.peek(workspace.id, api_key.token, workspace.rate_limit).headers()
            raise AuthInvalid("This API key has been revoked.", headers={**bucket, "WWW-Authenticate": INVALID_TOKEN_CHALLENGE})
        missing = [s for s in required_scopes if s not in api_key.scopes]
        if missing:
            bucket = self.rate_limiter.peek(workspace.id, api_key.token, workspace.rate_limit).headers()
            granted = ", ".join(sorted(api_key.scopes)) or "no scope"
            raise AuthScopeInsufficient(
                f"This operation needs the {', '.join(missing)} scope; the token has {granted}.", headers=bucket
            )
        # Admitted callers report the bucket as the rate limiter leaves it, right after this.
        return Principal(api_key, workspace)

    # -- bookings -------------------------------------------------------------------------------

    def list_bookings(
        self,
        principal: Principal,
        *,
        start_from: str | None = None,
        start_to: str | None = None,
        status: str | None = None,
        room_id: str | None = None,
        member_id: str | None = None,
        company_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[Booking], str | None]:
        self.catch_up()
        ws = principal.workspace.id
        explicit_from = parse_instant(start_from, param="from") if start_from is not None else None
        explicit_to = parse_instant(start_to, param="to") if start_to is not None else None
        binding = {
            "list": "bookings",
            "ws": ws,
            "from": _iso(explicit_from),
            "to": _iso(explicit_to),
            "status": status,
            "room_id": room_id,
            "member_id": member_id,
            "company_id": company_id,
        }
        after = None
        if cursor is not None:
            # The cursor carries the range resolved on the first page, so "now" does not drift mid-walk.
            position = self.cursors.decode(cursor, binding)
            try:
                resolved_from, resolved_to, last_start, last_id = position
                range_from, range_to = datetime.fromisoformat(resolved_from), datetime.fromisoformat(resolved_to)
                after = (datetime.fromisoformat(last_start), last_id)
            except (TypeError, ValueError):  # signed by us, so only reachable across incompatible versions
                raise InvalidRequest("cursor is invalid or was issued for other filters.", param="cursor") from None
        else:
            range_from = explicit_from or self.clock.now()
            range_to = explicit_to or shift(range_from, DEFAULT_LIST_WINDOW)
            if range_to <= range_from:
                raise InvalidRequest("to must be after from.", param="to")
        flt = BookingFilter(range_from, range_to, BookingStatus(status) if status else None, room_id, member_id, company_id)
        page, more = self.bookings.page(ws, flt, after, limit)
        next_cursor = None
        if more:
            last = page[-1]
            next_cursor = self.cursors.encode(
                [range_from.isoformat(), range_to.isoformat(), last.start_at.isoformat(), last.id], binding
            )
        return page, next_cursor

    def get_booking(self, principal: Principal, booking_id: str) -> Booking:
        self.catch_up()
        return self.bookings.get(principal.workspace.id, booking_id)

    def create_booking(
        self,
        principal: Principal,
        *,
        room_id: str,
        start_at: str,
        end_at: str,
        booked_by: dict,
        attendees: int = 1,
        notes: str | None = None,
    ) -> Booking:
        self.catch_up()
        guest = booked_by.get("guest") or {}
        return self.bookings.create(
            principal.workspace,
            room_id=room_id,
            start_at=parse_instant(start_at, param="start_at"),
            end_at=parse_instant(end_at, param="end_at"),
            booked_by=BookerInput(booked_by.get("member_id"), guest.get("email"), guest.get("name")),
            attendees=attendees,
            notes=notes,
        )

    def update_booking(self, principal: Principal, booking_id: str, changes: dict) -> Booking:
        self.catch_up()
        return self.bookings.update(
            principal.workspace.id,
            booking_id,
            BookingChanges(
                start_at=parse_instant(changes["start_at"], param="start_at") if "start_at" in changes else None,
                end_at=parse_instant(changes["end_at"], param="end_at") if "end_at" in changes else None,
                room_id=changes.get("room_id"),
                attendees=changes.get("attendees"),
                notes=changes.get("notes"),
                notes_set="notes" in changes,
            ),
        )

    def cancel_booking(self, principal: Principal, booking_id: str, options: dict) -> Booking:
        self.catch_up()
        return self.bookings.cancel(
            principal.workspace.id,
            booking_id,
            reason=options.get("reason", "other"),
            refund_policy=options.get("refund_policy", "full"),
            notify_attendees=options.get("notify_attendees", True),
        )

    # -- rooms, availability, feed --------------------------------------------------------------

    def list_rooms(self, principal: Principal, *, tier: str | None = None, limit: int = 50, cursor: str | None = None) -> tuple[list[Room], str | None]:
        ws = principal.workspace.id
        binding = {"list": "rooms", "ws": ws, "tier": tier}
        ids = self.store.rooms_by_workspace.get(ws, [])
        start = 0
        if cursor is not None:
            position = self.cursors.decode(cursor, binding)
            if not (isinstance(position, list) and len(position) == 1 and isinstance(position[0], str)):
                raise InvalidRequest("cursor is invalid or was issued for other filters.", param="cursor")
            start = ids.bisect_right(position[0])
        page: list[Room] = []
        for room_id in ids.islice(start):
            room = self.store.rooms[room_id]
            if tier is not None and room.tier != tier:
                continue
            if len(page) == limit:
                return page, self.cursors.encode([page[-1].id], binding)
            page.append(room)
        return page, None

    def get_room(self, principal: Principal, room_id: str) -> Room:
        room = self.store.room_in(principal.workspace.id, room_id)
        if room is None:
            raise RoomNotFound(f"No room {room_id} in this workspace.", param="id")
        return room

    def availability(
        self, principal: Principal, *, room_id: str | None = None, tier: str | None = None, start_from: str | None = None, start_to: str | None = None
    ) -> dict:
        self.catch_up()
        range_from = parse_instant(start_from, param="from") if start_from is not None else self.clock.now()
        range_to = parse_instant(start_to, param="to") if start_to is not None else shift(range_from, availability.DEFAULT_RANGE)
        availability.check_range(range_from, range_to)
        rooms = availability.matching_rooms(self.store, principal.workspace.id, room_id, tier)
        return {
            "from": format_instant(range_from),
            "to": format_instant(range_to),
            "rooms": [availability.room_availability(self.store, room, range_from, range_to) for room in rooms],
        }

    def calendar_feed(self, principal: Principal) -> bytes:
        self.catch_up()
        return ical.calendar_feed(self.store.all_bookings(principal.workspace.id))

    # -- control --------------------------------------------------------------------------------

    def workspace(self, workspace_id: str) -> Workspace:
        workspace = self.store.workspaces.get(workspace_id)
        if workspace is None:
            raise WorkspaceNotFound(f"No workspace {workspace_id}.", param="id")
        return workspace

    def tokens_of(self, workspace_id: str) -> list[ApiToken]:
        return [t for t in self.store.tokens.values() if t.workspace_id == workspace_id]

    def members_of(self, workspace_id: str) -> list[Member]:
        return [m for m in self.store.members.values() if m.workspace_id == workspace_id]

    def events_of(self, workspace_id: str) -> list[Event]:
        self.workspace(workspace_id)
        self.catch_up()
        return self.events.for_workspace(workspace_id)

    def set_clock(self, instant: datetime, *, frozen: bool | None = None) -> int:
        """Move the mock clock (forwards or back); transitions that fall due fire, in time order."""
        if not CLOCK_RANGE[0] <= instant < CLOCK_RANGE[1]:
            # Holds, keys and buckets add hours and days to "now"; keep them inside the calendar.
            raise InvalidRequest("now must be between 1970-01-01 and 9000-01-01.", param="now")
        self._mock_clock().set(instant, frozen=frozen)
        return self.catch_up()

    def advance_clock(self, seconds: float) -> int:
        if seconds < 0:
            raise InvalidRequest("seconds must not be negative; set the clock to go back.", param="seconds")
        clock = self._mock_clock()
        clock.advance(timedelta(seconds=seconds))
        return self.catch_up()

    def _mock_clock(self) -> MockClock:
        if not isinstance(self.clock, MockClock):
            raise InvalidRequest("This mock runs on the system clock, which cannot be moved.", param="clock")
        return self.clock

    def checkout_booking(self, booking_id: str) -> Booking:
        """The booking behind a `checkout_url` (any workspace's: the link is the payer's credential)."""
        self.catch_up()
        booking = self.store.bookings.get(booking_id)
        if booking is None:
            raise BookingNotFound(f"No booking {booking_id}.")
        return booking

    def complete_checkout(self, booking_id: str) -> Booking:
        self.catch_up()
        return self.bookings.complete_checkout(booking_id)

    def fail_checkout(self, booking_id: str) -> Booking:
        self.catch_up()
        return self.bookings.fail_checkout(booking_id)

    def mark_no_show(self, booking_id: str) -> Booking:
        self.catch_up()
        return self.bookings.mark_no_show(booking_id)

    def configure_workspace(self, workspace_id: str, settings: dict) -> Workspace:
        """Change a workspace's rate limit, checkout window, Stripe onboarding or processing delay."""
        workspace = self.workspace(workspace_id)
        if "stripe_onboarded" in settings:
            workspace.stripe_onboarded = bool(settings["stripe_onboarded"])
        if "processing_delay_ms" in settings:
            workspace.processing_delay_ms = int(settings["processing_delay_ms"])
        if "checkout_window_minutes" in settings:
            # Applies to holds created from now on; a pending booking keeps the expires_at it was given.
            for room_id in self.store.rooms_by_workspace.get(workspace_id, []):
                self.store.rooms[room_id].checkout_window_minutes = int(settings["checkout_window_minutes"])
        if "rate_limit" in settings:
            changes = settings["rate_limit"]
            policy = workspace.rate_limit
            workspace.rate_limit = RateLimitPolicy(**{f.name: changes.get(f.name, getattr(policy, f.name)) for f in fields(RateLimitPolicy)})
            self.rate_limiter.forget(workspace_id, [t.token for t in self.tokens_of(workspace_id)])
        return workspace

    # -- webhooks -------------------------------------------------------------------------------

    def webhook_endpoint(self, workspace_id: str) -> WebhookEndpoint:
        self.workspace(workspace_id)
        endpoint = self.webhooks.endpoint_for(workspace_id)
        if endpoint is None:
            raise WebhookNotFound(f"Workspace {workspace_id} has no webhook endpoint.")
        return endpoint

    def register_webhook(
        self,
        workspace_id: str,
        *,
        url: str,
        secret: str | None = None,
        max_attempts: int | None = None,
        base_delay_ms: int | None = None,
        max_delay_ms: int | None = None,
        timeout_ms: int | None = None,
    ) -> WebhookEndpoint:
        """Set the workspace's one endpoint (replacing any). Without a secret the current one is kept,
        or a new `whsec_` secret is made; omitted retry settings take the mock's defaults."""
        self.workspace(workspace_id)
        current = self.webhooks.endpoint_for(workspace_id)
        if secret is not None:
            secret = check_secret(secret)
        elif current is not None:
            secret = current.secret
        else:
            secret = self.ids.new("whsec")
        policy = with_policy(
            self.webhook_policy,
            max_attempts=max_attempts,
            base_delay_s=None if base_delay_ms is None else base_delay_ms / 1000,
            max_delay_s=None if max_delay_ms is None else max_delay_ms / 1000,
            timeout_s=None if timeout_ms is None else timeout_ms / 1000,
        )
        return self.webhooks.register(WebhookEndpoint(workspace_id, check_url(url), secret, policy))

    def remove_webhook(self, workspace_id: str) -> WebhookEndpoint:
        self.workspace(workspace_id)
        return self.webhooks.remove(workspace_id)

    def deliveries_of(self, workspace_id: str, *, event_id: str | None = None, status: str | None = None) -> list[Delivery]:
        self.workspace(workspace_id)
        self.catch_up()
        return self.webhooks.deliveries_of(workspace_id, event_id=event_id, status=status)

    def event(self, event_id: str) -> Event:
        for events in self.store.events.values():
            for event in events:
                if event.id == event_id:
                    return event
        raise EventNotFound(f"No event {event_id}.", param="id")

    def redelivery(self, event_id: str) -> Delivery:
        """A new delivery of an event already sent (or never sent), with the same id and body."""
        event = self.event(event_id)
        if self.webhooks.endpoint_for(event.workspace_id) is None:
            raise WebhookNotConfigured(
                f"Workspace {event.workspace_id} has no webhook endpoint; register one with PUT /_mock/workspaces/{event.workspace_id}/webhook."
            )
        return self.webhooks.open_delivery(event, redelivery=True)
