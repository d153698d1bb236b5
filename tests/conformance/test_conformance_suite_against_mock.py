"""The whole conformance suite passes against a fresh mock, within its bounds, and says clearly when it cannot run."""
from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conformance_harness import DEMO_TOKEN, KNOWN_FINDINGS, REPO_ROOT, MockProcess, free_port, unexpected_failures

from conformance.outcome import ERROR, FAILED, SKIPPED, RunResult
from conformance.report import print_summary, write_reports
from conformance.runner import run
from conformance.settings import AREAS, Settings

SEED = 20260522
MAX_SECONDS = 90
MAX_REQUESTS = 4000


def _summary(result: RunResult) -> str:
    out = io.StringIO()
    print_summary(result, out, None)
    return out.getvalue()


@pytest.fixture(scope="module")
def verdict(mock_server: MockProcess, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    report_dir = tmp_path_factory.mktemp("conformance-report")
    settings = Settings(base_url=mock_server.url, token=DEMO_TOKEN, report_dir=report_dir, seed=SEED, quiet=True)
    result = run(settings, stream=io.StringIO())
    write_reports(result, report_dir)
    return result, report_dir


def test_suite_passes_against_a_fresh_mock(verdict: tuple[RunResult, Path]) -> None:
    result, _ = verdict
    assert result.aborted is None and not unexpected_failures(result), _summary(result)


def test_every_area_runs_against_the_mock_with_nothing_skipped(verdict: tuple[RunResult, Path]) -> None:
    """With the control API the demo token alone unlocks every scenario: a skip here is lost coverage."""
    result, _ = verdict
    assert [a.area for a in result.areas] == list(AREAS)
    skipped = [f"{o.area}/{o.name}: {o.reason}" for a in result.areas for o in a.outcomes if o.status == SKIPPED]
    assert skipped == []
    assert all(a.outcomes for a in result.areas)


def test_suite_stays_within_its_time_and_request_bounds(verdict: tuple[RunResult, Path]) -> None:
    result, _ = verdict
    assert result.duration_s < MAX_SECONDS, _summary(result)
    assert result.requests < MAX_REQUESTS


def test_reports_hold_every_outcome_in_junit_html_and_markdown(verdict: tuple[RunResult, Path]) -> None:
    result, report_dir = verdict
    suites = ET.parse(report_dir / "junit.xml").getroot()
    assert {s.get("name") for s in suites} == set(AREAS)
    assert sum(int(s.get("tests", 0)) for s in suites) == sum(len(a.outcomes) for a in result.areas)
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    # Self-contained: styles inline, nothing fetched from elsewhere.
    assert "<style>" in page and not any(tag in page for tag in ("<script", "<link", " src="))
    for area in result.areas:
        assert all(o.name in page for o in area.outcomes)
    assert (report_dir / "report.md").read_text(encoding="utf-8").startswith("# LiteHQ Calendar API conformance")


@pytest.mark.parametrize("scenario", sorted(KNOWN_FINDINGS) or ["(none)"])
def test_known_findings_still_fail_against_the_mock(verdict: tuple[RunResult, Path], scenario: str) -> None:
    """A known finding that starts passing must leave KNOWN_FINDINGS, so the list never hides a regression."""
    if scenario == "(none)":
        pytest.skip("the mock has no known findings")
    result, _ = verdict
    outcome = next(o for a in result.areas for o in a.outcomes if o.name == scenario)
    assert outcome.status in (FAILED, ERROR), f"{scenario} passes now; remove it from KNOWN_FINDINGS ({KNOWN_FINDINGS[scenario]})"


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)


def test_dead_server_gives_a_clear_message_and_exit_status_2(tmp_path: Path) -> None:
    started = time.monotonic()
    done = _cli("--base-url", f"http://127.0.0.1:{free_port()}", "--token", DEMO_TOKEN, "--report-dir", str(tmp_path), "--quiet")
    assert done.returncode == 2
    assert "cannot reach http://127.0.0.1:" in done.stdout and "Is BASE_URL right and the server up?" in done.stdout
    assert time.monotonic() - started < 20
    assert ET.parse(tmp_path / "junit.xml").getroot().find(".//error") is not None


def test_refused_token_gives_exit_status_2_naming_token(mock_server: MockProcess, tmp_path: Path) -> None:
    done = _cli("--base-url", mock_server.url, "--token", "sk_test_never_issued", "--report-dir", str(tmp_path), "--quiet")
    assert done.returncode == 2
    assert "TOKEN was refused" in done.stdout


def test_help_names_every_input_the_issue_lists() -> None:
    done = _cli("--help")
    assert done.returncode == 0
    for name in ("BASE_URL", "TOKEN", "READONLY_TOKEN", "OTHER_TOKEN", "NOSTRIPE_TOKEN", "RATE_LIMIT_TOKEN", "PROFILE", "MAX_EXAMPLES", "safe"):
        assert name in done.stdout


def test_missing_base_url_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "conformance"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "--base-url (BASE_URL) and --token (TOKEN) are required" in done.stderr


def test_without_control_api_or_tokens_scenarios_skip_naming_the_input_that_enables_them(tmp_path: Path) -> None:
    """Against a deployment with no control API and only TOKEN, what cannot run is skipped, and says why."""
    mock = MockProcess(tmp_path / "mock.log").start()
    try:
        settings = Settings(base_url=mock.url, token=DEMO_TOKEN, use_control=False, member_id="mem_alice",
                            areas=("auth", "rate_limits", "lifecycle"), report_dir=tmp_path, quiet=True)
        result = run(settings, stream=io.StringIO())
    finally:
        mock.stop()
    reasons = {o.name: o.reason for a in result.areas for o in a.outcomes if o.status == SKIPPED}
    assert "READONLY_TOKEN=" in reasons["test_read_only_token_cannot_create_a_booking"]
    assert "OTHER_TOKEN=" in reasons["test_booking_of_another_workspace_is_404_for_get_patch_and_cancel"]
    assert "RATE_LIMIT_TOKEN=" in reasons["test_exhausted_bucket_gives_429_rate_limited_with_retry_after"]
    assert "control API" in reasons["test_unpaid_booking_expires_after_the_checkout_window_and_frees_its_slot"]
    assert unexpected_failures(result) == [], _summary(result)
    assert "test_cancelled_booking_cannot_be_cancelled_again" not in reasons
