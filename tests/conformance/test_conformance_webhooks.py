"""The webhook area: against a mock it registers its own receiver; with WEBHOOK_LISTEN it receives what the
operator registered; without either it skips, naming the inputs; a wrong secret is a failure, not a skip."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from conformance_harness import DEMO_TOKEN, MockProcess, free_port

from conformance.outcome import FAILED, PASSED, SKIPPED
from conformance.runner import run
from conformance.scenarios import scenarios_of
from conformance.settings import Settings, parse_listen

SECRET = "whsec_conformanceListen1"


def _outcomes(result) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {o.name: o for a in result.areas for o in a.outcomes}


def test_listen_mode_receives_what_the_operator_registered(tmp_path: Path) -> None:
    port = free_port()
    mock = MockProcess(tmp_path / "mock.log", ("--webhook-url", f"http://127.0.0.1:{port}/hooks/litehq", "--webhook-secret", SECRET,
                                               "--webhook-base-delay", "0.1")).start()
    try:
        good = run(Settings(base_url=mock.url, token=DEMO_TOKEN, areas=("webhooks",), report_dir=tmp_path / "good", quiet=True,
                            webhook_listen=f"127.0.0.1:{port}", webhook_secret=SECRET), stream=io.StringIO())
        wrong = run(Settings(base_url=mock.url, token=DEMO_TOKEN, areas=("webhooks",), report_dir=tmp_path / "wrong", quiet=True,
                             webhook_listen=f"127.0.0.1:{port}", webhook_secret="whsec_notTheOne", webhook_wait_s=5,
                             only=("test_every_delivery_is_signed_with_the_endpoint_secret",)), stream=io.StringIO())
    finally:
        mock.stop()
    assert {name: o.status for name, o in _outcomes(good).items()} == {s.name: PASSED for s in scenarios_of("webhooks")}
    signed = _outcomes(wrong)["test_every_delivery_is_signed_with_the_endpoint_secret"]
    assert signed.status == FAILED, signed.reason and "is not HMAC-SHA256(secret, raw body)" in signed.reason
    assert "litehq-signature:" in signed.evidence[0].request


def test_without_a_receiver_or_control_api_the_area_skips_naming_its_inputs(mock_server: MockProcess, tmp_path: Path) -> None:
    result = run(Settings(base_url=mock_server.url, token=DEMO_TOKEN, areas=("webhooks",), use_control=False, report_dir=tmp_path,
                          quiet=True), stream=io.StringIO())
    outcomes = _outcomes(result)
    assert outcomes and all(o.status == SKIPPED for o in outcomes.values())
    assert all("WEBHOOK_LISTEN=host:port and WEBHOOK_SECRET=whsec_" in o.reason for o in outcomes.values())


def test_webhook_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="WEBHOOK_LISTEN needs WEBHOOK_SECRET"):
        Settings(base_url="http://127.0.0.1:1", token="t", webhook_listen="127.0.0.1:9000")
    with pytest.raises(ValueError, match="HOST:PORT"):
        Settings(base_url="http://127.0.0.1:1", token="t", webhook_listen="nowhere", webhook_secret=SECRET)
    assert parse_listen("9000") == ("127.0.0.1", 9000)
    assert parse_listen("0.0.0.0:9001") == ("0.0.0.0", 9001)
    assert parse_listen("[::1]:9002") == ("::1", 9002)
