"""Loaded by Schemathesis (SCHEMATHESIS_HOOKS): our checks on every response, pacing under the rate limit, bookable creates."""
from __future__ import annotations

import json
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure

from conformance.contract import DEFAULT_SPEC, Contract
from conformance.http import QuotaPacer
from conformance.rules import content_type_problems, envelope_problems, lower_headers, quota_problems

SPEC_ENV = "LITEHQ_CONFORMANCE_SPEC"
ROOMS_ENV = "LITEHQ_CONFORMANCE_ROOMS"
FIRST_DAY_ENV = "LITEHQ_CONFORMANCE_FIRST_DAY"
MEMBER_ENV = "LITEHQ_CONFORMANCE_MEMBER"
# Seconds the server's clock runs ahead of ours, when the suite knows it (the mock's movable clock);
# empty means "trust the Date header".
CLOCK_SKEW_ENV = "LITEHQ_CONFORMANCE_CLOCK_SKEW_S"
# Share of positive createBooking cases given a real room and a free-looking future slot, so the
# stateful phase gets 201s to follow links from; the rest keep their generated values.
BOOKABLE_SHARE = 0.7

_contract = Contract.load(Path(os.environ[SPEC_ENV]) if os.environ.get(SPEC_ENV) else DEFAULT_SPEC)
_pacer = QuotaPacer()
_rooms: list[dict[str, Any]] = json.loads(os.environ.get(ROOMS_ENV, "[]"))
_random = random.Random(os.environ.get("LITEHQ_CONFORMANCE_SEED"))


class ErrorEnvelopeBroken(Failure):
    """An error response is not `{"error": {code, message, request_id}}` with request_id == X-Request-Id and the code's status."""

    code = "LHQ01"
    kind_title = "Error envelope or request id broken"


class RateLimitHeadersIncoherent(Failure):
    """X-RateLimit-* and RateLimit/RateLimit-Policy are missing or disagree with each other."""

    code = "LHQ02"
    kind_title = "Rate-limit headers missing or incoherent"


class ContentTypeInexact(Failure):
    """The Content-Type is not exactly the documented media type."""

    code = "LHQ03"
    kind_title = "Content-Type not exactly as documented"


def _view(response: Any) -> tuple[int, dict[str, str], bytes]:
    return response.status_code, lower_headers(response.headers), response.content or b""


@schemathesis.check
def error_envelope_and_request_id(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every response has X-Request-Id; every error is the documented envelope whose request_id equals it."""
    status, headers, body = _view(response)
    problems = envelope_problems(status, headers, body)
    if problems:
        raise ErrorEnvelopeBroken(operation=case.operation.label, message="\n".join(problems))
    return None


@schemathesis.check
def rate_limit_headers_coherent(ctx: Any, response: Any, case: Any) -> bool | None:
    """Authenticated responses carry X-RateLimit-Limit/Remaining/Reset and RateLimit-Policy/RateLimit that agree."""
    status, headers, body = _view(response)
    skew = os.environ.get(CLOCK_SKEW_ENV)
    problems, _ = quota_problems(status, headers, body, now=time.time() + float(skew) if skew else None)
    if problems:
        raise RateLimitHeadersIncoherent(operation=case.operation.label, message="\n".join(problems))
    return None


@schemathesis.check
def content_type_exact(ctx: Any, response: Any, case: Any) -> bool | None:
    """The Content-Type equals a media type the contract documents for this status (errors: application/json)."""
    status, headers, _ = _view(response)
    operation = _contract.operation(case.method, case.path)
    documented = operation.media_types(status) if operation else []
    problems = content_type_problems(status, headers, documented)
    if problems:
        raise ContentTypeInexact(operation=case.operation.label, message="\n".join(problems))
    return None


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    _make_bookable(case)
    _pacer.before_request()


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    status, headers, body = _view(response)
    _pacer.observe(status, headers, body)


def _make_bookable(case: Any) -> None:
    if case.operation.definition.raw.get("operationId") != "createBooking" or not _rooms:
        return
    meta = getattr(case, "_meta", None)
    mode = getattr(getattr(meta, "generation", None), "mode", None)
    if getattr(mode, "value", mode) != "positive" or not isinstance(case.body, dict) or _random.random() > BOOKABLE_SHARE:
        return
    room = _random.choice(_rooms)
    first_day = datetime.fromisoformat(os.environ.get(FIRST_DAY_ENV, "2030-01-01T00:00:00+00:00")).astimezone(UTC)
    first_day = first_day.replace(hour=0, minute=0, second=0, microsecond=0)
    day = first_day + timedelta(days=_random.randrange(0, 300))
    opens, closes = _minutes(room["opens_at"]), _minutes(room["closes_at"])
    grid = room["slot_minutes"]
    first_slot, last_slot = -(-opens // grid), closes // grid - 1
    if last_slot < first_slot:
        return
    slot = _random.randint(first_slot, last_slot)
    start = day + timedelta(minutes=slot * grid)
    case.body["room_id"] = room["id"]
    case.body["start_at"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    case.body["end_at"] = (start + timedelta(minutes=grid)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(case.body.get("attendees"), int):
        case.body["attendees"] = min(max(1, case.body["attendees"]), room["capacity"])
    member = os.environ.get(MEMBER_ENV)
    booked_by = case.body.get("booked_by")
    if isinstance(booked_by, dict) and "member_id" in booked_by:
        case.body["booked_by"] = {"member_id": member} if member else {"guest": {"email": "generated@example.com", "name": "Generated"}}
    # A fresh key per case: generated keys repeat (the parameter's example above all), and a reused
    # key with another body is a correct 409 that would stop the stateful phase at its first step.
    key = str(uuid.uuid4())
    if case.headers is None:
        case.headers = {}
    case.headers["Idempotency-Key"] = key
    if "idempotency_key" in case.body:
        case.body["idempotency_key"] = key


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])
