"""The request pipeline around Connexion: frame (request id, 404/405, 413, headers) and rate limit.

Order of a request: frame → Connexion's error handling → routing → authentication and scope →
rate limit → validation → handler. The frame is outermost so that every response, whoever produced
it, leaves with `X-Request-Id` and (once the caller is known) the rate-limit headers.
"""

from __future__ import annotations

import email.utils
import functools
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.backend import Backend
from ..domain.errors import (
    ApiError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
)
from .responses import error_response
from .routes import RouteTable
from .state import SCOPE_KEY, RequestState

MAX_BODY_BYTES = 1024 * 1024


def _starlette(response) -> Response:
    return Response(content=response.body, status_code=response.status_code, headers=response.headers)


class RequestFrame:
    def __init__(self, app: ASGIApp, *, backend: Backend, routes: RouteTable) -> None:
        self.app = app
        self.backend = backend
        self.routes = routes
        self.http_date = HttpDate(backend.clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = RequestState(self.backend.ids.new("req"))
        scope[SCOPE_KEY] = state

        async def framed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                stamp(message, state.request_id, state.rate_headers, self.http_date())
            await send(message)

        try:
            operation = self._operation(scope)
            if "requestBody" in operation:
                # Bodies are only ever read where the contract accepts one, so only there can
                # they be too large; elsewhere they are ignored unread.
                receive = self._limit_body(scope, receive)
                _lowercase_media_type(scope)
            else:
                _hide_body(scope)
        except ApiError as exc:
            await _starlette(error_response(exc, state.request_id))(scope, receive, framed_send)
            return
        await self.app(scope, receive, framed_send)

    def _operation(self, scope: Scope) -> dict:
        """The operation the request is for, or NotFound / MethodNotAllowed (with every method in Allow)."""
        route = self.routes.match(scope["path"])
        if route is None:
            raise NotFound(f"No route {scope['path']}.")
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        operation = route.operations.get(method)
        if operation is None:
            raise MethodNotAllowed(f"{scope['path']} does not accept {scope['method']}.", allow=route.allow)
        return operation

    @staticmethod
    def _limit_body(scope: Scope, receive: Receive) -> Receive:
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise InvalidRequest("Content-Length must be a whole number of bytes.", param="Content-Length")
            if int(declared) > MAX_BODY_BYTES:
                raise PayloadTooLarge(f"Request body exceeds {MAX_BODY_BYTES} bytes.")
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:  # chunked bodies announce no length up front
                raise PayloadTooLarge(f"Request body exceeds {MAX_BODY_BYTES} bytes.")
            return message

        return limited_receive


def _hide_body(scope: Scope) -> None:
    """An operation without a request body ignores any body sent, unread. Connexion would still
    parse a form body (its parameter decorator reads form fields even on a GET) and refuse a
    malformed one, so it is not told there is one: the `Content-Type` header goes."""
    headers = scope["headers"]
    for name, _ in headers:
        if name.lower() == b"content-type":
            scope["headers"] = [item for item in headers if item[0].lower() != b"content-type"]
            return


def _lowercase_media_type(scope: Scope) -> None:
    """`Application/JSON` is `application/json` (RFC 9110 §8.3.1). Connexion accepts the media type
    case-insensitively but looks the body schema up by exact key, so a body sent with another case
    went unvalidated to the handler; pass Connexion the type/subtype in lower case (parameters as sent)."""
    headers = scope["headers"]
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"content-type":
            media_type, separator, parameters = value.partition(b";")
            if media_type != media_type.lower():
                headers = list(headers)
                headers[index] = (name, media_type.lower() + separator + parameters)
                scope["headers"] = headers
            return


_REQUEST_ID = b"x-request-id"
_DATE = b"date"


class HttpDate:
    """The `Date` header from the backend's clock, formatted once per second of that clock.

    On the mock, time is the mock clock: `X-RateLimit-Reset`, `expires_at` and every transition
    follow it, so `Date` must too, or a client computing `Reset - Date` after the clock was moved
    would wait for hours. uvicorn's own (wall-clock) Date header is switched off in __main__.
    """

    def __init__(self, clock) -> None:
        self._clock = clock
        self._second = -1
        self._value = b""

    def __call__(self) -> bytes:
        now = self._clock.now()
        second = int(now.timestamp())
        if second != self._second:
            self._second, self._value = second, email.utils.format_datetime(now.replace(microsecond=0), usegmt=True).encode("latin-1")
        return self._value


@functools.lru_cache(maxsize=64)
def _header_key(name: str) -> bytes:
    return name.lower().encode("latin-1")


def stamp(message: Message, request_id: str, rate_headers: dict[str, str], date: bytes | None = None) -> None:
    """Set X-Request-Id (and Date, when given) and add the rate-limit headers the response does not carry yet.

    The same as `headers = MutableHeaders(scope=message); headers["X-Request-Id"] = request_id`
    and then `headers[name] = value` for each rate header `not in headers`, in one pass instead of
    a scan of the header list per name.
    """
    stamped = (_REQUEST_ID, request_id.encode("latin-1"))
    headers = []
    placed = False
    for item in message["headers"]:
        if item[0] == _DATE and date is not None:
            continue
        if item[0] == _REQUEST_ID:
            if not placed:  # the first one is replaced in place, any others dropped
                headers.append(stamped)
                placed = True
        else:
            headers.append(item)
    if not placed:
        headers.append(stamped)
    if date is not None:
        headers.append((_DATE, date))
    if rate_headers:
        present = {item[0] for item in headers}
        for name, value in rate_headers.items():
            key = _header_key(name)
            if key not in present:
                headers.append((key, value.encode("latin-1")))
                present.add(key)
    message["headers"] = headers


class RateLimit:
    """Takes one token from the caller's workspace bucket, right after authentication."""

    def __init__(self, app: ASGIApp, *, backend: Backend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        take_token(self.backend, scope.get(SCOPE_KEY))
        await self.app(scope, receive, send)


def take_token(backend: Backend, state: RequestState | None) -> None:
    """Charge an authenticated request to its workspace's bucket (or raise RateLimited)."""
    if state is not None and state.principal is not None:
        principal = state.principal
        # RateLimited carries its own headers; on success they ride along on whatever comes next.
        admitted = backend.rate_limiter.admit(principal.workspace.id, principal.token.token, principal.workspace.rate_limit)
        state.rate_headers = admitted.headers()


def bind(cls: type, **options) -> Callable[[ASGIApp], ASGIApp]:
    """A middleware factory Connexion can call with just the next app."""

    def build(app: ASGIApp) -> ASGIApp:
        return cls(app, **options)

    build.__name__ = cls.__name__
    return build
