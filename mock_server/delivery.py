"""Webhook delivery: signed POSTs of booking events, in the background, on the app's event loop.

One lane per booking: a booking's events go out one after another, in the order they happened, each
retried with exponential backoff until it is acknowledged (any 2xx) or its attempts run out — only
then does the booking's next event go. Lanes of different bookings run side by side (at most
`MAX_IN_FLIGHT` requests at once). The event sink only appends to a lane and, if the lane is idle,
starts a task: the request that caused the event never waits for its delivery, and a workspace
without an endpoint costs one dict lookup per event.

Every attempt, its response status, latency, error and next retry are written into the domain's
`Delivery` records (`Backend.webhooks`), which the control API lists.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import orjson

from .domain.backend import Backend
from .domain.models import Event
from .domain.webhooks import Delivery, DeliveryStatus, WebhookEndpoint, sign

log = logging.getLogger("mock_server.webhooks")

USER_AGENT = "LiteHQ-Webhooks/1.0 (LiteHQ Calendar API mock)"
MAX_IN_FLIGHT = 32
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(slots=True)
class Lane:
    """The deliveries of one booking, oldest first; the head is the one being tried."""

    workspace_id: str
    queue: deque[Delivery] = field(default_factory=deque)
    task: asyncio.Task | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def pause(self, seconds: float) -> None:
        """Wait out a backoff delay, or less if the endpoint is registered again or removed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout=seconds)
        self.wake.clear()


class WebhookDispatcher:
    """Subscribes to the backend's events and delivers them to each workspace's endpoint."""

    def __init__(self, backend: Backend, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.backend = backend
        self._transport = transport
        self._lanes: dict[str, Lane] = {}
        self._client: httpx.AsyncClient | None = None
        self._in_flight: asyncio.Semaphore | None = None
        backend.subscribe(self.on_event)
        backend.on_reset(self.on_reset)

    # -- what the domain and the control API call ----------------------------------------------

    def on_event(self, event: Event) -> None:
        """The event sink: runs inside the state change, so it only enqueues."""
        if self.backend.webhooks.endpoint_for(event.workspace_id) is None:
            return
        self._enqueue(self.backend.webhooks.open_delivery(event))

    def on_reset(self) -> None:
        """The backend starts over: queued and waiting deliveries belong to the old world."""
        lanes, self._lanes = self._lanes, {}
        for lane in lanes.values():
            if lane.task is not None:
                lane.task.cancel()

    def redeliver(self, event_id: str) -> Delivery:
        """Send an event again (same id, same body), after whatever its booking has queued."""
        delivery = self.backend.redelivery(event_id)
        self._enqueue(delivery)
        return delivery

    def endpoint_changed(self, workspace_id: str) -> None:
        """After the workspace's endpoint was registered again or removed: deliveries waiting for a
        retry try at once (against the new endpoint) or, with no endpoint left, end failed."""
        for lane in self._lanes.values():
            if lane.workspace_id == workspace_id:
                lane.wake.set()
                if lane.task is None:
                    self._start(lane)

    @property
    def pending(self) -> int:
        """Deliveries queued or waiting for a retry, over every lane."""
        return sum(len(lane.queue) for lane in self._lanes.values())

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start lanes queued before the event loop ran (events recorded at start-up)."""
        for lane in self._lanes.values():
            self._start(lane)

    async def aclose(self) -> None:
        """Stop every lane and close the HTTP client; unfinished deliveries stay `pending` in the log."""
        lanes, self._lanes = self._lanes, {}
        tasks = [lane.task for lane in lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        """The ASGI lifespan Connexion runs: lanes start with the server and stop with it."""
        self.start()
        try:
            yield
        finally:
            await self.aclose()

    # -- lanes ----------------------------------------------------------------------------------

    def _enqueue(self, delivery: Delivery) -> None:
        lane = self._lanes.get(delivery.booking_id)
        if lane is None:
            lane = self._lanes[delivery.booking_id] = Lane(delivery.workspace_id)
        lane.queue.append(delivery)
        self._start(lane)

    def _start(self, lane: Lane) -> None:
        if lane.task is not None or not lane.queue:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: start() picks the lane up when the server starts
        lane.task = loop.create_task(self._run(lane), name=f"webhooks:{lane.queue[0].booking_id}")

    async def _run(self, lane: Lane) -> None:
        booking_id = lane.queue[0].booking_id
        try:
            while lane.queue:
                delivery = lane.queue[0]
                try:
                    await self._deliver(delivery, lane)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a bug here must not stall the booking's later events
                    log.exception("delivery of %s failed unexpectedly", delivery.event.id)
                    self.backend.webhooks.give_up(delivery, "the mock failed while delivering it (see its log)")
                lane.queue.popleft()
        finally:
            lane.task = None
            # Nothing awaits between the last popleft and here, so no event can have slipped in.
            if not lane.queue and self._lanes.get(booking_id) is lane:
                del self._lanes[booking_id]

    async def _deliver(self, delivery: Delivery, lane: Lane) -> None:
        registry = self.backend.webhooks
        while delivery.status is DeliveryStatus.PENDING:
            endpoint = registry.endpoint_for(delivery.workspace_id)
            if endpoint is None:
                registry.give_up(delivery, "the workspace's webhook endpoint was removed")
                return
            if delivery.body is None:
                delivery.body = orjson.dumps(delivery.event.to_wire())
            started_at = registry.wall_clock.now()
            started = time.perf_counter()
            status, error = await self._post(endpoint, delivery)
            delay = registry.record_attempt(
                delivery,
                url=endpoint.url,
                started_at=started_at,
                latency_ms=round((time.perf_counter() - started) * 1000),
                response_status=status,
                error=error,
                policy=endpoint.policy,
            )
            if delay is None:
                return
            await lane.pause(delay)

    async def _post(self, endpoint: WebhookEndpoint, delivery: Delivery) -> tuple[int | None, str | None]:
        """One signed POST; the response status (None if none came) and what went wrong, if anything."""
        body = delivery.body
        assert body is not None
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "LiteHQ-Signature": sign(endpoint.secret, body),
            "LiteHQ-Event-Id": delivery.event.id,
            "LiteHQ-Event-Type": delivery.event.type,
        }
        timeout = endpoint.policy.timeout_s
        if self._in_flight is None:
            self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        async with self._in_flight:
            try:
                async with asyncio.timeout(timeout):
                    async with self._http().stream("POST", endpoint.url, content=body, headers=headers) as response:
                        status = response.status_code
                        # The answer's body is of no interest; read a little of it so a short answer
                        # leaves the connection reusable, and drop the connection on a long one.
                        read = 0
                        async for chunk in response.aiter_raw():
                            read += len(chunk)
                            if read > MAX_ANSWER_BYTES:
                                break
            except TimeoutError:
                return None, f"no answer within {timeout:g} s"
            except httpx.ConnectError as exc:
                return None, f"could not connect: {exc or 'connection refused'}"
            except Exception as exc:  # noqa: BLE001 - any failure to get an answer is a failed attempt
                return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return status, None if 200 <= status < 300 else f"HTTP {status} is not a 2xx acknowledgement"

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # No proxies from the environment, no redirects (a 3xx is not an acknowledgement), and the
            # whole attempt is bounded by asyncio.timeout above.
            self._client = httpx.AsyncClient(
                transport=self._transport,
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(None),
                limits=httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=8),
            )
        return self._client
