"""Scenario tests: how one is declared, what it needs, and how it says a rule was broken."""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.http import Exchange
from conformance.rules import envelope_problems


class Need(enum.Enum):
    """An input a scenario cannot run without; its value is the skip reason, naming what enables it."""

    WRITES = "PROFILE=safe sends reads only; run with PROFILE=full (--profile full) to check this"
    READONLY_TOKEN = "needs a token with calendar:read only: pass READONLY_TOKEN=sk_… (--readonly-token)"
    OTHER_TOKEN = "needs a token of another workspace: pass OTHER_TOKEN=sk_… (--other-token)"
    NOSTRIPE_TOKEN = "needs a token of a workspace without Stripe onboarding: pass NOSTRIPE_TOKEN=sk_… (--nostripe-token)"
    REVOKED_TOKEN = "needs a revoked token of the workspace: pass REVOKED_TOKEN=sk_… (--revoked-token)"
    RATE_LIMIT_TOKEN = (
        "needs a token whose bucket the suite may exhaust: pass RATE_LIMIT_TOKEN=sk_… (--rate-limit-token), "
        "or point BASE_URL at a mock that exposes the control API (/_mock) so the suite can shrink a bucket"
    )
    CONTROL = (
        "needs the mock control API (GET BASE_URL/_mock/clock must answer) to pay checkouts and move the "
        "clock; this deployment does not expose it"
    )
    WEBHOOKS = (
        "needs a way to receive webhooks: register an endpoint for TOKEN's workspace whose URL reaches this machine, "
        "then pass WEBHOOK_LISTEN=host:port and WEBHOOK_SECRET=whsec_… (--webhook-listen, --webhook-secret); or point "
        "BASE_URL at a mock with the control API (/_mock), where the suite registers its own receiver"
    )
    MEMBER = (
        "needs a member of TOKEN's workspace: pass MEMBER_ID=mem_… (--member-id); no member booking is listed "
        "and the docs' example member does not exist here"
    )


class RuleBroken(AssertionError):
    """The deployment broke the rule a scenario checks; carries the exchange that shows it."""

    def __init__(self, message: str, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange


class ScenarioSkipped(Exception):
    """The scenario cannot run here; the reason says what would let it run."""


@dataclass(frozen=True)
class Scenario:
    """One named rule and the function that proves it."""

    name: str
    area: str
    rule: str
    needs: frozenset[Need]
    run: Callable[[Any], None]
    writes: bool


def scenario(*needs: Need, reads_only: bool = False) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Declare a scenario: the function's name says the rule, its docstring states it for the report.

    A scenario sends writes unless `reads_only=True`; writes are skipped under PROFILE=safe.
    """

    def mark(func: Callable[[Any], None]) -> Callable[[Any], None]:
        required = set(needs)
        if not reads_only:
            required.add(Need.WRITES)
        func.__conformance_needs__ = frozenset(required)  # type: ignore[attr-defined]
        func.__conformance_writes__ = not reads_only  # type: ignore[attr-defined]
        return func

    return mark


def collect(module: Any) -> list[Scenario]:
    """The scenarios a module declares, in the order they appear in its source."""
    area = module.AREA
    found = []
    for name, func in vars(module).items():
        if callable(func) and hasattr(func, "__conformance_needs__"):
            rule = (func.__doc__ or name).strip().splitlines()[0]
            found.append(Scenario(name, area, rule, func.__conformance_needs__, func, func.__conformance_writes__))
    found.sort(key=lambda s: s.run.__code__.co_firstlineno)
    return found


def expect(condition: object, message: str, exchange: Exchange | None = None) -> None:
    if not condition:
        raise RuleBroken(message, exchange)


def expect_status(exchange: Exchange, status: int | tuple[int, ...], what: str) -> Exchange:
    """The response has the status the rule demands; errors also must be well-formed envelopes."""
    allowed = status if isinstance(status, tuple) else (status,)
    if exchange.status not in allowed:
        code = f" {exchange.error_code}" if exchange.error_code else ""
        raise RuleBroken(f"{what}: expected HTTP {' or '.join(map(str, allowed))}, got {exchange.status}{code}", exchange)
    return exchange


def expect_error(exchange: Exchange, status: int, code: str, what: str, *, param: str | None = None) -> Exchange:
    """The response is exactly this documented error, in a well-formed envelope."""
    got_code = exchange.error_code
    if exchange.status != status or got_code != code:
        raise RuleBroken(f"{what}: expected {status} {code}, got {exchange.status} {got_code or _body_hint(exchange)}", exchange)
    problems = envelope_problems(exchange.status, exchange.headers, exchange.body)
    if problems:
        raise RuleBroken(f"{what}: the {code} envelope is malformed: " + "; ".join(problems), exchange)
    if param is not None and exchange.error.get("param") != param:
        raise RuleBroken(f"{what}: error.param should name {param!r}, got {exchange.error.get('param')!r}", exchange)
    return exchange


def _body_hint(exchange: Exchange) -> str:
    text = exchange.body[:80].decode("utf-8", errors="replace")
    return f"(body {text!r})"
