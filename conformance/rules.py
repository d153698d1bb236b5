"""The API's cross-cutting wire rules as pure functions: error envelope, rate-limit headers, Content-Type."""
from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

# The docs' nine codes plus the ones DESIGN.md adds, each with the only status it may travel with.
# tests/conformance checks this table against the ErrorCode enum of the bundled spec, so the two
# cannot drift apart silently.
STATUS_OF_ERROR_CODE: dict[str, int] = {
    "invalid_request": 400,
    "auth_invalid": 401,
    "auth_scope_insufficient": 403,
    "booking_not_found": 404,
    "room_not_found": 404,
    "not_found": 404,
    "method_not_allowed": 405,
    "slot_unavailable": 409,
    "booking_not_editable": 409,
    "booking_not_cancellable": 409,
    "idempotency_conflict": 409,
    "idempotency_in_progress": 409,
    "stripe_unconfigured": 412,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "slot_misaligned": 422,
    "rate_limited": 429,
    "internal_error": 500,
}

REQUEST_ID = re.compile(r"^req_[A-Za-z0-9]+$")
ENVELOPE_FIELDS = {"code", "message", "request_id", "param", "retry_after_ms"}
# Rejected before the token is looked at, so the server may not know whose bucket to report:
# bad credentials, oversized bodies, and requests no operation matches (unknown route, wrong
# method), which the contract answers outside any operation and so without its headers.
STATUSES_WITHOUT_QUOTA = {401, 413, 405}
ROUTING_ERROR_CODES = {"not_found", "method_not_allowed"}

# RFC 9651 structured-field item with parameters, as the IETF draft uses them:
# "workspace";q=500;w=300  and  "workspace";r=499;t=1
_SF_ITEM = re.compile(r'^\s*"(?P<name>[^"\\]*)"(?P<params>(?:\s*;\s*[a-z][a-z0-9_.*-]*=\s*-?\d+)*)\s*$')
_SF_PARAM = re.compile(r";\s*([a-z][a-z0-9_.*-]*)=\s*(-?\d+)")

# Seconds of disagreement tolerated between X-RateLimit-Reset and the server's clock: both are
# whole seconds (Reset rounded up, Date truncated), so two seconds is the honest rounding slack.
CLOCK_SLACK_S = 2


def lower_headers(headers: Mapping[str, object]) -> dict[str, str]:
    """Header names lower-cased; list values (Schemathesis) joined the way HTTP folds them."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        out[name.lower()] = str(value)
    return out


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type into its media type and its parameters (names lower-cased)."""
    if not content_type:
        return "", {}
    head, *params = content_type.split(";")
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"')
    return head.strip(), parsed


def parse_structured_item(value: str) -> tuple[str, dict[str, int]] | None:
    """Parse `"name";k=1;k2=2` into (name, {k: 1, k2: 2}); None when it is not that shape."""
    match = _SF_ITEM.match(value or "")
    if not match:
        return None
    return match["name"], {k: int(v) for k, v in _SF_PARAM.findall(match["params"])}


def server_clock(headers: Mapping[str, str], fallback: float | None = None) -> float:
    """The server's idea of now: its Date header when it sent one, else our clock."""
    date = headers.get("date")
    if date:
        try:
            return parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            pass
    return time.time() if fallback is None else fallback


def _int_header(headers: Mapping[str, str], name: str, problems: list[str]) -> int | None:
    raw = headers.get(name.lower())
    if raw is None:
        problems.append(f"{name} header is missing")
        return None
    try:
        return int(raw.strip())
    except ValueError:
        problems.append(f"{name} is {raw!r}, not an integer")
        return None


@dataclass(frozen=True)
class Quota:
    """The rate-limit state one response reports, once its headers were found coherent."""

    limit: int
    remaining: int
    reset: int
    policy_name: str
    window_s: int
    seconds_to_full: int

    @property
    def refill_per_second(self) -> float:
        return self.limit / self.window_s if self.window_s else 0.0


def quota_problems(
    status: int, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> tuple[list[str], Quota | None]:
    """Every way the rate-limit headers of one response break the documented rules."""
    problems: list[str] = []
    names = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit-policy", "ratelimit")
    present = [n for n in names if n in headers]
    if not present:
        if status in STATUSES_WITHOUT_QUOTA or _error_code(body) in ROUTING_ERROR_CODES:
            return [], None
        return ["no rate-limit headers: every authenticated response, errors included, carries X-RateLimit-* and RateLimit/RateLimit-Policy"], None

    limit = _int_header(headers, "X-RateLimit-Limit", problems)
    remaining = _int_header(headers, "X-RateLimit-Remaining", problems)
    reset = _int_header(headers, "X-RateLimit-Reset", problems)
    if limit is not None and limit < 1:
        problems.append(f"X-RateLimit-Limit is {limit}; a bucket holds at least one token")
    if remaining is not None and remaining < 0:
        problems.append(f"X-RateLimit-Remaining is {remaining}; it is never negative")
    if limit is not None and remaining is not None and remaining > limit:
        problems.append(f"X-RateLimit-Remaining {remaining} exceeds X-RateLimit-Limit {limit}")

    policy = _structured(headers, "RateLimit-Policy", problems)
    state = _structured(headers, "RateLimit", problems)
    window = seconds_to_full = None
    policy_name = ""
    if policy is not None:
        policy_name, params = policy
        window = params.get("w")
        if "q" not in params or window is None:
            problems.append(f'RateLimit-Policy {headers["ratelimit-policy"]!r} lacks q= or w= ("<name>";q=<bucket size>;w=<seconds>)')
        elif limit is not None and params["q"] != limit:
            problems.append(f"RateLimit-Policy q={params['q']} disagrees with X-RateLimit-Limit {limit}")
        if window is not None and window <= 0:
            problems.append(f"RateLimit-Policy w={window}; the refill window must be positive")
    if state is not None:
        name, params = state
        if policy is not None and name != policy_name:
            problems.append(f'RateLimit names policy "{name}" but RateLimit-Policy names "{policy_name}"')
        if "r" not in params or "t" not in params:
            problems.append(f'RateLimit {headers["ratelimit"]!r} lacks r= or t= ("<name>";r=<remaining>;t=<seconds>)')
        else:
            seconds_to_full = params["t"]
            if remaining is not None and params["r"] != remaining:
                problems.append(f"RateLimit r={params['r']} disagrees with X-RateLimit-Remaining {remaining}")
            if seconds_to_full < 0:
                problems.append(f"RateLimit t={seconds_to_full} is negative")
            if window and seconds_to_full > window + 1:
                problems.append(f"RateLimit t={seconds_to_full}s is longer than the policy's whole refill window w={window}s")
            if remaining is not None and limit is not None and remaining >= limit and seconds_to_full > 1:
                problems.append(f"the bucket is full (r={remaining}) yet RateLimit says it fills in t={seconds_to_full}s")
    if reset is not None and seconds_to_full is not None:
        # The server's own clock when the caller knows it (the mock's movable clock), else its Date.
        clock = now if now is not None else server_clock(headers)
        drift = reset - (clock + seconds_to_full)
        if abs(drift) > CLOCK_SLACK_S:
            problems.append(
                f"X-RateLimit-Reset {reset} is not now + RateLimit t ({int(clock)} + {seconds_to_full}); off by {drift:+.0f}s"
            )

    if status == 429:
        retry_after = _int_header(headers, "Retry-After", problems)
        retry_after_ms = _retry_after_ms(body)
        if retry_after_ms is None:
            problems.append("429 without error.retry_after_ms (integer milliseconds)")
        elif retry_after is not None and retry_after != math.ceil(retry_after_ms / 1000):
            problems.append(f"Retry-After {retry_after}s is not retry_after_ms {retry_after_ms} rounded up to seconds")
        if remaining not in (None, 0):
            problems.append(f"429 while X-RateLimit-Remaining says {remaining} tokens are left")

    if problems or None in (limit, remaining, reset, window, seconds_to_full):
        return problems, None
    return problems, Quota(limit, remaining, reset, policy_name, window, seconds_to_full)  # type: ignore[arg-type]


def _structured(headers: Mapping[str, str], name: str, problems: list[str]) -> tuple[str, dict[str, int]] | None:
    raw = headers.get(name.lower())
    if raw is None:
        problems.append(f"{name} header is missing")
        return None
    parsed = parse_structured_item(raw)
    if parsed is None:
        problems.append(f'{name} is {raw!r}, not an IETF structured item like "workspace";q=500;w=300')
    return parsed


def _error_code(body: bytes) -> str | None:
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None


def _retry_after_ms(body: bytes) -> int | None:
    try:
        value = json.loads(body)["error"]["retry_after_ms"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def envelope_problems(status: int, headers: Mapping[str, str], body: bytes) -> list[str]:
    """Every way one response breaks the error-envelope and request-id rules."""
    problems: list[str] = []
    header_id = headers.get("x-request-id")
    if not header_id:
        problems.append("X-Request-Id header is missing; every response carries one")
    elif not REQUEST_ID.match(header_id):
        problems.append(f"X-Request-Id {header_id!r} is not req_<alphanumerics>")
    if status < 400:
        return problems

    mt, _ = media_type(headers.get("content-type"))
    if mt != "application/json":
        problems.append(f"error response has Content-Type {headers.get('content-type')!r}; errors are application/json")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return problems + [f"error body is not JSON: {body[:120]!r}"]
    if not isinstance(document, dict) or set(document) != {"error"} or not isinstance(document["error"], dict):
        return problems + [f'error body is not {{"error": {{...}}}}: {_excerpt(document)}']
    error = document["error"]
    for field in ("code", "message", "request_id"):
        if not isinstance(error.get(field), str) or not error.get(field):
            problems.append(f"error.{field} is missing or not a non-empty string")
    extra = set(error) - ENVELOPE_FIELDS
    if extra:
        problems.append(f"error has undocumented fields {sorted(extra)}")
    code = error.get("code")
    if isinstance(code, str):
        documented = STATUS_OF_ERROR_CODE.get(code)
        if documented is None:
            problems.append(f"error.code {code!r} is not a documented ErrorCode")
        elif documented != status:
            problems.append(f"error.code {code!r} belongs with HTTP {documented}, not {status}")
    request_id = error.get("request_id")
    if isinstance(request_id, str) and header_id and request_id != header_id:
        problems.append(f"error.request_id {request_id!r} differs from X-Request-Id {header_id!r}")
    if "param" in error and not isinstance(error["param"], str):
        problems.append("error.param is not a string")
    if code == "rate_limited" and "retry_after_ms" not in error:
        problems.append("rate_limited error lacks retry_after_ms")
    if "retry_after_ms" in error and code != "rate_limited":
        problems.append(f"retry_after_ms on a {code!r} error; it belongs to rate_limited only")
    if status == 401 and not headers.get("www-authenticate", "").lower().startswith("bearer"):
        problems.append(f"401 without WWW-Authenticate: Bearer (got {headers.get('www-authenticate')!r})")
    if status == 405 and not headers.get("allow"):
        problems.append("405 without an Allow header")
    return problems


def content_type_problems(status: int, headers: Mapping[str, str], documented: list[str]) -> list[str]:
    """The Content-Type must be one of the documented media types exactly; charset=utf-8 only on text."""
    raw = headers.get("content-type")
    if status == 204 or (raw is None and status in (304,)):
        return []
    expected = ["application/json"] if status >= 400 else documented
    if not expected:
        return []
    mt, params = media_type(raw)
    if mt not in expected:
        return [f"Content-Type {raw!r} is not the documented {' or '.join(expected)}"]
    allowed = {"charset"} if mt.startswith("text/") else set()
    unexpected = set(params) - allowed
    if unexpected:
        return [f"Content-Type {raw!r} carries parameters {sorted(unexpected)} the contract does not declare"]
    if "charset" in params and params["charset"].lower() != "utf-8":
        return [f"Content-Type {raw!r}: the only charset the API speaks is utf-8"]
    return []


def _excerpt(value: object, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"
