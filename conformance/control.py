"""The mock's control API (/_mock), used only when the deployment exposes it: reset, clock, pay, configure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

CONTROL_PREFIX = "/_mock"


class ControlError(Exception):
    """The control API answered something the suite cannot work with."""


@dataclass
class WorkspaceTokens:
    """One workspace as the control API lists it, with the tokens the suite can borrow."""

    id: str
    stripe_onboarded: bool
    tokens: list[dict[str, Any]]
    rate_limit: dict[str, Any]
    member_ids: list[str] = field(default_factory=list)

    def token(self, *, scopes: set[str], revoked: bool = False) -> str | None:
        for entry in self.tokens:
            if bool(entry.get("revoked")) == revoked and set(entry.get("scopes", [])) == scopes:
                return entry["token"]
        return None


class MockControl:
    """Client of the mock control API described by openapi/mock-control.yaml."""

    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self._client = httpx.Client(base_url=base_url.rstrip("/") + CONTROL_PREFIX, timeout=timeout_s)
        self.calls = 0

    @classmethod
    def discover(cls, base_url: str, timeout_s: float = 5.0) -> MockControl | None:
        """The control API when the deployment answers GET /_mock/clock with a clock, else None."""
        control = cls(base_url, timeout_s)
        try:
            control.now()
        except (httpx.HTTPError, ControlError, ValueError, KeyError):
            control.close()
            return None
        return control

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        self.calls += 1
        reply = self._client.request(method, path, json=body) if body is not None else self._client.request(method, path)
        if reply.status_code >= 300:
            raise ControlError(f"{method} {CONTROL_PREFIX}{path} answered {reply.status_code}: {reply.text[:300]}")
        return reply.json() if reply.content else None

    # -- state --------------------------------------------------------------------------------
    def reset(self) -> None:
        self._call("POST", "/reset")

    # -- clock --------------------------------------------------------------------------------
    def now(self) -> datetime:
        body = self._call("GET", "/clock")
        return datetime.fromisoformat(body["now"].replace("Z", "+00:00")).astimezone(UTC)

    def set_clock(self, instant: datetime, *, frozen: bool | None = None) -> None:
        body: dict[str, Any] = {"now": instant.astimezone(UTC).isoformat().replace("+00:00", "Z")}
        if frozen is not None:
            body["frozen"] = frozen
        self._call("PUT", "/clock", body)

    def advance(self, delta: timedelta) -> None:
        self._call("POST", "/clock/advance", {"seconds": int(delta.total_seconds())})

    # -- checkout -----------------------------------------------------------------------------
    def pay(self, booking_id: str) -> None:
        self._call("POST", f"/bookings/{booking_id}/checkout/complete")

    def fail_checkout(self, booking_id: str) -> None:
        self._call("POST", f"/bookings/{booking_id}/checkout/fail")

    def mark_no_show(self, booking_id: str) -> None:
        self._call("POST", f"/bookings/{booking_id}/no-show")

    # -- webhooks -----------------------------------------------------------------------------
    def set_webhook(self, workspace_id: str, url: str, secret: str, **retry: int) -> None:
        """Register the workspace's endpoint (retry settings: max_attempts, base_delay_ms, max_delay_ms, timeout_ms)."""
        self._call("PUT", f"/workspaces/{workspace_id}/webhook", {"url": url, "secret": secret, **retry})

    def remove_webhook(self, workspace_id: str) -> None:
        self._call("DELETE", f"/workspaces/{workspace_id}/webhook")

    # -- workspaces ---------------------------------------------------------------------------
    def workspaces(self) -> list[WorkspaceTokens]:
        body = self._call("GET", "/workspaces")
        items = body["data"] if isinstance(body, dict) else body
        return [
            WorkspaceTokens(
                w["id"], bool(w.get("stripe_onboarded", True)), w.get("tokens", []), w.get("rate_limit", {}),
                [m["id"] for m in w.get("members", [])],
            )
            for w in items
        ]

    def configure_workspace(self, workspace_id: str, **settings: Any) -> None:
        self._call("PATCH", f"/workspaces/{workspace_id}", settings)

    def workspace_of(self, token: str) -> WorkspaceTokens | None:
        for workspace in self.workspaces():
            if any(entry.get("token") == token for entry in workspace.tokens):
                return workspace
        return None
