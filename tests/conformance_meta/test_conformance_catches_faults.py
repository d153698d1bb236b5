"""Proof that the suite bites: each injected fault makes the matching area fail, with evidence a person can act on."""
from __future__ import annotations

import io
from pathlib import Path

import conformance_harness as harness
import pytest
from fault_proxy import ProxyServer

from conformance.generated import run_generated
from conformance.outcome import ERROR, FAILED, PASSED, Outcome, RunResult
from conformance.report import print_summary
from conformance.runner import run
from conformance.settings import Settings

SEED = 20260522
# fault switch → (area it belongs to, scenarios that must fail because of it)
FAULTS: dict[str, tuple[str, set[str]]] = {
    "forge_error_request_id": ("errors", {"test_unknown_route_is_404_not_found", "test_unknown_booking_is_404_booking_not_found",
                                          "test_body_over_1_mb_is_413_payload_too_large"}),
    "method_not_allowed_as_not_found": ("errors", {"test_wrong_method_is_405_with_allow_listing_the_routes_methods"}),
    "promote_readonly_token": ("auth", {"test_read_only_token_cannot_create_a_booking", "test_read_only_token_cannot_update_a_booking",
                                        "test_read_only_token_cannot_cancel_a_booking"}),
    "drop_www_authenticate": ("auth", {"test_missing_token_is_401_auth_invalid_with_www_authenticate", "test_unknown_token_is_401_auth_invalid"}),
    "duplicate_across_pages": ("pagination", {"test_walk_with_any_limit_lists_each_booking_once_ordered_by_start_then_id",
                                              "test_walk_stays_exact_while_bookings_are_inserted"}),
    "drop_item_across_pages": ("pagination", {"test_walk_with_any_limit_lists_each_booking_once_ordered_by_start_then_id",
                                              "test_status_and_room_filters_return_exactly_the_matching_bookings"}),
    "offset_pagination": ("pagination", {"test_walk_stays_exact_while_bookings_are_inserted", "test_tampered_cursor_is_400_invalid_request"}),
    "rewrite_idempotency_key": ("idempotency", {"test_replay_returns_the_same_status_body_and_id_with_idempotent_replayed_true",
                                                "test_same_key_with_another_body_is_409_idempotency_conflict",
                                                "test_concurrent_creates_with_one_key_make_one_booking"}),
    "drop_replay_flag": ("idempotency", {"test_replay_returns_the_same_status_body_and_id_with_idempotent_replayed_true",
                                         "test_patch_replay_returns_the_stored_response"}),
    "drop_rate_limit_headers": ("rate_limits", {"test_every_response_carries_coherent_rate_limit_headers_errors_included",
                                                "test_policy_advertises_a_500_burst_refilled_over_300_seconds"}),
    "freeze_remaining": ("rate_limits", {"test_remaining_falls_by_one_per_request"}),
    "ietf_disagrees": ("rate_limits", {"test_every_response_carries_coherent_rate_limit_headers_errors_included"}),
    "expired_reported_as_pending": ("lifecycle", {"test_unpaid_booking_expires_after_the_checkout_window_and_frees_its_slot"}),
    "full_refund_on_partial": ("lifecycle", {"test_cancel_refunds_follow_the_policy_full_partial_none"}),
    "hide_bookings_from_busy": ("availability", {"test_busy_lists_pending_and_confirmed_bookings_and_free_is_the_rest"}),
    "feed_status_always_confirmed": ("availability", {"test_feed_has_one_vevent_per_visible_booking_with_its_status"}),
    "wrong_webhook_signature": ("webhooks", {"test_every_delivery_is_signed_with_the_endpoint_secret"}),
    "drop_webhook_event": ("webhooks", {"test_each_transition_delivers_its_event_at_least_once"}),
    "malformed_webhook_payload": ("webhooks", {"test_every_payload_matches_the_contracts_webhook_schema_and_its_headers"}),
    "reorder_webhook_events": ("webhooks", {"test_events_of_each_booking_arrive_in_the_order_they_happened"}),
}
# The rate-limit area's drain scenarios sleep through retry windows; header faults need only these.
RATE_LIMIT_HEADER_SCENARIOS = ("test_policy_advertises_a_500_burst_refilled_over_300_seconds",
                               "test_every_response_carries_coherent_rate_limit_headers_errors_included",
                               "test_remaining_falls_by_one_per_request", "test_reset_is_when_the_bucket_would_be_full_again")


def _settings(deployment: ProxyServer, tmp_path: Path, **overrides: object) -> Settings:
    base = dict(base_url=deployment.url, token=harness.DEMO_TOKEN, report_dir=tmp_path, seed=SEED, quiet=True, member_id="mem_alice",
                max_examples=3, generated_phases=("examples", "fuzzing"), webhook_wait_s=3.0)
    return Settings(**{**base, **overrides})  # type: ignore[arg-type]


def _failed(result: RunResult) -> dict[str, Outcome]:
    return {o.name: o for a in result.areas for o in a.outcomes if o.status in (FAILED, ERROR)}


def _summary(result: RunResult) -> str:
    out = io.StringIO()
    print_summary(result, out, None)
    return out.getvalue()


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_makes_its_area_fail(faulty_deployment: ProxyServer, tmp_path: Path, fault: str) -> None:
    area, must_fail = FAULTS[fault]
    faulty_deployment.proxy.switch(fault)
    only = RATE_LIMIT_HEADER_SCENARIOS if area == "rate_limits" else ()
    result = run(_settings(faulty_deployment, tmp_path, areas=(area,), only=only), stream=io.StringIO())
    failed = _failed(result)
    assert result.exit_code == 1, _summary(result)
    assert must_fail <= set(failed), f"{fault}: expected {sorted(must_fail - set(failed))} to fail\n{_summary(result)}"
    for name in must_fail:
        outcome = failed[name]
        assert outcome.status == FAILED, f"{name} errored instead of naming the broken rule: {outcome.reason}"
        evidence = outcome.evidence[0]
        assert evidence.message and evidence.request and evidence.response, f"{name}: the report lacks request or response"
        assert "HTTP " in evidence.response


def test_no_fault_means_every_area_passes_through_the_proxy(faulty_deployment: ProxyServer, tmp_path: Path) -> None:
    """The proxy alone changes nothing the suite checks: every failure above is the fault's doing."""
    faulty_deployment.proxy.switch()
    areas = tuple(sorted({area for area, _ in FAULTS.values()}))
    result = run(_settings(faulty_deployment, tmp_path, areas=areas), stream=io.StringIO())
    assert result.aborted is None and harness.unexpected_failures(result) == [], _summary(result)


def test_forged_error_request_id_fails_our_check_but_passes_plain_schemathesis(faulty_deployment: ProxyServer, tmp_path: Path) -> None:
    """request_id ≠ X-Request-Id is schema-valid, so Schemathesis' built-in checks pass it; our check does not."""
    faulty_deployment.proxy.switch("forge_error_request_id")
    ours = run(_settings(faulty_deployment, tmp_path / "ours", areas=("generated",)), stream=io.StringIO())
    rules = {e.rule.split(":")[0] for o in _failed(ours).values() for e in o.evidence}
    assert "error_envelope_and_request_id" in rules, _summary(ours)
    assert any("differs from X-Request-Id" in e.message for o in _failed(ours).values() for e in o.evidence)

    settings = _settings(faulty_deployment, tmp_path / "plain", areas=("generated",))
    from conformance.contract import Contract
    from conformance.control import MockControl
    from conformance.http import Deployment
    from conformance.world import World

    deployment = Deployment(settings.base_url, settings.token)
    try:
        world = World(settings, deployment, Contract.load(), MockControl.discover(settings.base_url))
        plain = run_generated(settings, world, lambda _: None, our_checks=False)
    finally:
        deployment.close()
    noticed = [e.rule for o in plain.outcomes for e in o.evidence if "request_id" in e.message or "X-Request-Id" in e.message]
    assert plain.outcomes and noticed == [], f"plain Schemathesis noticed the forged id after all: {noticed}"
    assert any(o.status == PASSED for o in plain.outcomes)


def test_schema_break_fails_the_generated_area_through_schemathesis_own_checks(faulty_deployment: ProxyServer, tmp_path: Path) -> None:
    faulty_deployment.proxy.switch("list_without_next_cursor")
    result = run(_settings(faulty_deployment, tmp_path, areas=("generated",)), stream=io.StringIO())
    rules = {e.rule.split(":")[0] for o in _failed(result).values() for e in o.evidence}
    assert "response_schema_conformance" in rules, _summary(result)


def test_safe_profile_sends_only_reads_and_leaves_the_mock_alone(faulty_deployment: ProxyServer, tmp_path: Path) -> None:
    faulty_deployment.proxy.switch()
    result = run(_settings(faulty_deployment, tmp_path, profile="safe", generated_phases=("examples", "coverage", "fuzzing", "stateful")),
                 stream=io.StringIO())
    assert result.aborted is None and harness.unexpected_failures(result) == [], _summary(result)
    sent = set(faulty_deployment.proxy.methods_seen)
    writes = sorted((m, p) for m, p in sent if m not in ("GET", "HEAD"))
    assert writes == [], f"PROFILE=safe sent {writes[:10]}"
    assert any(p.startswith("/v1/bookings") for _, p in sent)


def test_suite_paces_itself_under_a_small_bucket_and_never_gets_429(faulty_deployment: ProxyServer, tmp_path: Path) -> None:
    """With a 20-token bucket refilled at 20/s, scenarios and Schemathesis read the headers and wait: no request is refused."""
    import httpx

    control = f"{faulty_deployment.url}/_mock"
    httpx.post(f"{control}/reset", timeout=10).raise_for_status()
    httpx.patch(f"{control}/workspaces/ws_demo", json={"rate_limit": {"capacity": 20, "refill_per_minute": 1200}}, timeout=10).raise_for_status()
    faulty_deployment.proxy.switch()
    try:
        # --no-control: the suite must not widen the bucket itself, as it does when it drives the mock.
        result = run(_settings(faulty_deployment, tmp_path, areas=("generated", "errors", "idempotency"), use_control=False),
                     stream=io.StringIO())
    finally:
        httpx.post(f"{control}/reset", timeout=10).raise_for_status()
    refused = [(m, p) for m, p, status in faulty_deployment.proxy.statuses_seen if status == 429]
    assert len(faulty_deployment.proxy.statuses_seen) > 60, "too few requests to have tested the pacing"
    assert refused == [], f"{len(refused)} requests got 429, e.g. {refused[:3]}"
    assert result.aborted is None and harness.unexpected_failures(result) == [], _summary(result)


def test_parallel_burst_waits_for_room_in_the_bucket_instead_of_meeting_429(faulty_deployment: ProxyServer, tmp_path: Path) -> None:
    """Eight simultaneous creates on a nearly empty bucket: the suite waits for room first, so no 429 and no offence."""
    import httpx

    control = f"{faulty_deployment.url}/_mock"
    httpx.post(f"{control}/reset", timeout=10).raise_for_status()
    httpx.patch(f"{control}/workspaces/ws_demo", json={"rate_limit": {"capacity": 12, "refill_per_minute": 240}}, timeout=10).raise_for_status()
    faulty_deployment.proxy.switch()
    try:
        for _ in range(9):
            httpx.get(f"{faulty_deployment.url}/v1/rooms", headers={"Authorization": f"Bearer {harness.DEMO_TOKEN}"}, timeout=10)
        result = run(_settings(faulty_deployment, tmp_path, areas=("idempotency",), use_control=False,
                               only=("test_concurrent_creates_with_one_key_make_one_booking",)), stream=io.StringIO())
    finally:
        httpx.post(f"{control}/reset", timeout=10).raise_for_status()
    refused = [(m, p) for m, p, status in faulty_deployment.proxy.statuses_seen if status == 429]
    assert refused == [], f"{len(refused)} requests got 429: the burst was sent into an empty bucket"
    assert result.exit_code == 0, _summary(result)
