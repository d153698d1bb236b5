"""What the pipeline learns about one request (its id, caller, rate-limit state), kept in the ASGI scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connexion.context import scope as current_scope

from ..domain.backend import Principal

SCOPE_KEY = "litehq"


@dataclass(slots=True)
class RequestState:
    request_id: str
    principal: Principal | None = None
    # Rate-limit headers for this request; the frame adds them to whatever response goes out.
    rate_headers: dict[str, str] = field(default_factory=dict)
    # Set by the body validator, so handlers and the idempotency fingerprint see the parsed body.
    body: Any = None
    has_body: bool = False
    # Set by the fast path just before it sends the response (api/fastpath.py).
    response_started: bool = False


def state_of(scope: dict) -> RequestState:
    return scope[SCOPE_KEY]


def current_state() -> RequestState:
    """The state of the request being handled (Connexion keeps its scope in a context variable)."""
    return current_scope[SCOPE_KEY]
