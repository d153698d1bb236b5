"""Runs the areas in order against one deployment, with a live progress line, and collects the verdict."""
from __future__ import annotations

import sys
import time
import traceback
from datetime import UTC, datetime
from typing import TextIO

from conformance.contract import Contract
from conformance.control import ControlError, MockControl
from conformance.generated import run_generated
from conformance.http import Deployment, DeploymentUnreachable, RequestBudgetExhausted
from conformance.outcome import ERROR, FAILED, PASSED, SKIPPED, AreaResult, Evidence, Outcome, RunResult
from conformance.scenario import RuleBroken, Scenario, ScenarioSkipped
from conformance.scenarios import scenarios_of
from conformance.settings import Settings
from conformance.world import World

# While the suite runs against the mock, the main workspace gets a bucket big enough that pacing
# never slows it down; the rate-limit area puts the documented policy back and checks it.
ROOMY_BUCKET = {"capacity": 100_000, "refill_per_minute": 100_000}


class Progress:
    """One live line per area: rewritten in place on a terminal, printed once per area elsewhere."""

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.live = stream.isatty()
        self.area = ""
        self._last = 0.0

    def start(self, area: str, total: int | None) -> None:
        self.area = area
        if not self.quiet and not self.live:
            self.stream.write(f"▸ {area:<13} running{f' {total} scenarios' if total else ''}…\n")
            self.stream.flush()

    def update(self, text: str) -> None:
        if self.quiet or not self.live or time.monotonic() - self._last < 0.1:
            return
        self._last = time.monotonic()
        self.stream.write(f"\r\x1b[K▸ {self.area:<13} {text[:100]}")
        self.stream.flush()

    def finish(self, result: AreaResult) -> None:
        if self.quiet:
            return
        mark = "✗" if result.failed else "✓"
        line = (f"{mark} {result.area:<13} {result.count(PASSED):>3} passed  {result.count(FAILED) + result.count(ERROR):>3} failed  "
                f"{result.count(SKIPPED):>3} skipped  {result.duration_s:6.1f}s")
        self.stream.write(("\r\x1b[K" if self.live else "") + line + "\n")
        self.stream.flush()


def run(settings: Settings, stream: TextIO = sys.stdout) -> RunResult:
    """One conformance run: preflight, then every selected area, then tidy-up of what it created."""
    started = time.monotonic()
    result = RunResult(settings.base_url, settings.profile, started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    progress = Progress(stream, settings.quiet)
    contract = Contract.load(settings.spec)
    deployment = Deployment(settings.base_url, settings.token, timeout_s=settings.timeout_s, max_requests=settings.max_requests)
    control = None
    world = None
    try:
        if not _preflight(deployment, result):
            return result
        control = MockControl.discover(settings.base_url) if settings.use_control else None
        world = World(settings, deployment, contract, control)
        world.calibrate_clock(deployment.log.last)  # type: ignore[arg-type]
        _describe_inputs(world, result)
        for area in settings.areas:
            if time.monotonic() - started > settings.max_time_s:
                result.areas.append(_skipped_area(area, f"the run's time budget (--max-time {settings.max_time_s:.0f}s) ran out"))
                continue
            area_result = _run_area(area, world, progress, started)
            result.areas.append(area_result)
            progress.finish(area_result)
            if area_result.notes and area_result.notes[-1].startswith("aborted:"):
                result.aborted = area_result.notes[-1].removeprefix("aborted: ")
                break
        if control is None and world.created:
            result.notes.append(f"the suite created {len(world.created)} bookings; those it did not cancel stay "
                                "pending_payment until their checkout window expires them")
        elif control is not None and not settings.safe:
            # Leave the mock as the suite found it after a reset: fixture state, wall clock, default buckets.
            control.set_clock(datetime.now(UTC), frozen=False)
            control.reset()
            result.notes.append("the mock was reset to its fixture and wall clock after the run")
        if deployment.unexpected_429s:
            result.notes.append(f"{deployment.unexpected_429s} request(s) met an unexpected 429 (another client of the workspace?); "
                                "the suite waited retry_after_ms and retried once")
    finally:
        if world is not None:
            world.close()
        result.requests = deployment.requests_sent + sum(a.requests for a in result.areas if a.area == "generated")
        result.duration_s = time.monotonic() - started
        deployment.close()
        if control is not None:
            control.close()
    return result


def _preflight(deployment: Deployment, result: RunResult) -> bool:
    """Fail fast and clearly when the deployment is down or the token is refused."""
    try:
        reply = deployment.request("GET", "/v1/rooms", params={"limit": 1})
    except DeploymentUnreachable as exc:
        result.aborted = f"cannot reach {deployment.base_url}: {exc}. Is BASE_URL right and the server up?"
        return False
    if reply.status == 401:
        result.aborted = f"TOKEN was refused: GET /v1/rooms answered 401 {reply.error_code or ''}. Pass a valid read+write token as TOKEN."
        return False
    if reply.status != 200:
        result.aborted = (f"GET {deployment.base_url}/v1/rooms answered HTTP {reply.status} "
                          f"({reply.body[:120]!r}); is BASE_URL a LiteHQ Calendar API origin?")
        return False
    return True


def _describe_inputs(world: World, result: RunResult) -> None:
    settings = world.settings
    if world.control is None:
        result.notes.append("mock control API: not found (lifecycle and rate-limit scenarios that need it are skipped)"
                            if settings.use_control else "mock control API: not used (--no-control)")
        return
    result.notes.append(f"mock control API found at {settings.base_url}/_mock: "
                        + ("not used under PROFILE=safe" if settings.safe else "state reset before each area"))
    try:
        _borrow_tokens(world)
    except ControlError as exc:
        result.notes.append(f"could not list workspaces through the control API: {exc}")
    for name in ("readonly_token", "other_token", "nostripe_token", "revoked_token"):
        if getattr(world, name) and not getattr(settings, name):
            result.notes.append(f"{name.upper()} taken from the control API")


def _borrow_tokens(world: World) -> None:
    """Fill in the optional tokens the operator did not pass from the workspaces the mock lists."""
    assert world.control is not None
    workspaces = world.control.workspaces()
    main = next((w for w in workspaces if any(t.get("token") == world.settings.token for t in w.tokens)), None)
    others = [w for w in workspaces if w is not main]
    read, write = {"calendar:read"}, {"calendar:read", "calendar:write"}
    if main is not None:
        world.readonly_token = world.readonly_token or main.token(scopes=read)
        world.revoked_token = world.revoked_token or main.token(scopes=write, revoked=True) or main.token(scopes=read, revoked=True)
    world.other_token = world.other_token or next((w.token(scopes=write) for w in others if w.stripe_onboarded and w.token(scopes=write)), None)
    world.nostripe_token = world.nostripe_token or next((w.token(scopes=write) for w in others if not w.stripe_onboarded and w.token(scopes=write)), None)


def _prepare_mock(world: World, area: str, result: AreaResult) -> None:
    control = world.control
    if control is None or world.settings.safe:
        return
    # Reset leaves the mock clock alone, and the lifecycle area moves it days ahead: put it back on
    # the wall clock first, so quota headers and Date agree and the fixture's relative times are fresh.
    control.set_clock(datetime.now(UTC), frozen=False)
    control.reset()
    if area != "rate_limits":
        workspace = control.workspace_of(world.settings.token)
        if workspace is not None:
            control.configure_workspace(workspace.id, rate_limit=ROOMY_BUCKET)


def _run_area(area: str, world: World, progress: Progress, run_started: float) -> AreaResult:
    area_started = time.monotonic()
    sent_before = world.deployment.requests_sent
    if area == "generated":
        progress.start(area, None)
        try:
            result = AreaResult(area)
            _prepare_mock(world, area, result)
            world.begin_area()
            result = run_generated(world.settings, world, progress.update)
        except (DeploymentUnreachable, RequestBudgetExhausted, ControlError) as exc:
            result = AreaResult(area, [Outcome(area, "schemathesis", "Schemathesis runs the contract", ERROR, str(exc))])
        result.duration_s = time.monotonic() - area_started
        return result

    scenarios = [s for s in scenarios_of(area) if not world.settings.only or s.name in world.settings.only]
    result = AreaResult(area)
    progress.start(area, len(scenarios))
    try:
        _prepare_mock(world, area, result)
        world.begin_area()
    except (ControlError, DeploymentUnreachable) as exc:
        result.outcomes = [Outcome(area, s.name, s.rule, ERROR, f"could not prepare the mock: {exc}") for s in scenarios]
        result.duration_s = time.monotonic() - area_started
        return result
    for index, item in enumerate(scenarios, 1):
        if time.monotonic() - run_started > world.settings.max_time_s:
            result.outcomes.append(Outcome(area, item.name, item.rule, SKIPPED, f"the run's time budget (--max-time {world.settings.max_time_s:.0f}s) ran out"))
            continue
        passed = result.count(PASSED)
        failed = result.count(FAILED) + result.count(ERROR)
        progress.update(f"{index}/{len(scenarios)}  ✓{passed} ✗{failed}  {item.name}")
        outcome = _run_scenario(item, world)
        result.outcomes.append(outcome)
        if outcome.status == ERROR and outcome.reason.startswith(("deployment stopped answering", "request cap")):
            result.notes.append("aborted: " + outcome.reason)
            break
    result.duration_s = time.monotonic() - area_started
    result.requests = world.deployment.requests_sent - sent_before
    return result


def _run_scenario(item: Scenario, world: World) -> Outcome:
    outcome = Outcome(item.area, item.name, item.rule, PASSED)
    world.deployment.log.clear()
    started = time.monotonic()
    try:
        # Inside the guard: deciding a need may itself ask the deployment (finding a member).
        missing = [need for need in item.needs if not world.has(need)]
        if missing:
            raise ScenarioSkipped("; ".join(sorted({world.skip_reason(n) for n in missing})))
        item.run(world)
    except RuleBroken as broken:
        outcome.status = FAILED
        outcome.reason = broken.message
        outcome.evidence.append(Evidence.from_exchange(item.rule, broken.message, broken.exchange or world.deployment.log.last))
    except ScenarioSkipped as skipped:
        outcome.status, outcome.reason = SKIPPED, str(skipped)
    except DeploymentUnreachable as exc:
        outcome.status, outcome.reason = ERROR, f"deployment stopped answering: {exc}"
    except RequestBudgetExhausted as exc:
        outcome.status, outcome.reason = ERROR, f"request cap: {exc}"
    except ControlError as exc:
        outcome.status, outcome.reason = ERROR, f"the mock control API refused a call: {exc}"
    except Exception as exc:  # noqa: BLE001 - a bug in a scenario must not hide the other results
        outcome.status = ERROR
        outcome.reason = f"the scenario itself crashed ({type(exc).__name__}: {exc})"
        outcome.evidence.append(Evidence.from_exchange(item.rule, traceback.format_exc(limit=4), world.deployment.log.last))
    outcome.duration_s = time.monotonic() - started
    return outcome


def _skipped_area(area: str, reason: str) -> AreaResult:
    names = [(s.name, s.rule) for s in scenarios_of(area)] if area != "generated" else [("schemathesis", "Schemathesis runs the contract")]
    return AreaResult(area, [Outcome(area, name, rule, SKIPPED, reason) for name, rule in names])
