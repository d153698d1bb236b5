"""The suite's wire rules judge synthetic responses correctly: each rule flags exactly the defect it names."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from email.utils import formatdate
from pathlib import Path

import pytest

from conformance.contract import Contract
from conformance.rules import STATUS_OF_ERROR_CODE, content_type_problems, envelope_problems, quota_problems
from conformance.settings import normalize_base_url

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = 1_800_000_000.0


def quota_headers(limit: int = 500, remaining: int = 499, seconds_to_full: int = 1, window: int = 300, **override: str) -> dict[str, str]:
    headers = {
        "date": formatdate(NOW, usegmt=True),
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(NOW) + seconds_to_full),
        "ratelimit-policy": f'"workspace";q={limit};w={window}',
        "ratelimit": f'"workspace";r={remaining};t={seconds_to_full}',
    }
    headers.update({k.lower(): v for k, v in override.items()})
    return {k: v for k, v in headers.items() if v is not None}


def error_body(code: str, request_id: str = "req_abc123", **extra: object) -> bytes:
    return json.dumps({"error": {"code": code, "message": "m", "request_id": request_id, **extra}}).encode()


def test_coherent_quota_headers_pass_and_report_the_bucket() -> None:
    problems, quota = quota_problems(200, quota_headers(), b"")
    assert problems == []
    assert quota is not None and (quota.limit, quota.remaining, quota.window_s) == (500, 499, 300)
    assert quota.refill_per_second == pytest.approx(500 / 300)


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"x-ratelimit-limit": None}, "X-RateLimit-Limit header is missing"),
        ({"x-ratelimit-remaining": "501"}, "exceeds X-RateLimit-Limit"),
        ({"ratelimit": '"workspace";r=400;t=1'}, "RateLimit r=400 disagrees with X-RateLimit-Remaining 499"),
        ({"ratelimit-policy": '"workspace";q=100;w=300'}, "q=100 disagrees with X-RateLimit-Limit 500"),
        ({"ratelimit-policy": "500;w=300"}, "not an IETF structured item"),
        ({"ratelimit": '"other";r=499;t=1'}, 'names policy "other"'),
        ({"x-ratelimit-reset": str(int(NOW) + 90)}, "is not now + RateLimit t"),
        ({"ratelimit": '"workspace";r=499;t=900'}, "longer than the policy's whole refill window"),
    ],
)
def test_each_quota_incoherence_is_named(override: dict[str, str], complaint: str) -> None:
    problems, quota = quota_problems(200, quota_headers(**override), b"")
    assert quota is None
    assert any(complaint in p for p in problems), problems


def test_quota_headers_are_required_except_before_auth() -> None:
    assert quota_problems(200, {"date": formatdate(NOW, usegmt=True)}, b"")[0]
    assert quota_problems(401, {}, b"") == ([], None)
    assert quota_problems(413, {}, b"") == ([], None)


def test_429_needs_retry_after_matching_retry_after_ms_and_zero_remaining() -> None:
    good = quota_headers(remaining=0, seconds_to_full=300, **{"retry-after": "1"})
    assert quota_problems(429, good, error_body("rate_limited", retry_after_ms=600))[0] == []
    late = quota_headers(remaining=0, seconds_to_full=300, **{"retry-after": "5"})
    assert any("rounded up" in p for p in quota_problems(429, late, error_body("rate_limited", retry_after_ms=600))[0])
    assert any("retry_after_ms" in p for p in quota_problems(429, good, error_body("rate_limited"))[0])


def test_well_formed_error_envelope_passes() -> None:
    headers = {"x-request-id": "req_abc123", "content-type": "application/json"}
    assert envelope_problems(404, headers, error_body("booking_not_found", param="id")) == []


@pytest.mark.parametrize(
    ("status", "headers", "body", "complaint"),
    [
        (404, {"x-request-id": "req_abc123", "content-type": "application/json"}, error_body("booking_not_found", "req_other1"),
         "differs from X-Request-Id"),
        (404, {"content-type": "application/json"}, error_body("booking_not_found"), "X-Request-Id header is missing"),
        (409, {"x-request-id": "req_abc123", "content-type": "application/json"}, error_body("booking_not_found"),
         "belongs with HTTP 404, not 409"),
        (400, {"x-request-id": "req_abc123", "content-type": "application/problem+json"}, error_body("invalid_request"),
         "errors are application/json"),
        (400, {"x-request-id": "req_abc123", "content-type": "application/json"}, b'{"detail": "bad"}', "is not {\"error\""),
        (400, {"x-request-id": "req_abc123", "content-type": "application/json"}, error_body("bad_thing"), "not a documented ErrorCode"),
        (401, {"x-request-id": "req_abc123", "content-type": "application/json"}, error_body("auth_invalid"), "WWW-Authenticate"),
        (405, {"x-request-id": "req_abc123", "content-type": "application/json"}, error_body("method_not_allowed"), "Allow header"),
        (400, {"x-request-id": "req_abc123", "content-type": "application/json"}, error_body("invalid_request", retry_after_ms=5),
         "belongs to rate_limited only"),
    ],
)
def test_each_envelope_defect_is_named(status: int, headers: dict[str, str], body: bytes, complaint: str) -> None:
    problems = envelope_problems(status, headers, body)
    assert any(complaint in p for p in problems), problems


def test_content_type_must_be_the_documented_media_type_exactly() -> None:
    assert content_type_problems(200, {"content-type": "application/json"}, ["application/json"]) == []
    assert content_type_problems(200, {"content-type": "text/calendar; charset=utf-8"}, ["text/calendar"]) == []
    assert content_type_problems(200, {"content-type": "application/json; charset=utf-8"}, ["application/json"])
    assert content_type_problems(200, {"content-type": "text/plain"}, ["text/calendar"])
    assert content_type_problems(404, {"content-type": "text/html"}, [])


def test_error_code_table_matches_the_contracts_error_codes() -> None:
    assert set(STATUS_OF_ERROR_CODE) == set(Contract.load().error_codes)


def test_contract_routes_concrete_paths_to_operations() -> None:
    contract = Contract.load()
    assert contract.operation("PATCH", "/v1/bookings/bk_1").operation_id == "updateBooking"  # type: ignore[union-attr]
    assert contract.operation("DELETE", "/v1/bookings") is None
    assert contract.methods_of("/v1/bookings/bk_1/cancel") == {"POST"}


@pytest.mark.parametrize("given", ["https://api.litehq.com", "https://api.litehq.com/", "https://api.litehq.com/v1", "https://api.litehq.com/v1/"])
def test_base_url_accepts_a_trailing_v1(given: str) -> None:
    assert normalize_base_url(given) == "https://api.litehq.com"


def test_no_conformance_module_imports_mock_server() -> None:
    """The suite knows a deployment only through HTTP: no module of conformance/ imports mock_server."""
    offenders = []
    for path in (REPO_ROOT / "conformance").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(REPO_ROOT)}: {n}" for n in names if n.split(".")[0] == "mock_server"]
    assert offenders == []


def test_loading_every_conformance_module_leaves_mock_server_unimported() -> None:
    """Importing the whole suite (Schemathesis hooks included) does not pull mock_server in indirectly."""
    modules = sorted(
        ".".join(p.relative_to(REPO_ROOT).with_suffix("").parts)
        for p in (REPO_ROOT / "conformance").rglob("*.py") if p.name != "__main__.py"
    )
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "assert 'mock_server' not in sys.modules, 'mock_server was imported'\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
