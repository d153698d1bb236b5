"""Every code of the contract's ErrorCode has exactly one error class with the documented status."""

import re
from pathlib import Path

import yaml

from mock_server.domain import errors

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "components" / "schemas" / "ErrorCode.yaml"
CONTROL_ONLY = {"workspace_not_found", "checkout_not_pending", "no_show_not_allowed", "event_not_found", "webhook_not_found",
                "webhook_not_configured"}


def contract_codes() -> dict[str, int]:
    document = yaml.safe_load(CONTRACT.read_text())
    table = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", document["description"], re.M))
    assert set(table) == set(document["enum"])
    return {code: int(status) for code, status in table.items()}


def test_error_classes_cover_contract_codes_with_statuses():
    by_code = {cls.code: cls.status for cls in errors.all_error_classes()}
    assert {c: s for c, s in by_code.items() if c not in CONTROL_ONLY} == contract_codes()


def test_error_codes_are_unique_per_class():
    codes = [cls.code for cls in errors.all_error_classes()]
    assert len(codes) == len(set(codes))


def test_envelope_with_param_includes_param():
    body = errors.InvalidRequest("bad", param="limit").envelope("req_1")
    assert body == {"error": {"code": "invalid_request", "message": "bad", "request_id": "req_1", "param": "limit"}}


def test_rate_limited_envelope_carries_retry_after_ms_and_header():
    exc = errors.RateLimited(retry_after_ms=1200)
    assert exc.envelope("req_1")["error"]["retry_after_ms"] == 1200
    assert exc.headers["Retry-After"] == "2"


def test_auth_invalid_names_bearer_scheme():
    assert errors.AuthInvalid().headers["WWW-Authenticate"].startswith("Bearer")


def test_method_not_allowed_lists_allow():
    assert errors.MethodNotAllowed(allow=["GET", "PATCH"]).headers["Allow"] == "GET, PATCH"
